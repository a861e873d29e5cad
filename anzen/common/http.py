"""View decorators: every URL either names the permission it needs or is marked public.

The role × endpoint test walks every URL pattern and fails on a view that does neither.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from pathlib import Path
from typing import Any

from django.contrib.auth.views import redirect_to_login
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.utils.http import content_disposition_header

from anzen.accounts.roles import Perm
from anzen.common.permissions import require

View = Callable[..., HttpResponse]


def requires(perm: Perm) -> Callable[[View], View]:
    """Log-in, an active membership and `perm` in its role; otherwise redirect to login or 403."""

    def decorate(view: View) -> View:
        @wraps(view)
        def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            if not request.user.is_authenticated:
                return redirect_to_login(request.get_full_path())
            require(getattr(request, "actor", None), perm)
            return view(request, *args, **kwargs)

        wrapped.required_perm = perm  # type: ignore[attr-defined]
        return wrapped

    return decorate


def login_only(view: View) -> View:
    """Logged-in users without any permission check (profile, organisation switch, MFA set-up)."""

    @wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        return view(request, *args, **kwargs)

    wrapped.login_only = True  # type: ignore[attr-defined]
    return wrapped


def public(view: View) -> View:
    """Reachable without logging in (login, invitation acceptance, health check)."""
    view.is_public = True  # type: ignore[attr-defined]
    return view


def client_ip(request: HttpRequest) -> str | None:
    # Behind a reverse proxy set ANZEN_TRUST_X_FORWARDED_FOR=1 (see README); otherwise the socket peer.
    from django.conf import settings

    if getattr(settings, "ANZEN_TRUST_X_FORWARDED_FOR", False):
        forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
        if forwarded:
            return forwarded.split(",")[0].strip()
    return request.META.get("REMOTE_ADDR")


VIEWED = "anzen_viewed"


def record_view(request: HttpRequest, obj: Any) -> None:
    """Access log: the first view of `obj` in a session lands in the audit trail as 閲覧.

    Once per session keeps the trail readable (re-renders and htmx updates of the same page are
    not new accesses) while still telling who looked at which checklist or assessment, and when.
    """
    from anzen.common import audit

    key = f"{audit.object_type(obj)}:{obj.pk}"
    seen = request.session.get(VIEWED, [])
    if key in seen:
        return
    audit.record(audit.Action.VIEW, obj=obj)
    request.session[VIEWED] = [*seen[-199:], key]


def stored_file_download(path: Path, filename: str) -> HttpResponse:
    """A stored upload (evidence, certificate, vendor answer) as an attachment only: octet-stream, nosniff,
    sandboxed, never cached, never rendered inline. 404 when the store has lost the file. The caller
    records the download in the audit trail (its message names what was downloaded)."""
    if not path.is_file():
        raise Http404
    response = FileResponse(path.open("rb"), as_attachment=True, filename=filename,
                            content_type="application/octet-stream")
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    response["Cache-Control"] = "private, no-store"
    return response


def generated_download(content: bytes, filename: str, content_type: str, *,
                       cache_control: str = "private, no-store") -> HttpResponse:
    """A file the server has just written (an export, a report) as an attachment: nosniff, never cached.
    The caller audits the export."""
    response = HttpResponse(content, content_type=content_type)
    response["Content-Disposition"] = content_disposition_header(True, filename)
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = cache_control
    return response
