from django.urls import path

from anzen.accounts import views

app_name = "accounts"
urlpatterns = [
    path("login/", views.login_view, name="login"),
    path("login/verify/", views.login_verify, name="login_verify"),
    path("logout/", views.logout_view, name="logout"),
    path("mfa/enrol/", views.mfa_enrol, name="mfa_enrol"),
    path("mfa/recovery-codes/", views.mfa_recovery_codes, name="mfa_recovery_codes"),
    path("profile/", views.profile, name="profile"),
    path("password/", views.password_change, name="password_change"),
    path("switch/", views.switch_organisation, name="switch_organisation"),
    path("organisation/", views.organisation, name="organisation"),
    path("organisation/settings/", views.organisation_settings, name="organisation_settings"),
    path("organisation/invite/", views.invite, name="invite"),
    path("organisation/invitations/<int:pk>/revoke/", views.invitation_revoke, name="invitation_revoke"),
    path("organisation/members/<int:pk>/role/", views.member_role, name="member_role"),
    path("organisation/members/<int:pk>/mfa-reset/", views.member_mfa_reset, name="member_mfa_reset"),
    path("tokens/", views.api_token_create, name="api_token_create"),
    path("tokens/<int:pk>/revoke/", views.api_token_revoke, name="api_token_revoke"),
    path("invitation/<str:token>/", views.invitation_accept, name="invitation_accept"),
]
