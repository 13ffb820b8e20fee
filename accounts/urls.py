from django.contrib.auth import views as auth_views
from django.urls import path

from . import member_views, password_views, token_views, two_factor_views, views

app_name = "accounts"

# The overview ("", accounts:overview) reads every app, so its view is in the wiring
# (billing_portal.overview_views); billing_portal/urls.py adds it to this namespace.
urlpatterns = [
    path("sign-in/", views.LoginView.as_view(), name="login"),
    path("sign-in/code/", two_factor_views.verify, name="two_factor_verify"),
    path("sign-out/", auth_views.LogoutView.as_view(), name="logout"),
    path("security/", two_factor_views.security, name="security"),
    path("security/two-factor/set-up/", two_factor_views.setup, name="two_factor_setup"),
    path("subscriptions/", views.subscription_list, name="subscriptions"),
    path("subscriptions/<str:subscription_id>/", views.subscription_detail, name="subscription"),
    path(
        "subscriptions/<str:subscription_id>/marketplace/<int:service_id>/remove/",
        views.marketplace_remove,
        name="marketplace_remove",
    ),
    path("billing-accounts/<int:pk>/profile/", views.account_profile, name="profile"),
    # Self-service access: profile, password, API tokens, a forgotten password.
    path("profile/", password_views.user_profile, name="user_profile"),
    path("profile/password/", password_views.password_change, name="password_change"),
    path("profile/api-tokens/", token_views.api_tokens_page, name="api_tokens"),
    path("profile/api-tokens/<int:pk>/revoke/", token_views.api_token_revoke, name="api_token_revoke"),
    path("password-reset/", password_views.password_reset, name="password_reset"),
    path("password-reset/sent/", password_views.password_reset_sent, name="password_reset_sent"),
    path(
        "password-reset/<uidb64>/<token>/",
        password_views.PasswordResetConfirmView.as_view(),
        name="password_reset_confirm",
    ),
    path("invitations/<str:token>/", member_views.invitation, name="invitation"),
]

# Members of a billing account and of a billing profile (accounts.member_views).
for kind, prefix in (("account", "billing-accounts"), ("profile", "billing-profiles")):
    urlpatterns += [
        path(f"{prefix}/<int:pk>/members/", member_views.member_list, {"kind": kind}, name=f"{kind}_members"),
        path(
            f"{prefix}/<int:pk>/members/<int:user_id>/", member_views.member_edit, {"kind": kind}, name=f"{kind}_member"
        ),
        path(
            f"{prefix}/<int:pk>/members/<int:user_id>/remove/",
            member_views.member_remove,
            {"kind": kind},
            name=f"{kind}_member_remove",
        ),
        path(
            f"{prefix}/<int:pk>/invitations/<int:invitation_id>/revoke/",
            member_views.invitation_revoke,
            {"kind": kind},
            name=f"{kind}_invitation_revoke",
        ),
    ]
