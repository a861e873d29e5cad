"""`anzen vulns import|fetch|check`: feeds into the CVE store, and what applies to one product.

- ``import PATH...``: files, archives (gz, xz, bz2, zip) and directories (USB media on closed networks).
  Exit 1 when a file failed or records had errors (the rest is imported).
- ``fetch``: NVD CVE API 2.0 and MyJVN, incremental and resumable (`anzen.vulns.fetch`). Exit 1 when the
  run was interrupted (run the command again to resume).
- ``check CPE23_NAME``: the CVEs that apply to one product and version, with confidence, score, label and
  the reason. Exit 1 for a name that is not a CPE 2.3 formatted string.
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
from typing import Any

from anzen.cli.base import CliError, add_json_flag, cli_context, emit


def register(commands: Any) -> None:
    """Add the feed subcommands to `anzen vulns`."""
    from django.utils.translation import gettext as _

    parser = commands.add_parser(
        "import", help=_("CVE フィード（ファイル・フォルダ）を取り込む"),
        description=_("NVD（JSON 1.1・2.0・API 応答）、CVE JSON 5、JVN iPedia（MyJVN の XML・JSON）のファイル、"
                      "圧縮ファイル（gz・xz・bz2・zip）、フォルダを取り込みます。壊れたファイルからは何も取り込みません。"))
    parser.add_argument("paths", nargs="+", metavar="PATH", help=_("ファイルまたはフォルダ"))
    add_json_flag(parser)
    parser.set_defaults(handler=import_run)

    parser = commands.add_parser(
        "fetch", help=_("NVD・MyJVN の API から CVE を取得する（差分・再開可能）"),
        description=_("前回の取得以降に更新された CVE を取得します（初回は全件）。NVD の API キーは環境変数 "
                      "NVD_API_KEY で指定します。中断した取得は、もう一度実行すると続きから再開します。"))
    parser.add_argument("--source", choices=["nvd", "jvn", "all"], default="all", help=_("取得元（既定: all）"))
    parser.add_argument("--since", metavar="YYYY-MM-DD", help=_("この日以降に更新されたものを取得する"))
    parser.add_argument("--full", action="store_true", help=_("前回の取得にかかわらず全件を取得する"))
    add_json_flag(parser)
    parser.set_defaults(handler=fetch_run)

    parser = commands.add_parser(
        "check", help=_("製品とバージョン（CPE 2.3 名）に該当する CVE を表示する"),
        description=_("取り込んだ CVE のうち、指定した製品・バージョンに該当するものを、確度・CVSS 基本値・"
                      "深刻度・理由とともに表示します。"))
    parser.add_argument("cpe23", metavar="CPE23_NAME", help=_("例: cpe:2.3:o:fortinet:fortios:6.0.4:*:*:*:*:*:*:*"))
    add_json_flag(parser)
    parser.set_defaults(handler=check_run)


def _import_row(item: Any) -> dict[str, Any]:
    return {"name": item.name, "source": item.source, "format": item.fmt, "status": item.status, **item.counts(),
            "error": item.error, "messages": list(item.messages or [])[:10]}


def import_run(args: argparse.Namespace) -> int:
    from django.utils.translation import gettext as _

    from anzen.vulns import services_feeds
    from anzen.vulns.feeds.records import FeedError

    with cli_context("vulns-import"):
        try:
            results = services_feeds.import_paths(paths=args.paths, actor_label="cli")
        except FeedError as error:
            raise CliError(str(error)) from None
    files = [_import_row(item) for item in results]
    totals = {key: sum(row[key] for row in files) for key in ("new", "updated", "unchanged", "skipped", "errors")}
    data = {**totals, "files": files}

    def human(value: dict[str, Any]) -> str:
        lines = [services_feeds.summary(item) for item in results]
        lines += [f"  {row['error']}" for row in files if row["error"]]
        lines.append(_("合計: 新規 %(new)s、更新 %(updated)s、変更なし %(unchanged)s、スキップ %(skipped)s、"
                       "エラー %(errors)s") % value)
        return "\n".join(lines)

    emit(args, data, human)
    for row in files:
        if row["error"]:
            print(row["error"], file=sys.stderr)
    return 1 if totals["errors"] or not files else 0


def fetch_run(args: argparse.Namespace) -> int:
    from django.utils.translation import gettext as _

    from anzen.vulns import fetch

    since = None
    if args.since:
        try:
            since = dt.datetime.fromisoformat(args.since).replace(tzinfo=dt.UTC)
        except ValueError:
            raise CliError(_("--since は YYYY-MM-DD の形式で指定してください: %(value)s") % {
                "value": args.since}) from None
    runs, failures = [], []
    sources = ["nvd", "jvn"] if args.source == "all" else [args.source]
    with cli_context("vulns-fetch"):
        for source in sources:
            function = fetch.fetch_nvd if source == "nvd" else fetch.fetch_jvn
            try:
                runs.append((source, function(since=since, full=args.full, actor_label="cli")))
            except fetch.FetchError as error:
                failures.append(f"{source}: {error}")
    # the runs returned are the saved rows, counts included: no need to read them again
    rows = [{"source": source, "status": run.status, **run.counts(), "pages": run.cursor.get("pages", 0)}
            for source, run in runs]
    data = {"runs": rows, "errors": failures}

    def human(value: dict[str, Any]) -> str:
        return "\n".join(_("%(source)s: 新規 %(new)s、更新 %(updated)s、変更なし %(unchanged)s、スキップ %(skipped)s、"
                           "エラー %(errors)s（%(pages)s ページ）") % row for row in value["runs"])

    emit(args, data, human)
    for message in failures:
        print(message, file=sys.stderr)
    return 1 if failures else 0


def check_run(args: argparse.Namespace) -> int:
    from django.utils.translation import gettext as _

    from anzen.vulns import engine, severity
    from anzen.vulns.models import Cve

    try:
        hits = engine.check(args.cpe23)
    except ValueError as error:
        raise CliError(str(error)) from None
    rows = {row["cve_id"]: row for row in Cve.objects.filter(cve_id__in=[hit.cve_id for hit in hits]).values(
        "cve_id", "base_score", "score_version", "score_source", "severity", "v2_only", "kev", "title_ja")}
    results = []
    for hit in hits:
        row = rows.get(hit.cve_id, {})
        key = row.get("severity", "")
        results.append({
            "cve_id": hit.cve_id, "confidence": hit.confidence,
            "score": float(row["base_score"]) if row.get("base_score") is not None else None,
            "score_version": row.get("score_version", ""), "score_source": row.get("score_source", ""),
            "v2_only": row.get("v2_only", False), "severity": key, "label": severity.label_ja(key),
            "label_en": severity.label_en(key), "kev": row.get("kev", False), "title_ja": row.get("title_ja", ""),
            "reason": hit.reason, "requires_platform": list(hit.requires_platform), "origin": hit.origin,
        })
    confidence_names = {engine.CONFIRMED: _("確定"), engine.POSSIBLE: _("可能性あり"), engine.MANUAL: _("要手動確認")}

    def human(data: list[dict[str, Any]]) -> str:
        if not data:
            return _("該当する CVE はありません（取り込んだ CVE %(count)s 件を照合）。") % {
                "count": Cve.objects.count()}
        lines = []
        for item in data:
            score = "-" if item["score"] is None else f"{item['score']:.1f}"
            kev = " KEV" if item["kev"] else ""
            lines.append(f"{item['cve_id']:<16} {item['label']:<4} {score:>4}{kev}  "
                         f"{confidence_names.get(item['confidence'], item['confidence'])}")
            lines.append(f"    {item['reason']}")
        return "\n".join(lines)

    emit(args, results, human)
    return 0
