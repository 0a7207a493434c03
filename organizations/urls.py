"""Organisation URLs: `api_urlpatterns` are mounted under /api/v1/, `urlpatterns` are HTML pages."""

from django.urls import path

from organizations import api, views


api_urlpatterns = [
    path("auth/token/", api.AuthTokenApi.as_view(), name="auth-token"),
    path("me/", api.MeApi.as_view(), name="me"),
    path("organizations/<int:pk>/verify/", api.OrganizationVerifyApi.as_view(), name="organization-verify"),
    path("organizations/<int:pk>/members/", api.MemberListApi.as_view(), name="member-list"),
    path("organizations/<int:pk>/members/<int:user_id>/", api.MemberDetailApi.as_view(), name="member-detail"),
    path("organizations/<int:pk>/invitations/", api.InvitationListCreateApi.as_view(), name="invitation-list"),
    path("organizations/<int:pk>/invitations/<int:invitation_id>/revoke/", api.InvitationRevokeApi.as_view(),
         name="invitation-revoke"),
    path("organizations/<int:pk>/invitations/<int:invitation_id>/approve/", api.InvitationApproveApi.as_view(),
         name="invitation-approve-api"),
    path("organizations/<int:pk>/api-tokens/", api.ApiTokenListCreateApi.as_view(), name="api-token-list"),
    path("organizations/<int:pk>/api-tokens/<int:token_id>/revoke/", api.ApiTokenRevokeApi.as_view(), name="api-token-revoke"),
    path("invitations/<str:token>/accept/", api.InvitationAcceptApi.as_view(), name="invitation-accept-api"),
    path("invitations/<str:token>/request/", api.InvitationRequestApi.as_view(), name="invitation-request-api"),
    path("me/email/verification/", api.EmailVerificationApi.as_view(), name="email-verification"),
    path("me/email/verification/confirm/", api.EmailVerificationConfirmApi.as_view(), name="email-verification-confirm"),
]

urlpatterns = [
    path("signup/", views.signup, name="signup"),
    path("switch-organization/", views.switch_organization, name="switch-organization"),
    path("members/", views.member_list_view, name="member-list"),
    path("members/<int:user_id>/", views.member_update_view, name="member-update"),
    path("members/invite/", views.invitation_create_view, name="invitation-create"),
    path("members/invitations/<int:invitation_id>/revoke/", views.invitation_revoke_view, name="invitation-revoke"),
    path("members/invitations/<int:invitation_id>/approve/", views.invitation_approve_view, name="invitation-approve"),
    path("invitations/<str:token>/", views.invitation_accept_view, name="invitation-accept"),
    path("verify-email/", views.email_verification_send_view, name="email-verification-send"),
    path("verify-email/<str:token>/", views.email_verify_view, name="email-verify"),
]
