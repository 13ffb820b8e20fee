from django.urls import path

from . import members, token_views, views

urlpatterns = [
    path("auth/token/", views.ObtainTokenView.as_view(), name="api-token"),
    path("me/", views.MeView.as_view(), name="api-me"),
    path("tokens/", token_views.ApiTokenList.as_view(), name="api-tokens"),
    path("tokens/<int:pk>/", token_views.ApiTokenDetail.as_view(), name="api-token-detail"),
    path("billing-accounts/", views.BillingAccountList.as_view(), name="api-billing-accounts"),
    path("billing-accounts/<int:pk>/", views.BillingAccountDetail.as_view(), name="api-billing-account"),
    path("billing-profiles/", views.BillingProfileList.as_view(), name="api-billing-profiles"),
    path("billing-profiles/<int:pk>/", views.BillingProfileDetail.as_view(), name="api-billing-profile"),
    path("subscriptions/", views.SubscriptionList.as_view(), name="api-subscriptions"),
    path("subscriptions/<str:subscription_id>/", views.SubscriptionDetail.as_view(), name="api-subscription"),
]

# Members of a billing account and of a billing profile (accounts.api.members).
for kind, prefix in (("account", "billing-accounts"), ("profile", "billing-profiles")):
    scope = f"{prefix}/<int:pk>"
    urlpatterns += [
        path(f"{scope}/members/", members.MemberList.as_view(), {"kind": kind}, name=f"api-{kind}-members"),
        path(
            f"{scope}/members/<int:user_id>/", members.MemberDetail.as_view(), {"kind": kind}, name=f"api-{kind}-member"
        ),
        path(f"{scope}/invitations/", members.InvitationList.as_view(), {"kind": kind}, name=f"api-{kind}-invitations"),
        path(
            f"{scope}/invitations/<int:invitation_id>/",
            members.InvitationDetail.as_view(),
            {"kind": kind},
            name=f"api-{kind}-invitation",
        ),
        path(
            f"{scope}/member-changes/",
            members.MemberChangeList.as_view(),
            {"kind": kind},
            name=f"api-{kind}-member-changes",
        ),
    ]
