"""The REST API: one NinjaAPI; each app adds its router (anzen/<app>/api.py)."""

from ninja import NinjaAPI

from anzen.api.auth import TokenAuth

api = NinjaAPI(
    title="Anzen API",
    version="1",
    description="医療情報システム安全管理ワークベンチ Anzen の REST API。Authorization: Bearer <APIトークン>。",
    auth=TokenAuth(),
    urls_namespace="api",
)
