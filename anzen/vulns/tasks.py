"""Background work of the vulnerability watch (run by `anzen worker`; immediate in tests).

- `rematch_task`: an incremental rematch of one institution or of all. Requested with `request_rematch`
  (enqueued once the current transaction commits) after a feed import from the CLI (`anzen vulns import` /
  `fetch`, see cli.py) and from the screens when the board finds the ledger or the CVE store newer than the
  last run; a rematch is cheap when little changed (see services_watch).
- `daily_task`: what must happen every day whatever anyone does — expired risk acceptances reopen,
  overdue notices escalate, and institutions whose ledger or CVE store changed since their last run are
  rematched (this catches ledger edits made on screens that do not request a rematch themselves).
  Enqueue it from cron or a systemd timer (`anzen vulns daily` does the same in the foreground).
"""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django_tasks import task


def _context(label: str) -> Any:
    from anzen.common.context import AuditContext, acting

    return acting(AuditContext(actor_label=f"worker:{label}", source="system"))


def rematch_institutions(institution_id: int | None = None, *, only_stale: bool = False) -> list[dict[str, Any]]:
    from anzen.accounts.models import Organisation
    from anzen.accounts.roles import OrgKind
    from anzen.vulns import services_watch

    institutions = Organisation.objects.filter(kind=OrgKind.INSTITUTION).order_by("pk")
    if institution_id is not None:
        institutions = institutions.filter(pk=institution_id)
    done = []
    for institution in institutions:
        if only_stale and not services_watch.pending_changes(institution.pk).any:
            continue
        report = services_watch.rematch(institution=institution)
        done.append({"institution": institution.code, "mode": report.mode, **report.counts(),
                     "seconds": report.seconds})
    return done


@task()
def rematch_task(institution_id: int | None = None) -> list[dict[str, Any]]:
    with _context("vulns-rematch"):
        return rematch_institutions(institution_id)


@task()
def daily_task() -> dict[str, Any]:
    from anzen.vulns import notices, services_watch

    with _context("vulns-daily"):
        reopened = services_watch.expire_acceptances()
        escalated = notices.escalate_overdue()
        rematched = rematch_institutions(only_stale=True)
    return {"reopened": reopened, "escalated": len(escalated), "rematched": rematched}


def request_rematch(institution_id: int | None = None) -> None:
    """Rematch in the background once the current transaction (a feed import, a ledger change) commits."""
    transaction.on_commit(lambda: rematch_task.enqueue(institution_id=institution_id))
