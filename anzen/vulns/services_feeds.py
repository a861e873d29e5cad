"""Importing feeds into the CVE store (writes).

- One file (or zip member, or API page) is one `FeedImport` and one transaction: a malformed or truncated
  file raises a Japanese `FeedError` and leaves nothing of itself behind (its FeedImport row records the
  failure). Directories are imported file by file.
- Records are merged per source (`feeds.merge`): new / updated / unchanged / skipped (older than what the
  store holds); an updated row's previous state goes to `CveRevision`. Re-importing the same data changes
  nothing.
- Writes are batched (`BATCH` records): one query finds the rows that exist, new rows are bulk-created
  with their match index, updated rows are updated one by one (few in practice). The CVE store is public
  data and is not audited per row: each import writes one audit entry.
- Python's cyclic garbage collector is paused while a file is imported: feed records have no reference
  cycles, and the collector otherwise runs thousands of times over the parsed document (about half of
  the parse time of a large feed).
"""

from __future__ import annotations

import gc
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

from django.db import connections, models, router, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from anzen.common import audit
from anzen.common.models import AuditEntry
from anzen.vulns import severity
from anzen.vulns.feeds import index, merge, readers
from anzen.vulns.feeds.records import JVN, FeedError, SourceRecord, to_datetime
from anzen.vulns.models import Cve, CveProduct, CveRevision, FastJSONField, FeedImport, JsonText, JvnAdvisory

BATCH = 2000
MAX_MESSAGES = 100
Progress = Callable[[FeedImport], None]


def import_paths(*, paths: Iterable[str | Path], actor_label: str = "",
                 progress: Progress | None = None) -> list[FeedImport]:
    """Import files, archives and directories; one FeedImport per feed document (failed ones included).

    Raises FeedError only when a path does not exist or an archive cannot be opened at all."""
    results = []
    for path in paths:
        for member in readers.members(Path(path)):
            feed_import = import_member(member=member, actor_label=actor_label)
            results.append(feed_import)
            if progress:
                progress(feed_import)
    return results


def import_bytes(*, name: str, data: bytes, source: str = "", kind: str = FeedImport.Kind.FILE,
                 actor_label: str = "", feed_import: FeedImport | None = None) -> FeedImport:
    """Import one document given as bytes (an API response page, an uploaded file)."""
    member = readers.member_from_bytes(name, data, source=source)
    return import_member(member=member, kind=kind, actor_label=actor_label, feed_import=feed_import)


def import_member(*, member: readers.Member, kind: str = FeedImport.Kind.FILE, actor_label: str = "",
                  feed_import: FeedImport | None = None) -> FeedImport:
    """Import one feed document atomically. An API run passes its own FeedImport and keeps it running; a
    FeedError then propagates to the caller (the page is rolled back, the run's counts are untouched)."""
    own = feed_import is None
    if feed_import is None:
        feed_import = FeedImport.objects.create(kind=kind, source=member.source[:1000], name=member.name[:255],
                                                sha256=member.sha256, size=member.size,
                                                actor_label=actor_label[:200])
    counts: Counter[str] = Counter()
    errors: list[str] = []
    formats: list[str] = []
    collecting = gc.isenabled()
    gc.disable()
    try:
        with transaction.atomic():
            _import_records(readers.records(member, errors=errors, formats=formats), feed_import, counts)
            counts["errors"] += len(errors)
            _finish(feed_import, counts, errors, formats, own=own, name=member.name)
    except FeedError as error:
        if not own:
            raise  # an API run's page: the fetcher decides (the run stays resumable), the page is rolled back
        with transaction.atomic():
            feed_import.status = FeedImport.Status.FAILED
            feed_import.error = str(error)
            feed_import.finished_at = timezone.now()
            feed_import.fmt = (formats[-1] if formats else "")[:20]
            feed_import.new = feed_import.updated = feed_import.unchanged = feed_import.skipped = 0
            feed_import.errors = 1
            feed_import.save()
            audit.record(AuditEntry.Action.IMPORT, obj=feed_import, message=_("フィード取込に失敗: %(error)s") % {
                "error": str(error)})
    finally:
        if collecting:
            gc.enable()
    return feed_import


def _finish(feed_import: FeedImport, counts: Counter[str], errors: list[str], formats: list[str], *, own: bool,
            name: str) -> None:
    for key in ("new", "updated", "unchanged", "skipped", "errors"):
        setattr(feed_import, key, getattr(feed_import, key) + counts[key] if not own else counts[key])
    feed_import.fmt = (formats[-1] if formats else feed_import.fmt)[:20]
    feed_import.messages = (list(feed_import.messages or []) + errors)[:MAX_MESSAGES]
    if own:
        feed_import.status = FeedImport.Status.OK
        feed_import.finished_at = timezone.now()
    feed_import.save()
    if own:
        audit.record(AuditEntry.Action.IMPORT, obj=feed_import, message=summary(feed_import, name=name))


def summary(feed_import: FeedImport, *, name: str = "") -> str:
    return _("%(name)s: 新規 %(new)s、更新 %(updated)s、変更なし %(unchanged)s、スキップ %(skipped)s、"
             "エラー %(errors)s") % {"name": name or feed_import.name, **feed_import.counts()}


def _batches(records: Iterator[SourceRecord]) -> Iterator[list[SourceRecord]]:
    batch: list[SourceRecord] = []
    for record in records:
        batch.append(record)
        if len(batch) >= BATCH:
            yield batch
            batch = []
    if batch:
        yield batch


def _import_records(records: Iterator[SourceRecord], feed_import: FeedImport, counts: Counter[str]) -> None:
    for batch in _batches(records):
        _apply_batch(batch, feed_import, counts)


def _apply_batch(batch: list[SourceRecord], feed_import: FeedImport, counts: Counter[str]) -> None:
    ids = list(dict.fromkeys(record.cve_id for record in batch))
    existing = {cve_id: (pk, sources or {}) for cve_id, pk, sources in
                Cve.objects.filter(cve_id__in=ids).values_list("cve_id", "id", "sources")}
    running: dict[str, dict[str, Any]] = {cve_id: dict(sources) for cve_id, (_pk, sources) in existing.items()}
    accepted: list[SourceRecord] = []
    for record in batch:
        outcome = merge.decide(running.get(record.cve_id), record)
        counts[outcome] += 1
        if outcome in (merge.NEW, merge.UPDATED):
            running.setdefault(record.cve_id, {})[merge.source_key(record)] = merge.stamp(record)
            accepted.append(record)
    _save_advisories([record for record in batch if record.source == JVN], feed_import)
    if not accepted:
        return
    touched = {record.cve_id for record in accepted if record.cve_id in existing}
    previous: dict[str, dict[str, Any]] = {}
    states: dict[str, merge.State] = {}
    if touched:
        for row in Cve.objects.filter(cve_id__in=sorted(touched)).values(
                "id", "cve_id", "record", "record_origin", "cve5", "jvn", "sources", "last_modified", "content_hash"):
            previous[row["cve_id"]] = row
            states[row["cve_id"]] = merge.State(row["cve_id"], row["record"] or {}, row["record_origin"],
                                                row["cve5"] or {}, row["jvn"] or {}, row["sources"] or {})
    for record in accepted:
        _outcome, states[record.cve_id] = merge.apply(states.get(record.cve_id), record)
    now = timezone.now()
    created = [cve_id for cve_id in states if cve_id not in existing]
    _create(created, states, feed_import)
    _update(sorted(touched), states, previous, accepted, feed_import, now)


def _record_value(state: merge.State) -> Any:
    return JsonText(state.record_json) if state.record_json is not None else state.record


def _create(cve_ids: list[str], states: dict[str, merge.State], feed_import: FeedImport) -> None:
    if not cve_ids:
        return
    now = timezone.now()
    _insert_rows(Cve, [{"cve_id": cve_id, "record": _record_value(states[cve_id]), "changed_by_id": feed_import.pk,
                        "created_at": now, "updated_at": now, **merge.derive(states[cve_id])} for cve_id in cve_ids])
    pks = dict(Cve.objects.filter(cve_id__in=cve_ids).values_list("cve_id", "id"))
    _insert_rows(CveProduct, [_product_fields(pks[cve_id], item) for cve_id in cve_ids
                              for item in index.products(states[cve_id])])


def _product_fields(pk: int, item: Any) -> dict[str, Any]:
    """One CveProduct row of a CVE's match index (`index.products`), by attribute name."""
    return {"cve_id": pk, "part": item.part, "vendor": item.vendor, "product": item.product, "origin": item.origin,
            "has_platform_condition": item.has_platform_condition, "manual_only": item.manual_only,
            "criteria": item.criteria}


def _converter(field: Any, connection: Any) -> Callable[[Any], Any] | None:
    operations = connection.ops
    if isinstance(field, FastJSONField):
        return lambda value: field.get_db_prep_value(value, connection)
    if isinstance(field, models.DateTimeField):
        return operations.adapt_datetimefield_value
    if isinstance(field, models.DateField):
        return operations.adapt_datefield_value
    if isinstance(field, models.DecimalField):
        digits, places = field.max_digits, field.decimal_places
        return lambda value: operations.adapt_decimalfield_value(value, digits, places)
    return None  # passed as is


def _insert_rows(model: Any, rows: list[dict[str, Any]]) -> None:
    """INSERT the rows (attribute name → Python value, defaults for the rest) without model instances: the
    per-object, per-field machinery of bulk_create was most of a large feed's import time."""
    if not rows:
        return
    connection = connections[router.db_for_write(model)]
    fields = [field for field in model._meta.concrete_fields if not field.primary_key]
    defaults = [field.get_default() for field in fields]
    converters = [_converter(field, connection) for field in fields]
    quote = connection.ops.quote_name
    # Table and column names come from the model (quoted), values are parameters: no user input in the SQL.
    sql = (f"INSERT INTO {quote(model._meta.db_table)} ({', '.join(quote(field.column) for field in fields)}) "  # noqa: S608
           f"VALUES ({', '.join(['%s'] * len(fields))})")
    names = [field.attname for field in fields]
    plan = list(zip(names, defaults, converters, strict=True))
    with connection.cursor() as cursor:
        for start in range(0, len(rows), 1000):
            cursor.executemany(sql, [tuple(
                row.get(name, default) if convert is None else convert(row.get(name, default))
                for name, default, convert in plan) for row in rows[start:start + 1000]])


def _update(cve_ids: list[str], states: dict[str, merge.State], previous: dict[str, dict[str, Any]],
            accepted: list[SourceRecord], feed_import: FeedImport, now: Any) -> None:
    if not cve_ids:
        return
    replaced_by = {record.cve_id: record.source for record in accepted}
    CveRevision.objects.bulk_create([CveRevision(
        cve_id=previous[cve_id]["id"], replaced_by=replaced_by.get(cve_id, ""),
        last_modified=previous[cve_id]["last_modified"], content_hash=previous[cve_id]["content_hash"],
        record=previous[cve_id]["record"] or {}, cve5=previous[cve_id]["cve5"] or {}, jvn=previous[cve_id]["jvn"] or {},
        sources=previous[cve_id]["sources"] or {}, feed_import=feed_import) for cve_id in cve_ids], batch_size=200)
    pks = [previous[cve_id]["id"] for cve_id in cve_ids]
    CveProduct.objects.filter(cve_id__in=pks).delete()
    products = []
    for cve_id in cve_ids:
        state, pk = states[cve_id], previous[cve_id]["id"]
        Cve.objects.filter(pk=pk).update(record=_record_value(state), changed_by=feed_import, updated_at=now,
                                         **merge.derive(state))
        products.extend(CveProduct(**_product_fields(pk, item)) for item in index.products(state))
    CveProduct.objects.bulk_create(products, batch_size=1000)


def _save_advisories(records: list[SourceRecord], feed_import: FeedImport) -> None:
    advisories = {record.key: record.advisory for record in records if record.advisory}
    if not advisories:
        return
    existing = {row.jvndb_id: row for row in JvnAdvisory.objects.filter(jvndb_id__in=list(advisories))}
    created = []
    for jvndb_id, advisory in advisories.items():
        fields = _advisory_fields(advisory)
        row = existing.get(jvndb_id)
        if row is None:
            created.append(JvnAdvisory(jvndb_id=jvndb_id, changed_by=feed_import, **fields))
        elif row.content_hash != fields["content_hash"] and (
                not row.last_updated or not fields["last_updated"] or fields["last_updated"] >= row.last_updated):
            JvnAdvisory.objects.filter(pk=row.pk).update(changed_by=feed_import, **fields)
    JvnAdvisory.objects.bulk_create(created, batch_size=500)  # a JVN feed brings thousands of new advisories


def _advisory_fields(advisory: dict[str, Any]) -> dict[str, Any]:
    entries = severity.entries(advisory["metrics"])
    v3 = next((entry for entry in entries if entry.version.startswith("3")), None)
    v2 = next((entry for entry in entries if entry.version == "2.0"), None)
    digest = merge.prepare(SourceRecord(JVN, advisory["jvndb_id"], "", advisory)).digest
    return {
        "title": advisory["title"][:500], "overview": advisory["overview"], "url": advisory.get("url", "")[:500],
        "cvss_v3_score": v3.value if v3 else None, "cvss_v3_vector": v3.vector[:200] if v3 else "",
        "cvss_v3_severity": next((item["cvssData"].get("baseSeverity", "") for key in ("cvssMetricV31", "cvssMetricV30")
                                  for item in advisory["metrics"].get(key, ())), "")[:20],
        "cvss_v2_score": v2.value if v2 else None, "cvss_v2_vector": v2.vector[:200] if v2 else "",
        "metrics": advisory["metrics"], "affected": advisory["affected"], "cve_ids": advisory["cve_ids"],
        "jvn_refs": advisory["jvn_refs"], "published": to_datetime(advisory.get("published", "")),
        "last_updated": to_datetime(advisory.get("last_updated", "")), "content_hash": digest,
    }


DEMO_DIR = Path(__file__).with_name("data") / "demo"


def import_demo_excerpt(*, actor_label: str = "demo") -> list[FeedImport]:
    """Import the bundled excerpt of real NVD and CVE 5 records for the demo ledger's products
    (data/demo/README.md). Idempotent: a second call finds every record unchanged."""
    results = import_paths(paths=[DEMO_DIR], actor_label=actor_label)
    failed = [item for item in results if item.status != FeedImport.Status.OK]
    if failed:
        raise FeedError(failed[0].error)
    return results
