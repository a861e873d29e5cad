"""The REST API: one NinjaAPI under /api/; each app contributes a router from its api.py."""

from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from ninja import NinjaAPI

from anzen.api.auth import TokenAuth

api = NinjaAPI(
    title="Anzen API",
    version="1",
    description=(
        "医療情報システム安全管理ワークベンチ Anzen の REST API。"
        "プロフィール画面で発行したAPIトークンを `Authorization: Bearer <token>` で送ってください。"
        "トークンは発行した所属（組織・役割）の権限で動作し、画面と同じ範囲のデータだけを返します。"
    ),
    auth=TokenAuth(),
    urls_namespace="api",
)


@api.exception_handler(PermissionDenied)
def _forbidden(request: HttpRequest, exc: PermissionDenied) -> HttpResponse:
    return api.create_response(request, {"detail": "この操作の権限がありません。"}, status=403)


def _register() -> None:
    from anzen.accounts.api import router as accounts_router
    from anzen.assessments.api import router as assessments_router
    from anzen.assessments.api_files import router as assessment_files_router
    from anzen.assets.api import router as assets_router
    from anzen.common.api import router as audit_router
    from anzen.library.api import router as library_router
    from anzen.vulns.api import router as vulns_router

    api.add_router("/accounts/", accounts_router)
    api.add_router("/audit/", audit_router)
    api.add_router("/library/", library_router)
    api.add_router("/assessments/", assessments_router)
    api.add_router("/assessments/", assessment_files_router)
    api.add_router("/assets/", assets_router)
    api.add_router("/vulns/", vulns_router)


_register()
