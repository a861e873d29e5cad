"""The audit trail records every change and detects any edit or removal of its entries."""

from __future__ import annotations

import threading

import pytest
from django.db import connection
from hypothesis import given, settings
from hypothesis import strategies as st

from anzen.accounts import services
from anzen.accounts.models import Organisation
from anzen.accounts.roles import OrgKind
from anzen.cli.main import main
from anzen.common import audit, audit_chain, context
from anzen.common.models import AuditChainHead, AuditEntry


def _org(code: str = "o1") -> Organisation:
    return services.organisation_create(kind=OrgKind.VENDOR, name=f"事業者{code}", code=code)


@pytest.mark.django_db
def test_create_update_delete_are_recorded_with_before_and_after() -> None:
    with context.acting(context.AuditContext(actor_id=7, actor_label="tester", client_ip="192.0.2.10",
                                             source="web")):
        org = _org()
        org.name = "改名した事業者"
        org.save()
        org_id = org.pk
        org.delete()
    entries = list(AuditEntry.objects.filter(object_type="accounts.organisation", object_id=str(org_id)))
    assert [e.action for e in entries] == ["create", "update", "delete"]
    created, updated, deleted = entries
    assert created.after["name"] == "事業者o1" and created.before is None
    assert updated.before == {"name": "事業者o1"} and updated.after == {"name": "改名した事業者"}
    assert deleted.before["code"] == "o1" and deleted.after is None
    assert {e.actor_label for e in entries} == {"tester"}
    assert {e.client_ip for e in entries} == {"192.0.2.10"}


@pytest.mark.django_db
def test_saving_without_changes_records_nothing() -> None:
    org = _org()
    count = AuditEntry.objects.count()
    Organisation.objects.get(pk=org.pk).save()
    assert AuditEntry.objects.count() == count


@pytest.mark.django_db
def test_secrets_are_never_recorded(make_member, world) -> None:
    membership = make_member("secretive", world.hospital, "staff")
    entries = AuditEntry.objects.filter(object_type="accounts.user", object_id=str(membership.user_id))
    for entry in entries:
        assert "password" not in (entry.after or {}) and "password" not in (entry.before or {})


@pytest.mark.django_db
def test_chain_verifies_and_detects_an_edited_entry() -> None:
    for index in range(5):
        _org(f"c{index}")
    assert audit.verify_chain().ok
    target = AuditEntry.objects.order_by("seq")[2]
    AuditEntry.objects.filter(pk=target.pk).update(object_repr="書き換え")
    report = audit.verify_chain()
    assert not report.ok and report.problem.seq == target.seq and report.problem.reason == "altered"


@pytest.mark.django_db
def test_chain_detects_a_recomputed_entry_by_the_next_link() -> None:
    for index in range(4):
        _org(f"r{index}")
    entry = AuditEntry.objects.order_by("seq")[1]
    fields = {name: getattr(entry, name) for name in audit_chain.HASHED_FIELDS}
    fields["object_repr"] = "forged"
    forged_hash = audit_chain.entry_hash(audit.hash_payload(fields))
    AuditEntry.objects.filter(pk=entry.pk).update(object_repr="forged", hash=forged_hash)
    report = audit.verify_chain()
    assert report.problem is not None and report.problem.seq == entry.seq + 1
    assert report.problem.reason == "broken_link"


@pytest.mark.django_db
def test_chain_detects_removed_entries_in_the_middle_and_at_the_end() -> None:
    for index in range(4):
        _org(f"d{index}")
    last = AuditEntry.objects.order_by("-seq").first()
    AuditEntry.objects.filter(pk=last.pk).delete()
    report = audit.verify_chain()
    assert report.problem.reason == "truncated" and report.problem.seq == last.seq
    middle = AuditEntry.objects.order_by("seq")[1]
    AuditEntry.objects.filter(pk=middle.pk).delete()
    report = audit.verify_chain()
    assert report.problem.reason == "missing" and report.problem.seq == middle.seq


@pytest.mark.django_db
def test_cli_verify_exit_codes_name_the_first_bad_entry(capsys: pytest.CaptureFixture[str]) -> None:
    for index in range(3):
        _org(f"v{index}")
    assert main(["audit", "verify", "--json"]) == 0
    assert '"ok": true' in capsys.readouterr().out
    bad = AuditEntry.objects.order_by("seq")[1]
    AuditEntry.objects.filter(pk=bad.pk).update(after={"name": "改ざん"})
    assert main(["audit", "verify"]) == 1
    err = capsys.readouterr().err
    assert f"#{bad.seq}" in err and "改ざん" in err


@pytest.mark.django_db
def test_head_row_follows_the_last_entry() -> None:
    _org()
    head = AuditChainHead.objects.get(pk=1)
    last = AuditEntry.objects.order_by("-seq").first()
    assert (head.seq, head.hash) == (last.seq, last.hash)


@pytest.mark.django_db(transaction=True)
def test_concurrent_writers_never_fork_the_chain() -> None:
    errors: list[BaseException] = []

    def writer(worker: int) -> None:
        try:
            for index in range(8):
                _org(f"w{worker}-{index}")
        except BaseException as error:
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    report = audit.verify_chain()
    assert report.ok and report.checked == AuditEntry.objects.count() >= 32


entry_fields = st.fixed_dictionaries({
    "action": st.sampled_from(["create", "update", "delete", "login"]),
    "actor_label": st.text(max_size=10),
    "object_repr": st.text(max_size=20),
    "after": st.one_of(st.none(), st.dictionaries(st.text(max_size=5), st.integers() | st.text(max_size=5),
                                                  max_size=3)),
})


@settings(max_examples=60, deadline=None)
@given(st.lists(entry_fields, min_size=1, max_size=8), st.data())
def test_pure_chain_detects_any_single_change(rows: list[dict], data: st.DataObject) -> None:
    chain, prev = [], audit_chain.GENESIS
    for seq, row in enumerate(rows, 1):
        entry = {name: None for name in audit_chain.HASHED_FIELDS} | row | {"seq": seq, "prev_hash": prev}
        entry["hash"] = audit_chain.entry_hash(entry)
        prev = entry["hash"]
        chain.append(entry)
    assert audit_chain.verify(chain, len(chain), prev).ok
    victim = data.draw(st.integers(0, len(chain) - 1))
    field = data.draw(st.sampled_from(["action", "actor_label", "object_repr", "after"]))
    tampered = [dict(e) for e in chain]
    tampered[victim][field] = "tampered-" + str(tampered[victim][field])
    report = audit_chain.verify(tampered, len(chain), prev)
    assert not report.ok and report.problem.seq == victim + 1


@pytest.mark.django_db
def test_deferred_fields_are_neither_fetched_nor_reported_as_changed() -> None:
    org = _org("defer")
    count = AuditEntry.objects.count()
    partial = Organisation.objects.only("pk", "name").get(pk=org.pk)
    partial.name = "部分読込で改名"
    partial.save()
    entry = AuditEntry.objects.order_by("-seq").first()
    assert AuditEntry.objects.count() == count + 1
    assert entry.before == {"name": "事業者defer"} and entry.after == {"name": "部分読込で改名"}


@pytest.mark.django_db
def test_viewing_a_checklist_is_in_the_access_log_once_per_session(client, world, make_member) -> None:
    from anzen.library.loader import load_builtin_library
    from anzen.library.models import Edition
    from tests.conftest import login_as

    load_builtin_library()
    login_as(client, make_member("viewer", world.hospital, "staff"))
    edition = Edition.objects.get(key="mhlw-cyber-checklist@R5", is_current=True)
    for _ in range(3):
        assert client.get(f"/library/editions/{edition.pk}/").status_code == 200
    views = AuditEntry.objects.filter(action="view", object_type="library.edition", object_id=str(edition.pk))
    assert views.count() == 1 and views.get().actor_label == "viewer"
