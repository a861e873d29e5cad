"""Workbooks in the layout of the MHLW 医療機関確認用 form, generated for the tests."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

from openpyxl import Workbook

HOSPITAL_ROWS: list[list[Any]] = [
    ["医療機関におけるサイバーセキュリティ対策チェックリスト"],
    ["医療機関確認用"],
    [],
    [None, "チェック項目", "確認結果（日付）"],
    [
        "医療情報システムの有無",
        "医療情報システムを導入、運用している。(「いいえ」の場合、以下すべての項目は確認不要)",
        "はい・いいえ",
    ],
    ["○ 令和8年度中"],
    ["*以下項目は令和8年度中にすべての項目で「はい」にマルが付くよう取り組んでください。"],
    [None, "チェック項目", "1回目", "目標日", "2回目"],
    ["1 体制構築", "(1) 医療情報システム安全管理責任者を設置している。", "はい・いいえ"],
    ["2 医療情報システムの管理・運用", "医療情報システム全般について、以下を実施している。"],
    [None, "(1) サーバ、端末PC、ネットワーク機器の台帳管理を行っている。", "はい・いいえ"],
    [None, "サーバについて、以下を実施している。"],
    [None, "(4) 利用者の職種・担当業務別の情報区分毎のアクセス利用権限を設定している。", "はい・いいえ"],
    [None, "端末PCについて、以下を実施している。"],
    [None, "（4） 利用者の職種・担当業務別の情報区分毎のアクセス利用権限を設定している。", "はい・いいえ"],
    [
        "3 インシデント発生に備えた対応",
        "(1) インシデント発生時における組織内と外部関係機関(事業者、厚生労働省、警察等)"
        "への連絡体制図がある。",
        "はい・いいえ",
    ],
]
EXPECTED_IDS = ["H-0", "H-1-1", "H-2-1", "H-2-4-server", "H-2-4-pc", "H-3-1"]


def workbook_bytes(
    rows: list[list[Any]] | None = None, *, sheet: str = "医療機関確認用", formula_at: str | None = None
) -> bytes:
    book = Workbook()
    worksheet = book.active
    worksheet.title = sheet
    for row in HOSPITAL_ROWS if rows is None else rows:
        worksheet.append(row)
    if formula_at:
        worksheet[formula_at] = '=CONCATENATE("(2) ","式で作った項目")'
    book.create_sheet("別のシート").append(["メモ"])
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def write_workbook(path: Path, **kwargs: Any) -> Path:
    path.write_bytes(workbook_bytes(**kwargs))
    return path
