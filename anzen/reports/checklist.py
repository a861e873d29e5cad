"""A filled checklist as the official form prints it (pure data, no ORM).

`assessments.exports` builds a `ChecklistDocument` from an assessment; the Excel and PDF writers
(`checklist_xlsx`, `checklist_pdf`) draw it in the layout of its form, and `checklist_read` reads such
a workbook back. Four layouts:

- INSTITUTION — MHLW 医療機関確認用: title, 医療情報システムの有無 row, blocks (○ 令和5年度中 /
  ○ 参考項目) with their instruction lines, チェック項目 with section/group headings and (n) numbers,
  1回目 / 目標日 / 2回目;
- VENDOR — MHLW 事業者確認用: the same plus 備考 and 事業者名;
- MDS — JAHIS MDS/SDS: header fields (製造業者, 作成日, 製品名称, バージョン), はい/いいえ/対象外 (or
  該当/非該当) and 備考 per item, guideline references after the text as the form prints them;
- CHECKSHEET — HISPRO: 項目分類, 確認内容, エビデンス例 | 確認者記入欄 (回答, 対応策, エビデンス) |
  評価者記入欄 (評価結果, コメント).

Texts on the forms are the forms' own (Japanese), not UI strings.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from enum import StrEnum


class LayoutKind(StrEnum):
    INSTITUTION = "institution"
    VENDOR = "vendor"
    MDS = "mds"
    CHECKSHEET = "checksheet"

    @property
    def has_rounds(self) -> bool:
        return self in (LayoutKind.INSTITUTION, LayoutKind.VENDOR)


# Labels printed on the forms (seed 003 and seed 000).
CHECK_ITEM = "チェック項目"
RESULT_WITH_DATE = "確認結果（日付）"
ROUND1, TARGET, ROUND2 = "1回目", "目標日", "2回目"
REMARKS = "備考"
COUNTERMEASURE = "対応策"
EVIDENCE = "エビデンス"
NODE_ID = "項目ID"
ANSWER_DATE = "確認日"
ANSWER = "回答"
ANZEN_COLUMNS = "Anzen 記入欄（印刷対象外）"
PLACEHOLDER_YES_NO = "はい・いいえ"
VENDOR_NAME = "事業者名"
UNVERIFIED_MARK = "※"
UNVERIFIED_LEGEND = "※ 本文が公式資料と照合できていない項目です（Anzen ライブラリの注記を参照）。"
NO_TEXT = "（本文未収録）"


@dataclass(frozen=True)
class Option:
    value: str
    label: str


@dataclass
class ItemRow:
    node_id: str
    ref: str  # official ref, e.g. "2(4)", "4.1.1"; may be empty (items whose number is not known)
    number: str  # as printed at the start of the text: "(4)", "4.1.1", "" for bullets
    text: str  # the text as printed (MDS: with its guideline references)
    official: bool = True  # False: marked ※ (text not verified against the source)
    depth: int = 0
    options: tuple[Option, ...] = ()
    section: str = ""  # label of the enclosing section ("2 医療情報システムの管理・運用")
    group: str = ""  # text of the enclosing group ("サーバについて、以下を実施している。")
    category: str = ""  # checksheet 項目分類
    evidence_examples: str = ""
    round1_value: str = ""
    round1_date: dt.date | None = None
    target_date: dt.date | None = None
    round2_value: str = ""
    round2_date: dt.date | None = None
    remarks: str = ""
    countermeasure: str = ""
    evidence: tuple[str, ...] = ()
    review_result: str = ""
    review_comment: str = ""
    status: str = "required"  # rules.ItemStatus value

    @property
    def answerable(self) -> bool:
        return bool(self.options)

    def label(self, value: str) -> str:
        return next((option.label for option in self.options if option.value == value), value)


@dataclass
class HeadingRow:
    level: str  # "block" (○ 令和5年度中), "section", "group"
    text: str
    ref: str = ""
    instructions: tuple[str, ...] = ()
    depth: int = 0


Row = ItemRow | HeadingRow


@dataclass
class ChecklistDocument:
    layout: LayoutKind
    title: str  # 医療機関におけるサイバーセキュリティ対策チェックリスト
    form_title: str  # 医療機関確認用 / 事業者確認用 / the MDS form's title
    edition_key: str
    edition_title: str
    institution: str
    respondent: str
    fiscal_year: int
    subject_label: str = ""
    status: str = ""
    assessment_id: int | None = None
    form_node_id: str = ""
    header_fields: tuple[tuple[str, str], ...] = ()
    gating: ItemRow | None = None
    rows: list[Row] = field(default_factory=list)
    footer_lines: tuple[str, ...] = ()
    exported_on: dt.date | None = None
    submitted_on: dt.date | None = None
    signed_off: str = ""

    @property
    def items(self) -> list[ItemRow]:
        found = [self.gating] if self.gating else []
        return found + [row for row in self.rows if isinstance(row, ItemRow)]

    @property
    def short_title(self) -> str:
        """The form's name in lists, headers and file names (the MDS/SDS form's own title is long)."""
        return "MDS/SDS" if self.layout == LayoutKind.MDS else self.form_title

    @property
    def has_unverified(self) -> bool:
        return any(not item.official for item in self.items)


def display_text(item: ItemRow) -> str:
    """The item's printed text with its number, and ※ when the text is not verified."""
    text = f"{item.number} {item.text}".strip() if item.number else item.text
    return f"{text}{UNVERIFIED_MARK}" if not item.official else text
