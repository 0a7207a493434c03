"""REST endpoints of the organisations app: tokens, who am I, verification; members and
invitations."""

from django.http import Http404
from django.shortcuts import get_object_or_404
from django.urls import reverse
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.authtoken.models import Token
from rest_framework.authtoken.serializers import AuthTokenSerializer
from rest_framework.exceptions import Throttled
from rest_framework.permissions import AllowAny, IsAdminUser
from rest_framework.response import Response
from rest_framework.views import APIView

from config.api import paginated_response
from config.lockout import lockout_message, login_failures_clear, login_locked_for
from organizations.access import get_acting_organization, role_require
from organizations.models import Invitation, Membership, Organization, OrganizationKind, Role, TokenScope
from organizations.tokens import api_token_create, api_token_list, api_token_revoke
from organizations.selectors import invitation_list, member_list, membership_list
from organizations.services import (
    email_is_verified,
    email_verification_send,
    email_verify,
    invitation_accept,
    invitation_approve,
    invitation_create,
    invitation_request,
    invitation_revoke,
    membership_remove,
    membership_role_change,
    organization_verify,
)


class OrganizationOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    slug = serializers.CharField()
    kinds = serializers.ListField(child=serializers.ChoiceField(choices=OrganizationKind.choices))
    verified = serializers.BooleanField()
    default_currency = serializers.CharField()
    location = serializers.CharField()
    description = serializers.CharField()
    simulated = serializers.BooleanField(help_text="A demo organisation run by Kitstreet's simulated counterparty "
                                                   "(it confirms and ships orders by itself)")


def organization_output(org: Organization) -> dict:
    return OrganizationOutputSerializer(org).data


class AuthTokenApi(APIView):
    """Exchange a username and password for an API token."""

    permission_classes = [AllowAny]
    acts_for_organization = False
    authentication_classes: list = []

    class InputSerializer(serializers.Serializer):
        username = serializers.CharField()
        password = serializers.CharField(style={"input_type": "password"}, trim_whitespace=False)

    @extend_schema(
        request=InputSerializer,
        responses={
            200: inline_serializer("AuthToken", {"token": serializers.CharField()}),
            429: inline_serializer("AuthLockedOut", {"detail": serializers.CharField()}),
        },
        description="Exchange a username and password for an API token. After 5 wrong passwords for a "
                    "username within 15 minutes the username is locked: 429 with `Retry-After` (seconds).",
    )
    def post(self, request):
        username = request.data.get("username") if isinstance(request.data, dict) else None
        locked = login_locked_for(username) if isinstance(username, str) else 0
        if locked:  # before the password is checked: no oracle while locked (config/lockout.py)
            raise Throttled(wait=locked, detail=lockout_message(locked))
        data = AuthTokenSerializer(data=request.data, context={"request": request})
        data.is_valid(raise_exception=True)
        login_failures_clear(data.validated_data["user"].get_username())
        token, _ = Token.objects.get_or_create(user=data.validated_data["user"])
        return Response({"token": token.key})


class MeApi(APIView):
    class OutputSerializer(serializers.Serializer):
        class MembershipSerializer(serializers.Serializer):
            id = serializers.IntegerField(source="organization.id")
            name = serializers.CharField(source="organization.name")
            kinds = serializers.ListField(child=serializers.CharField(), source="organization.kinds")
            verified = serializers.BooleanField(source="organization.verified")
            role = serializers.CharField()

        username = serializers.CharField()
        is_operator = serializers.BooleanField()
        acting_organization = serializers.IntegerField(allow_null=True)
        organizations = MembershipSerializer(many=True)

    @extend_schema(responses=OutputSerializer)
    def get(self, request):
        org = get_acting_organization(request, required=False)
        payload = {
            "username": request.user.get_username(),
            "is_operator": request.user.is_staff,
            "acting_organization": org.pk if org else None,
            "organizations": membership_list(user=request.user),
        }
        return Response(self.OutputSerializer(payload).data)


class OrganizationVerifyApi(APIView):
    """Operators only: a verified supplier's listings and kits become visible to everyone."""

    permission_classes = [IsAdminUser]

    @extend_schema(request=None, responses=OrganizationOutputSerializer)
    def post(self, request, pk: int):
        org = organization_verify(organization=get_object_or_404(Organization, pk=pk))
        return Response(organization_output(org))


# --- Members and invitations ---------------------------------------------------------------------
# These act on the organisation in the path (the caller's membership there), not the acting one;
# the services check the caller's role there (admins manage, only owners touch owners).


def _membership_in(request, pk: int) -> Membership:
    """The caller's membership in organisation `pk`; 404 for non-members (never reveal it)."""
    membership = Membership.objects.select_related("organization", "user").filter(organization_id=pk, user=request.user).first()
    if membership is None:
        raise Http404
    return membership


class MemberOutputSerializer(serializers.Serializer):
    user = serializers.IntegerField(source="user_id")
    username = serializers.CharField(source="user.username")
    email = serializers.EmailField(source="user.email", allow_blank=True)
    role = serializers.ChoiceField(choices=Role.choices)
    joined_at = serializers.DateTimeField(source="created_at")


class MemberListApi(APIView):
    @extend_schema(responses=MemberOutputSerializer(many=True))
    def get(self, request, pk: int):
        """Members of this organisation, for its members only (404 for anyone else)."""
        actor = _membership_in(request, pk)
        return paginated_response(self, request, member_list(organization=actor.organization),
                                  lambda page: MemberOutputSerializer(page, many=True).data)


class MemberDetailApi(APIView):
    acts_for_organization = False  # the role checked is the caller's in the path's organisation

    class InputSerializer(serializers.Serializer):
        role = serializers.ChoiceField(choices=Role.choices, required=False)

    def _target(self, request, pk: int, user_id: int) -> tuple[Membership, Membership]:
        actor = _membership_in(request, pk)
        target = get_object_or_404(member_list(organization=actor.organization), user_id=user_id)
        return actor, target

    @extend_schema(request=InputSerializer, responses=MemberOutputSerializer)
    def patch(self, request, pk: int, user_id: int):
        """Change a member's role (owner or admin; only owners make or unmake owners). The last
        owner cannot be demoted (409)."""
        actor, target = self._target(request, pk, user_id)
        role_require(actor, Role.ADMIN)
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        if "role" not in data.validated_data:  # a PATCH that changes nothing
            return Response(MemberOutputSerializer(target).data)
        membership = membership_role_change(actor=actor, membership=target, role=data.validated_data["role"])
        return Response(MemberOutputSerializer(membership).data)

    @extend_schema(request=None, responses={204: None})
    def delete(self, request, pk: int, user_id: int):
        """Remove a member (owner or admin), or leave (your own user id). The last owner cannot
        leave or be removed (409)."""
        actor, target = self._target(request, pk, user_id)
        membership_remove(actor=actor, membership=target)
        return Response(status=status.HTTP_204_NO_CONTENT)


class InvitationOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    organization = serializers.IntegerField(source="organization_id")
    email = serializers.EmailField()
    role = serializers.ChoiceField(choices=Role.choices)
    status = serializers.ChoiceField(choices=Invitation.Status.choices)
    token = serializers.CharField(help_text="One-time token: POST /api/v1/invitations/{token}/accept/")
    accept_url = serializers.SerializerMethodField()
    expires_at = serializers.DateTimeField()
    created_at = serializers.DateTimeField()
    requested_by = serializers.CharField(source="requested_by.username", allow_null=True, default=None,
                                         help_text="Username of an account under another address that asked to join "
                                                   "with this invitation; approve it with .../approve/.")
    requested_by_email = serializers.CharField(source="requested_by.email", allow_null=True, default=None)
    requested_at = serializers.DateTimeField(allow_null=True)
    emailed_at = serializers.DateTimeField(allow_null=True, help_text="When the worker emailed the link; null until then.")

    def get_accept_url(self, obj) -> str:
        request = self.context.get("request")
        path = reverse("invitation-accept", args=[obj.token])
        return request.build_absolute_uri(path) if request else path


class InvitationListCreateApi(APIView):
    acts_for_organization = False

    class InputSerializer(serializers.Serializer):
        email = serializers.EmailField()
        role = serializers.ChoiceField(choices=Role.choices, default=Role.MEMBER)

    @extend_schema(responses=InvitationOutputSerializer(many=True))
    def get(self, request, pk: int):
        """Invitations of this organisation (owner or admin), newest first; `?status=pending`."""
        actor = _membership_in(request, pk)
        role_require(actor, Role.ADMIN)
        status_filter = request.query_params.get("status")
        if status_filter and status_filter not in Invitation.Status.values:
            raise serializers.ValidationError({"status": [f"Use one of {', '.join(Invitation.Status.values)}."]})
        return paginated_response(self, request, invitation_list(organization=actor.organization, status=status_filter),
                                  lambda page: InvitationOutputSerializer(page, many=True, context={"request": request}).data)

    @extend_schema(request=InputSerializer, responses={201: InvitationOutputSerializer})
    def post(self, request, pk: int):
        """Invite someone by email (owner or admin). The email holds a one-time link, valid 7 days."""
        actor = _membership_in(request, pk)
        role_require(actor, Role.ADMIN)
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        accept_url = request.build_absolute_uri(reverse("invitation-accept", args=["TOKEN"]))
        invitation = invitation_create(actor=actor, accept_url=accept_url, **data.validated_data)
        return Response(InvitationOutputSerializer(invitation, context={"request": request}).data,
                        status=status.HTTP_201_CREATED)


class InvitationRevokeApi(APIView):
    acts_for_organization = False

    @extend_schema(request=None, responses=InvitationOutputSerializer)
    def post(self, request, pk: int, invitation_id: int):
        """Revoke a pending invitation (owner or admin); its link stops working. 409 if it was
        already accepted or revoked."""
        actor = _membership_in(request, pk)
        role_require(actor, Role.ADMIN)
        invitation = get_object_or_404(invitation_list(organization=actor.organization), pk=invitation_id)
        invitation = invitation_revoke(actor=actor, invitation=invitation)
        return Response(InvitationOutputSerializer(invitation, context={"request": request}).data)


class InvitationApproveApi(APIView):
    acts_for_organization = False

    @extend_schema(request=None, responses={201: MemberOutputSerializer})
    def post(self, request, pk: int, invitation_id: int):
        """Let the account that asked to join with this invitation (see `requested_by`) become a
        member with its role (owner or admin; owners for owner invitations). 409 when nobody asked,
        or the invitation is no longer pending or has expired."""
        actor = _membership_in(request, pk)
        role_require(actor, Role.ADMIN)
        invitation = get_object_or_404(invitation_list(organization=actor.organization), pk=invitation_id)
        membership = invitation_approve(actor=actor, invitation=invitation)
        return Response(MemberOutputSerializer(membership).data, status=status.HTTP_201_CREATED)


class InvitationAcceptApi(APIView):
    acts_for_organization = False  # joining needs no role anywhere

    @extend_schema(request=None, responses={201: MemberOutputSerializer})
    def post(self, request, token: str):
        """Join the inviting organisation as the logged-in user. Only an account whose email is the
        invited address, verified (`POST /api/v1/me/email/verification/`), may accept: anyone else
        gets a 403 and joins nothing (they may ask an admin with `.../request/`). 400 if the
        invitation is unknown, expired, revoked or already used."""
        membership = invitation_accept(token=token, user=request.user)
        return Response(MemberOutputSerializer(membership).data, status=status.HTTP_201_CREATED)


class InvitationRequestApi(APIView):
    acts_for_organization = False

    class OutputSerializer(serializers.Serializer):
        organization = serializers.CharField(source="organization.name")
        role = serializers.ChoiceField(choices=Role.choices)
        requested_at = serializers.DateTimeField()

    @extend_schema(request=None, responses={202: OutputSerializer})
    def post(self, request, token: str):
        """Ask to join with an invitation that was sent to another address than your account's.
        Nothing changes until an admin of the organisation approves it. 400 if the invitation is
        unknown, expired, revoked or used, or you already belong to the organisation."""
        invitation = invitation_request(token=token, user=request.user)
        return Response(self.OutputSerializer(invitation).data, status=status.HTTP_202_ACCEPTED)


class EmailVerificationApi(APIView):
    """The logged-in user's email address, and a link that proves they read it."""

    acts_for_organization = False

    class OutputSerializer(serializers.Serializer):
        email = serializers.CharField(allow_blank=True)
        verified = serializers.BooleanField()

    class ConfirmSerializer(serializers.Serializer):
        token = serializers.CharField(max_length=500, help_text="The token from the emailed link.")

    @extend_schema(responses=OutputSerializer)
    def get(self, request):
        """Your account's address and whether it is verified."""
        return Response(self.OutputSerializer({"email": request.user.email or "",
                                               "verified": email_is_verified(user=request.user)}).data)

    @extend_schema(request=None, responses={202: OutputSerializer})
    def post(self, request):
        """Email your account's address a confirmation link (valid 2 days), sent by a worker. 400
        when the account has no address."""
        confirm_url = request.build_absolute_uri(reverse("email-verify", args=["TOKEN"]))
        email = email_verification_send(user=request.user, confirm_url=confirm_url)
        return Response(self.OutputSerializer({"email": email, "verified": email_is_verified(user=request.user)}).data,
                        status=status.HTTP_202_ACCEPTED)


class EmailVerificationConfirmApi(APIView):
    acts_for_organization = False

    @extend_schema(request=EmailVerificationApi.ConfirmSerializer, responses=EmailVerificationApi.OutputSerializer)
    def post(self, request):
        """Confirm your address with the token from the emailed link. 400 when it is forged,
        expired, for another account or for an address the account no longer has."""
        data = EmailVerificationApi.ConfirmSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        verified = email_verify(user=request.user, token=data.validated_data["token"])
        return Response(EmailVerificationApi.OutputSerializer({"email": verified.email, "verified": True}).data)


# --- Scoped API tokens for integrations ----------------------------------------------------------


class ApiTokenOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    prefix = serializers.CharField(help_text="The key's first characters, to tell tokens apart (the key is never shown again).")
    scopes = serializers.ListField(child=serializers.ChoiceField(choices=TokenScope.choices))
    created_by = serializers.CharField(source="created_by.username")
    created_at = serializers.DateTimeField()
    last_used_at = serializers.DateTimeField(allow_null=True)
    revoked_at = serializers.DateTimeField(allow_null=True)
    active = serializers.BooleanField(source="is_active")


class ApiTokenCreatedSerializer(ApiTokenOutputSerializer):
    key = serializers.CharField(help_text="Send as `Authorization: Token <key>`. Shown only in this response.")


class ApiTokenListCreateApi(APIView):
    acts_for_organization = False  # the role checked is the caller's in the path's organisation

    class InputSerializer(serializers.Serializer):
        name = serializers.CharField(max_length=100)
        scopes = serializers.ListField(child=serializers.ChoiceField(choices=TokenScope.choices), allow_empty=False,
                                       max_length=len(TokenScope.values))

    @extend_schema(responses=ApiTokenOutputSerializer(many=True))
    def get(self, request, pk: int):
        """This organisation's API tokens, revoked ones included (owner or admin). Keys are never listed."""
        actor = _membership_in(request, pk)
        role_require(actor, Role.ADMIN)
        return paginated_response(self, request, api_token_list(organization=actor.organization),
                                  lambda page: ApiTokenOutputSerializer(page, many=True).data)

    @extend_schema(request=InputSerializer, responses={201: ApiTokenCreatedSerializer})
    def post(self, request, pk: int):
        """A token for an integration, with named scopes (owner or admin). The key is in this
        response only: store it now."""
        actor = _membership_in(request, pk)
        role_require(actor, Role.ADMIN)
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        token, key = api_token_create(actor=actor, **data.validated_data)
        token.key = key
        return Response(ApiTokenCreatedSerializer(token).data, status=status.HTTP_201_CREATED)


class ApiTokenRevokeApi(APIView):
    acts_for_organization = False

    @extend_schema(request=None, responses=ApiTokenOutputSerializer)
    def post(self, request, pk: int, token_id: int):
        """Revoke a token (owner or admin): it stops working at once. 409 if already revoked."""
        actor = _membership_in(request, pk)
        role_require(actor, Role.ADMIN)
        token = get_object_or_404(api_token_list(organization=actor.organization), pk=token_id)
        return Response(ApiTokenOutputSerializer(api_token_revoke(actor=actor, token=token)).data)
