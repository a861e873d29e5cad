"""Role × endpoint table: every URL pattern and API operation, requested as every role.

A view must be public, login-only or name its permission; a role gets 403 exactly where its
permissions say so. New parameterised URLs need a sample in SAMPLES, so nothing escapes the table.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from anzen.accounts import services
from anzen.accounts.models import Membership
from anzen.accounts.roles import OrgKind, Perm, Role, role_has
from anzen.api.urls import api
from anzen.common.permissions import Actor
from tests.conftest import login_as

ROLES = list(Role.values)


@dataclass
class Route:
    name: str
    pattern: URLPattern

    @property
    def view(self) -> Any:
        return self.pattern.callback


def _walk(patterns: list[Any], namespace: str = "", prefix: str = "") -> Iterator[Route]:
    for entry in patterns:
        if isinstance(entry, URLResolver):
            inner = f"{namespace}{entry.namespace}:" if entry.namespace else namespace
            yield from _walk(entry.url_patterns, inner, prefix + str(entry.pattern))
        elif isinstance(entry, URLPattern):
            yield Route(f"{namespace}{entry.name}" if entry.name else prefix + str(entry.pattern), entry)


def web_routes() -> list[Route]:
    return [r for r in _walk(get_resolver().url_patterns) if not r.name.startswith("api:")]


@dataclass
class Ctx:
    membership: Membership
    world: Any
    objects: dict[str, Any]


def _own_membership(ctx: Ctx) -> dict[str, Any]:
    return {"pk": ctx.membership.pk}


def _answer_once_assessment(ctx: Ctx) -> dict[str, Any]:
    return {"pk": ctx.objects["assessment"].pk}


def _core(ctx: Ctx, *, node: bool = False) -> dict[str, Any]:
    sample = ctx.objects["core"]
    return {"pk": sample["assessment"].pk, "node_pk": sample["node"].pk} if node else {"pk": sample["assessment"].pk}


_CORE_PAGES = ("detail", "hispro", "settings", "submit", "start_review", "return", "accept", "sign_off", "reopen")
_CORE_ITEMS = ("item", "answer_save", "evidence_upload", "evidence_link", "item_review", "item_comment")

SAMPLES: dict[str, Callable[[Ctx], dict[str, Any]]] = {
    "accounts:invitation_revoke": lambda ctx: {"pk": ctx.objects["invitation"].pk},
    "accounts:member_role": _own_membership,
    "accounts:member_mfa_reset": _own_membership,
    "accounts:api_token_revoke": lambda ctx: {"pk": ctx.objects["token"].pk},
    "accounts:invitation_accept": lambda ctx: {"token": "no-such-token"},
    "library:edition_detail": lambda ctx: {"pk": ctx.objects["edition"].pk},
    "library:node_detail": lambda ctx: {"pk": ctx.objects["edition"].nodes.first().pk},
    "common:object_history": lambda ctx: {"object_type": "accounts.organisation",
                                          "object_id": str(ctx.membership.organisation_id)},
    **{f"assessments:{name}": _answer_once_assessment for name in (
        "suggestions", "suggestion_confirm", "suggestion_reject", "copy_previous", "yoy", "crosscheck")},
    **{f"assessments:{name}": _core for name in _CORE_PAGES},
    **{f"assessments:{name}": lambda ctx: _core(ctx, node=True) for name in _CORE_ITEMS},
    "assessments:evidence_download": lambda ctx: {"pk": ctx.objects["core"]["evidence"].pk},
    "assessments:evidence_delete": lambda ctx: {"pk": ctx.objects["core"]["evidence"].pk},
    # FILES: downloads, the Excel import, the inspection pack (a queued job of the role's organisation)
    "assessments:export": lambda ctx: {"pk": ctx.objects["assessment"].pk, "fmt": "csv"},
    "assessments:import_upload": lambda ctx: {"pk": ctx.objects["assessment"].pk},
    "assessments:import_preview": lambda ctx: {"pk": ctx.objects["assessment"].pk},
    "assessments:pack_job": lambda ctx: {"job": ctx.objects["pack_job"].id},
    "assessments:pack_download": lambda ctx: {"job": ctx.objects["pack_job"].id, "kind": "pdf"},
    # SCAN: a scan of the hospital (the walk's empty POST registers nothing)
    "assets:scan_detail": lambda ctx: {"pk": ctx.objects["scan"].pk},
    "assets:scan_export": lambda ctx: {"pk": ctx.objects["scan"].pk, "fmt": "csv"},
    "assets:scan_register": lambda ctx: {"pk": ctx.objects["scan"].pk},
    # IMPORT: a saved column layout of the hospital (the walk's POST deletes it where allowed)
    "assets:import_profile_delete": lambda ctx: {"pk": ctx.objects["import_profile"].pk},
    # LEDGER: a device, system, software, media and disposal of the hospital (empty POSTs change nothing,
    # except that the software sample is deleted where allowed)
    **{f"assets:{name}": lambda ctx: {"pk": ctx.objects["ledger"]["device"].pk} for name in (
        "device_detail", "device_edit", "device_delete", "software_add")},
    "assets:software_delete": lambda ctx: {"pk": ctx.objects["ledger"]["software"].pk},
    "assets:system_detail": lambda ctx: {"pk": ctx.objects["ledger"]["system"].pk},
    "assets:system_edit": lambda ctx: {"pk": ctx.objects["ledger"]["system"].pk},
    **{f"assets:{name}": lambda ctx: {"pk": ctx.objects["ledger"]["media"].pk} for name in (
        "media_detail", "media_edit", "media_check_out", "media_return")},
    "assets:disposal_certificate": lambda ctx: {"pk": ctx.objects["ledger"]["disposal"].pk},
    "assets:disposal_certificate_upload": lambda ctx: {"pk": ctx.objects["ledger"]["disposal"].pk},
    # WATCH: a finding on the ledger's device, a notice to the test vendor with its answer (and file), a contract
    # and a watch item of the hospital (empty POSTs change nothing: the forms refuse them)
    **{f"vulns:{name}": lambda ctx: {"pk": ctx.objects["vulns"]["finding"].pk} for name in (
        "finding_detail", "finding_status")},
    "vulns:finding_export": lambda ctx: {"fmt": "csv"},
    "vulns:device": lambda ctx: {"pk": ctx.objects["ledger"]["device"].pk},
    "vulns:cve_detail": lambda ctx: {"cve_id": ctx.objects["vulns"]["finding"].cve_id},
    "vulns:watch_note": lambda ctx: {"pk": ctx.objects["vulns"]["watch"].software_id},
    **{f"vulns:{name}": lambda ctx: {"pk": ctx.objects["vulns"]["notice"].pk} for name in (
        "notice_detail", "notice_review", "notice_withdraw", "inbox_notice", "inbox_answer")},
    **{f"vulns:{name}": lambda ctx: {"pk": ctx.objects["vulns"]["response"].pk} for name in (
        "evidence", "inbox_evidence")},
    **{f"vulns:{name}": lambda ctx: {"pk": ctx.objects["vulns"]["contract"].pk} for name in (
        "contract_detail", "contract_edit")},
}


def test_every_view_is_public_login_only_or_names_its_permission() -> None:
    undeclared = [
        r.name for r in web_routes()
        if not (getattr(r.view, "is_public", False) or getattr(r.view, "login_only", False)
                or isinstance(getattr(r.view, "required_perm", None), Perm))
    ]
    assert undeclared == []


def test_every_parameterised_url_has_a_sample() -> None:
    missing = [r.name for r in web_routes() if r.pattern.pattern.converters and r.name not in SAMPLES
               and not getattr(r.view, "is_public", False)]
    assert missing == []


def _prepare(role: str, member_of_role: Callable[[str], Membership], world: Any) -> Ctx:
    membership = member_of_role(role)
    actor = Actor(membership.user, membership)
    objects: dict[str, Any] = {}
    objects["token"], _secret = services.api_token_create(actor=actor, name="t")
    admin = Membership.objects.filter(organisation=membership.organisation, role=Role.ADMIN).first()
    if admin is None:
        from tests.conftest import PASSWORD  # noqa: F401  (admin of the same organisation)

        admin = services.membership_add(
            user=services.user_create(username=f"adm-{role}", email=f"adm-{role}@example.test",
                                      display_name="adm", password="Admin-pass-2026!"),
            organisation=membership.organisation, role=Role.ADMIN)
    inviter = Actor(admin.user, admin)
    objects["invitation"], _token = services.invitation_create(actor=inviter, email="x@example.test",
                                                               role=Role.ADMIN)
    objects["edition"] = _library_sample()
    objects["assessment"] = _assessment_sample(world, objects["edition"])
    objects["core"] = _core_sample(world, objects["edition"])
    from anzen.assessments import pack  # FILES: a queued pack job (the walk's GETs only show its status)

    objects["pack_job"] = pack.job_create(actor=actor, institution=world.hospital, fiscal_year=2025)
    from anzen.assets.models import Scan  # SCAN: an (empty) imported scan of the hospital

    objects["scan"] = Scan.objects.create(institution=world.hospital, name="sample.xml", sha256="0" * 64)
    from anzen.assets.models import ImportProfile  # IMPORT: a saved column layout of the hospital

    objects["import_profile"] = ImportProfile.objects.create(
        institution=world.hospital, name="sample", settings={"columns": [{"header": "筐体名", "field": "hostname"}]})
    objects["ledger"] = _ledger_sample(world)  # LEDGER
    objects["vulns"] = _vulns_sample(world, objects["ledger"]["device"])  # WATCH
    return Ctx(membership, world, objects)


def _vulns_sample(world: Any, device: Any) -> dict[str, Any]:
    """WATCH: one CVE, a finding of it on the hospital's device, a contract with the test vendor, its notice
    answered with a file, and a watch item."""
    import datetime as dt

    from django.core.files.uploadedfile import SimpleUploadedFile
    from django.utils import timezone

    from anzen.vulns import notices
    from anzen.vulns.models import Cve
    from anzen.vulns.models_watch import Finding, Notice, VendorContract, WatchItem

    cve = Cve.objects.create(cve_id="CVE-2018-13379", base_score="9.8", severity="critical",
                             description_en="FortiOS path traversal")
    finding = Finding.objects.create(institution=world.hospital, device=device, device_label=device.hostname,
                                     cve_id=cve.cve_id, identity="cpe:2.3:o:fortinet:fortios:6.0.4:*:*:*:*:*:*:*",
                                     confidence="confirmed", reason="sample", score=cve.base_score,
                                     severity="critical", first_seen=timezone.now())
    contract = VendorContract.objects.create(institution=world.hospital, vendor=world.vendor, title="保守契約")
    today = timezone.localdate()
    notice = Notice.objects.create(institution=world.hospital, vendor=world.vendor, contract=contract,
                                   cve_id=cve.cve_id, level="report", score=cve.base_score, severity="critical",
                                   sent_on=today, report_due=today + dt.timedelta(days=14))
    notice.findings.add(finding)
    vendor = Membership.objects.filter(organisation=world.vendor, role=Role.VENDOR).first()
    if vendor is None:
        vendor = services.membership_add(
            user=services.user_create(username="vulns-vendor", email="vulns-vendor@example.test",
                                      display_name="v", password="Vendor-pass-2026!"),
            organisation=world.vendor, role=Role.VENDOR)
    response = notices.notice_answer(actor=Actor(vendor.user, vendor), notice=notice, affected="affected",
                                     countermeasure="更新します", scheduled_on=today,
                                     evidence=SimpleUploadedFile("plan.txt", b"plan\n", "text/plain"))
    from anzen.assets.models import Software

    monitor = Software.objects.create(device=device, name="ベッドサイドモニタ", no_cpe=True)
    watch = WatchItem.objects.create(institution=world.hospital, software=monitor, product=monitor.name)
    return {"cve": cve, "finding": finding, "contract": contract, "notice": notice, "response": response,
            "watch": watch}


def _ledger_sample(world: Any) -> dict[str, Any]:
    """LEDGER: one of each ledger object of the hospital; the disposal has its certificate file."""
    from anzen.assets.models import Device, Disposal, InformationSystem, PortableMedia, Software
    from anzen.assets.services_media import certificate_path

    system = InformationSystem.objects.create(institution=world.hospital, name="電子カルテ", category="ehr")
    device = Device.objects.create(institution=world.hospital, hostname="sample-pc", mac="00:11:22:33:44:55")
    device.systems.add(system)
    software = Software.objects.create(device=device, name="sample", no_cpe=True)
    media = PortableMedia.objects.create(institution=world.hospital, media_id="USB-1")
    sha = "5d" * 32
    path = certificate_path(sha)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"%PDF-1.4 sample")
    disposal = Disposal.objects.create(institution=world.hospital, description="HDD", disposed_on="2025-01-01",
                                       method="physical", performed_by="x", certificate_name="c.pdf",
                                       certificate_sha256=sha, certificate_size=15)
    return {"system": system, "device": device, "software": software, "media": media, "disposal": disposal}


def _core_sample(world: Any, edition: Any) -> dict[str, Any]:
    """A submitted vendor form with one answered item and a file: the walk's empty POSTs change nothing."""
    from anzen.assessments.models import Answer, Assessment, Evidence
    from anzen.assessments.services_evidence import evidence_path
    from anzen.library.models import AnswerSchema, RequirementNode

    schema, _new = AnswerSchema.objects.get_or_create(key="yes-no", defaults={
        "label": "はい／いいえ", "options": [{"value": "yes", "label": "はい"}, {"value": "no", "label": "いいえ"}]})
    node = RequirementNode.objects.create(edition=edition, node_id="2", urn="urn:anzen:sample:2", ref="2",
                                          text="回答する項目", answer_schema=schema, position=1)
    assessment = Assessment.objects.create(institution=world.hospital, respondent=world.vendor,
                                           evaluator=world.evaluator, edition=edition, subject_kind="vendor",
                                           subject_label="core", fiscal_year=2025, status="submitted")
    answer = Answer.objects.create(assessment=assessment, node=node, round1_value="yes")
    content = b"sample evidence\n"
    sha = "4c9a7f4b8b7c2a3f0e1d5c6b7a8f9e0d1c2b3a4f5e6d7c8b9a0f1e2d3c4b5a69"
    path = evidence_path(sha)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(content)
    evidence = Evidence.objects.create(answer=answer, kind="file", title="sample", original_name="sample.txt",
                                       sha256=sha, size=len(content), content_type="text/plain")
    return {"assessment": assessment, "node": node, "answer": answer, "evidence": evidence}


def _assessment_sample(world: Any, edition: Any) -> Any:
    """A vendor form of the hospital with an evaluator: every role's organisation takes part in it."""
    from anzen.assessments.models import Assessment

    return Assessment.objects.create(institution=world.hospital, respondent=world.vendor, evaluator=world.evaluator,
                                     edition=edition, subject_kind="vendor", fiscal_year=2025)


def _library_sample() -> Any:
    from anzen.library.models import Edition, Framework, RequirementNode

    framework = Framework.objects.create(key="sample", title="サンプル")
    edition = Edition.objects.create(framework=framework, key="sample@1", edition="1", title="サンプル版",
                                     content_hash="0" * 64)
    RequirementNode.objects.create(edition=edition, node_id="1", urn="urn:anzen:sample:1", ref="1",
                                   text="サンプル項目")
    return edition


def _expected_allowed(route: Route, membership: Membership) -> bool:
    perm = getattr(route.view, "required_perm", None)
    if perm is None:
        return True
    return role_has(membership.role, membership.organisation.kind, perm)


@pytest.mark.django_db
@pytest.mark.parametrize("role", ROLES)
def test_role_by_endpoint_table(role: str, client: Client, member_of_role, world) -> None:
    ctx = _prepare(role, member_of_role, world)
    table = []
    for route in web_routes():
        if getattr(route.view, "is_public", False):
            continue
        login_as(client, ctx.membership)
        kwargs = SAMPLES[route.name](ctx) if route.name in SAMPLES else {}
        url = reverse(route.name, kwargs=kwargs)
        response = client.get(url)
        if response.status_code == 405:
            response = client.post(url, {})
        allowed = _expected_allowed(route, ctx.membership)
        table.append((route.name, response.status_code, allowed))
        if allowed:
            assert response.status_code not in (403, 404, 500), (route.name, response.status_code)
        else:
            assert response.status_code == 403, (route.name, response.status_code)
    assert len(table) >= 10


@pytest.mark.django_db
def test_anonymous_users_are_sent_to_login(client: Client, member_of_role, world) -> None:
    ctx = _prepare(Role.ADMIN, member_of_role, world)
    for route in web_routes():
        if getattr(route.view, "is_public", False):
            continue
        kwargs = SAMPLES[route.name](ctx) if route.name in SAMPLES else {}
        response = client.get(reverse(route.name, kwargs=kwargs))
        assert response.status_code in (302, 405), route.name
        if response.status_code == 302:
            assert response["Location"].startswith(reverse("accounts:login")), route.name


# ----- API ---------------------------------------------------------------------------------------


def api_operations() -> list[tuple[str, str, dict[str, Any]]]:
    schema = api.get_openapi_schema()
    return [(path, method, op) for path, methods in schema["paths"].items() for method, op in methods.items()]


def test_every_api_operation_names_its_permission() -> None:
    missing = [f"{m.upper()} {p}" for p, m, op in api_operations() if "x-anzen-permission" not in op]
    assert missing == []


# Path parameters and required query parameters of GET operations, from the sample objects.
def _api_core(o: dict[str, Any], suffix: str = "") -> tuple[str, dict[str, str]]:
    """CORE: the submitted vendor form of `_core_sample`, with its answered item."""
    from types import SimpleNamespace

    from anzen.accounts.models import Organisation

    if "core" not in o:
        orgs = {org.code: org for org in Organisation.objects.filter(code__in=["t-hospital", "t-vendor", "t-eval"])}
        world = SimpleNamespace(hospital=orgs["t-hospital"], vendor=orgs["t-vendor"], evaluator=orgs["t-eval"])
        o["core"] = _core_sample(world, o["edition"])
    suffix = suffix.replace("{node}", str(o["core"]["node"].pk))
    return f"/api/assessments/{o['core']['assessment'].pk}{suffix}", {}


API_SAMPLES: dict[str, Callable[[dict[str, Any]], tuple[str, dict[str, str]]]] = {
    "/api/assessments/{assessment_id}": lambda o: _api_core(o),
    "/api/assessments/{assessment_id}/answers": lambda o: _api_core(o, "/answers"),
    "/api/assessments/{assessment_id}/answers/{node}/reviews": lambda o: _api_core(o, "/answers/{node}/reviews"),
    "/api/assessments/{assessment_id}/events": lambda o: _api_core(o, "/events"),
    "/api/library/editions/{edition_id}/nodes": lambda o: (f"/api/library/editions/{o['edition'].pk}/nodes", {}),
    "/api/library/search": lambda o: ("/api/library/search", {"q": "サンプル"}),
    "/api/library/diff": lambda o: ("/api/library/diff", {"a": "sample@1", "b": "sample@1"}),
    "/api/assessments/{assessment_id}/export": lambda o: (_api_core(o, "/export")[0], {"format": "csv"}),
    "/api/assessments/pack/{fiscal_year}": lambda o: ("/api/assessments/pack/2025",
                                                      {"institution": "t-hospital", "format": "csv"}),
    "/api/assets/devices/{device_id}": lambda o: (f"/api/assets/devices/{_api_ledger(o)['device'].pk}", {}),
    "/api/assets/systems/{system_id}": lambda o: (f"/api/assets/systems/{_api_ledger(o)['system'].pk}", {}),
    "/api/vulns/findings/{finding_id}": lambda o: (f"/api/vulns/findings/{_api_vulns(o)['finding'].pk}", {}),
    "/api/vulns/inbox/{notice_id}": lambda o: (f"/api/vulns/inbox/{_api_vulns(o)['notice'].pk}", {}),
    "/api/vulns/cves/{cve_id}": lambda o: (f"/api/vulns/cves/{_api_vulns(o)['cve'].cve_id}", {}),
}


def _api_ledger(o: dict[str, Any]) -> dict[str, Any]:
    """LEDGER: the hospital's sample ledger objects, made once per walk."""
    from types import SimpleNamespace

    from anzen.accounts.models import Organisation

    if "ledger" not in o:
        o["ledger"] = _ledger_sample(SimpleNamespace(hospital=Organisation.objects.get(code="t-hospital")))
    return o["ledger"]


def _api_vulns(o: dict[str, Any]) -> dict[str, Any]:
    """WATCH: the hospital's finding, notice (to the test vendor) and CVE, made once per walk."""
    from types import SimpleNamespace

    from anzen.accounts.models import Organisation

    if "vulns" not in o:
        orgs = {org.code: org for org in Organisation.objects.filter(code__in=["t-hospital", "t-vendor"])}
        world = SimpleNamespace(hospital=orgs["t-hospital"], vendor=orgs["t-vendor"])
        o["vulns"] = _vulns_sample(world, _api_ledger(o)["device"])
    return o["vulns"]


def _needs_sample(path: str, op: dict[str, Any]) -> bool:
    return "{" in path or any(p.get("required") for p in op.get("parameters", []))


def test_every_api_get_with_parameters_has_a_sample() -> None:
    missing = [p for p, m, op in api_operations() if m == "get" and _needs_sample(p, op) and p not in API_SAMPLES]
    assert missing == []


@pytest.mark.django_db
@pytest.mark.parametrize("role", ROLES)
def test_api_role_by_endpoint_table(role: str, client: Client, member_of_role, world) -> None:
    membership = member_of_role(role)
    objects = {"edition": _library_sample()}
    _token, secret = services.api_token_create(actor=Actor(membership.user, membership), name="api")
    headers = {"HTTP_AUTHORIZATION": f"Bearer {secret}"}
    checked = 0
    for path, method, op in api_operations():
        if method != "get":
            continue
        url, params = API_SAMPLES[path](objects) if _needs_sample(path, op) else (path, {})
        perm = Perm(op["x-anzen-permission"])
        response = client.get(url, params, **headers)
        if role_has(membership.role, membership.organisation.kind, perm):
            assert response.status_code == 200, (path, response.status_code)
        else:
            assert response.status_code == 403, (path, response.status_code)
        assert client.get(url, params).status_code == 401, path
        checked += 1
    assert checked >= 7


# ----- Isolation between organisations -----------------------------------------------------------


@pytest.mark.django_db
def test_foreign_objects_are_not_found(client: Client, world, make_member) -> None:
    admin = make_member("iso-admin", world.hospital, Role.ADMIN, mfa=True)
    foreign = make_member("iso-other", world.other_hospital, Role.STAFF)
    login_as(client, admin)
    assert client.post(reverse("accounts:member_role", kwargs={"pk": foreign.pk}),
                       {"role": Role.ADMIN}).status_code == 404
    foreign.refresh_from_db()
    assert foreign.role == Role.STAFF
    history = reverse("common:object_history", kwargs={"object_type": "accounts.organisation",
                                                         "object_id": str(world.other_hospital.pk)})
    assert client.get(history).status_code == 404


@pytest.mark.django_db
def test_vendor_sees_only_the_institutions_that_work_with_it(client: Client, world, make_member) -> None:
    vendor = make_member("v-user", world.vendor, Role.VENDOR)
    _token, secret = services.api_token_create(actor=Actor(vendor.user, vendor), name="v")
    data = client.get("/api/accounts/organisations", HTTP_AUTHORIZATION=f"Bearer {secret}").json()
    codes = {org["code"] for org in data}
    assert codes == {"t-vendor", "t-hospital"}
    assert world.other_hospital.code not in codes and OrgKind.VENDOR


@pytest.mark.django_db
def test_audit_log_shows_only_the_own_organisation(client: Client, world, make_member) -> None:
    admin = make_member("log-admin", world.hospital, Role.ADMIN, mfa=True)
    make_member("log-foreign", world.other_hospital, Role.STAFF)
    login_as(client, admin)
    page = client.get(reverse("common:audit_log")).content.decode()
    assert "log-admin" in page and "log-foreign" not in page
