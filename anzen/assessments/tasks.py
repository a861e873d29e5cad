"""Background tasks of the assessments core (run by `anzen worker`).

`remind_task` sends the day's reminders (idempotent per day, see `reminders.send`). Enqueue it with
`anzen assessments remind --enqueue`, or run `anzen assessments remind` daily from cron or a systemd
timer; either way a second run on the same day sends nothing new.
"""

from __future__ import annotations

from typing import Any

from django_tasks import task


@task()
def remind_task(within_days: int = 14) -> dict[str, Any]:
    from anzen.assessments import reminders
    from anzen.common.context import AuditContext, acting

    with acting(AuditContext(actor_label="worker:reminders", source="system")):
        return reminders.send(within_days=within_days).as_dict()
