"""Assessments: a library edition (or one form of it) answered for a subject and a fiscal year.

Who sees what: the institution owns the assessment; the respondent organisation (the institution
itself, or a vendor asked for its 事業者確認用 or MDS/SDS) answers it; an evaluator organisation may be
asked to review it. Those three are the only organisations that ever see it (see `scope_rule`).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from anzen.accounts.models import Organisation
from anzen.common.models import TimeStampedModel
from anzen.common.permissions import ScopeRule
from anzen.library.models import Edition, RequirementNode


class SubjectKind(models.TextChoices):
    INSTITUTION = "institution", _("医療機関確認用")
    VENDOR = "vendor", _("事業者確認用")
    SYSTEM = "system", _("MDS/SDS（システム・製品）")
    CHECKSHEET = "checksheet", _("チェックシート（第三者評価）")


class Status(models.TextChoices):
    DRAFT = "draft", _("作成中")
    SUBMITTED = "submitted", _("提出済み")
    IN_REVIEW = "in_review", _("確認中")
    RETURNED = "returned", _("差戻し")
    ACCEPTED = "accepted", _("受理")
    SIGNED_OFF = "signed_off", _("承認済み")


class Assessment(TimeStampedModel):
    institution = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="assessments",
                                    verbose_name=_("医療機関等"))
    respondent = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="assessments_to_answer",
                                   verbose_name=_("回答者"))
    evaluator = models.ForeignKey(Organisation, on_delete=models.PROTECT, null=True, blank=True,
                                  related_name="assessments_to_review", verbose_name=_("評価者"))
    edition = models.ForeignKey(Edition, on_delete=models.PROTECT, related_name="assessments",
                                verbose_name=_("チェックリスト"))
    # The form answered (e.g. the 医療機関確認用 node of the MHLW checklist); empty = the whole edition.
    form = models.ForeignKey(RequirementNode, on_delete=models.PROTECT, null=True, blank=True,
                             related_name="+", verbose_name=_("様式"))
    subject_kind = models.CharField(_("種類"), max_length=12, choices=SubjectKind.choices)
    subject_label = models.CharField(_("対象"), max_length=200, blank=True,
                                     help_text=_("MDS/SDS の製品名・バージョンなど"))
    fiscal_year = models.PositiveIntegerField(_("年度"))
    status = models.CharField(_("状態"), max_length=12, choices=Status.choices, default=Status.DRAFT)
    due_date = models.DateField(_("提出期限"), null=True, blank=True)
    # Facts the form's rules depend on, e.g. {"no_vendor_contract": true} (2(2), 2(3) need no answer).
    conditions = models.JSONField(_("前提条件"), default=dict, blank=True)
    copied_from = models.ForeignKey("self", on_delete=models.SET_NULL, null=True, blank=True, related_name="+",
                                    verbose_name=_("複写元"))
    submitted_at = models.DateTimeField(_("提出日時"), null=True, blank=True)
    signed_off_at = models.DateTimeField(_("承認日時"), null=True, blank=True)
    signed_off_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
                                      related_name="+", verbose_name=_("承認者"))
    signed_off_name = models.CharField(_("承認者名"), max_length=200, blank=True)
    signed_off_role = models.CharField(_("承認者の役割"), max_length=40, blank=True)

    scope_rule = ScopeRule(owner="institution", shared=("respondent", "evaluator"))

    class Meta:
        ordering = ["-fiscal_year", "institution__name", "subject_kind", "subject_label"]
        indexes = [models.Index(fields=["institution", "fiscal_year"]), models.Index(fields=["respondent", "status"])]
        verbose_name = _("評価")
        verbose_name_plural = _("評価")

    def __str__(self) -> str:
        label = self.subject_label or self.respondent.name
        return f"{self.fiscal_year}年度 {self.get_subject_kind_display()} {label}"

    @property
    def is_read_only(self) -> bool:
        return self.status == Status.SIGNED_OFF

    @property
    def signed_off_role_label(self) -> str:
        from anzen.accounts.roles import Role

        role = self.signed_off_role
        return str(Role(role).label) if role in Role.values else role

    @property
    def signer(self) -> str:
        """「経営層 院長 一郎」: the role's label and the name recorded at sign-off."""
        return " ".join(part for part in (self.signed_off_role_label, self.signed_off_name) if part)


class Answer(TimeStampedModel):
    """One item's answer over the form's rounds (1回目 / 目標日 / 2回目) with what it carries."""

    class Review(models.TextChoices):
        PENDING = "", _("未確認")
        ACCEPTED = "accepted", _("確認済み")
        RETURNED = "returned", _("差戻し")

    assessment = models.ForeignKey(Assessment, on_delete=models.CASCADE, related_name="answers")
    node = models.ForeignKey(RequirementNode, on_delete=models.PROTECT, related_name="answers",
                             verbose_name=_("項目"))
    round1_value = models.CharField(_("1回目"), max_length=20, blank=True)
    round1_date = models.DateField(_("1回目の確認日"), null=True, blank=True)
    target_date = models.DateField(_("目標日"), null=True, blank=True)
    round2_value = models.CharField(_("2回目"), max_length=20, blank=True)
    round2_date = models.DateField(_("2回目の確認日"), null=True, blank=True)
    remarks = models.TextField(_("備考"), blank=True)
    countermeasure = models.TextField(_("対応策"), blank=True)
    effective_date = models.DateField(_("エビデンスの基準日"), null=True, blank=True)
    # Where an accepted suggestion came from (answer once): edition, ref, subject, respondent, date.
    provenance = models.JSONField(_("回答の出所"), default=dict, blank=True)
    review_status = models.CharField(_("評価結果"), max_length=10, choices=Review.choices, blank=True)
    answered_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
                                    related_name="+", verbose_name=_("回答者"))

    scope_rule = ScopeRule(owner="assessment__institution",
                           shared=("assessment__respondent", "assessment__evaluator"))

    class Meta:
        ordering = ["assessment", "node__position"]
        constraints = [models.UniqueConstraint(fields=["assessment", "node"], name="one_answer_per_item")]
        verbose_name = _("回答")
        verbose_name_plural = _("回答")

    def __str__(self) -> str:
        return f"{self.assessment_id}:{self.node.ref}"

    @property
    def final_value(self) -> str:
        """The latest answer given: 2回目 when present, otherwise 1回目."""
        return self.round2_value or self.round1_value


class Evidence(TimeStampedModel):
    """A file (stored outside the web root, by its SHA-256, served only as a download) or a link."""

    class Kind(models.TextChoices):
        FILE = "file", _("ファイル")
        LINK = "link", _("リンク")

    answer = models.ForeignKey(Answer, on_delete=models.CASCADE, related_name="evidence")
    kind = models.CharField(_("種類"), max_length=5, choices=Kind.choices)
    title = models.CharField(_("名称"), max_length=300)
    url = models.URLField(_("URL"), max_length=1000, blank=True)
    original_name = models.CharField(_("ファイル名"), max_length=255, blank=True)
    sha256 = models.CharField(_("SHA-256"), max_length=64, blank=True, db_index=True)
    size = models.PositiveBigIntegerField(_("サイズ"), default=0)
    content_type = models.CharField(_("形式"), max_length=100, blank=True)
    effective_date = models.DateField(_("基準日"), null=True, blank=True)
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
                                    related_name="+", verbose_name=_("登録者"))

    scope_rule = ScopeRule(owner="answer__assessment__institution",
                           shared=("answer__assessment__respondent", "answer__assessment__evaluator"))

    class Meta:
        ordering = ["answer", "created_at"]
        verbose_name = _("エビデンス")
        verbose_name_plural = _("エビデンス")

    def __str__(self) -> str:
        return self.title


class ReviewComment(TimeStampedModel):
    """The per-item thread between the reviewer and the respondent."""

    class Result(models.TextChoices):
        COMMENT = "comment", _("コメント")
        ACCEPT = "accept", _("確認")
        RETURN = "return", _("差戻し")

    answer = models.ForeignKey(Answer, on_delete=models.CASCADE, related_name="comments")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    organisation = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="+")
    result = models.CharField(_("評価結果"), max_length=10, choices=Result.choices, default=Result.COMMENT)
    text = models.TextField(_("コメント"), blank=True)

    scope_rule = ScopeRule(owner="answer__assessment__institution",
                           shared=("answer__assessment__respondent", "answer__assessment__evaluator"))

    class Meta:
        ordering = ["answer", "created_at"]
        verbose_name = _("評価コメント")
        verbose_name_plural = _("評価コメント")

    def __str__(self) -> str:
        return f"{self.get_result_display()}: {self.text[:40]}"


class AssessmentEvent(models.Model):
    """The workflow history of an assessment as shown on screen and in the inspection pack.

    The audit trail records the same changes tamper-evidently; this table keeps them in the shape
    the screens need (who moved it from which state to which, with the comment) in one query.
    """

    assessment = models.ForeignKey(Assessment, on_delete=models.CASCADE, related_name="events")
    at = models.DateTimeField(auto_now_add=True)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+")
    actor_name = models.CharField(max_length=200, blank=True)
    organisation_name = models.CharField(max_length=200, blank=True)
    from_status = models.CharField(max_length=12, choices=Status.choices, blank=True)
    to_status = models.CharField(max_length=12, choices=Status.choices)
    comment = models.TextField(blank=True)

    scope_rule = ScopeRule(owner="assessment__institution", shared=("assessment__respondent", "assessment__evaluator"))

    class Meta:
        ordering = ["assessment", "at", "id"]

    def __str__(self) -> str:
        return f"{self.assessment_id}: {self.from_status} → {self.to_status}"
