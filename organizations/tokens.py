"""Scoped API tokens for integrations: created and revoked by an organisation's admins, shown once.

A key looks like `kst_<43 characters>` and is sent as `Authorization: Token kst_…` (the same header
as personal tokens; the prefix tells them apart). It acts for its organisation only (an
`X-Organization` naming another is a 403), on behalf of the admin who created it — while that
person is still an admin there — and only within its scopes: each API path and method needs one
scope (`SCOPE_RULES`), and anything not listed is refused to scoped tokens (members, invitations,
tokens themselves, trials). The role checks still apply as for the admin.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from datetime import timedelta

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.utils import timezone
from rest_framework import exceptions
from rest_framework.authentication import TokenAuthentication
from rest_framework.permissions import SAFE_METHODS, BasePermission

from config.errors import DomainValidationError, StateConflict
from organizations.access import role_require
from organizations.models import ApiToken, Membership, Role, TokenScope

KEY_PREFIX = "kst_"
LAST_USED_EVERY = timedelta(minutes=1)  # `last_used_at` is written at most this often per token

# (path pattern under /api/v1/, scope for reads, scope for writes); first match wins.
SCOPE_RULES: list[tuple[re.Pattern, str | None, str | None]] = [
    (re.compile(r"^(parts|listings)/"), TokenScope.LISTINGS_READ, TokenScope.LISTINGS_WRITE),
    (re.compile(r"^organizations/\d+/order-terms/$"), TokenScope.LISTINGS_READ, TokenScope.LISTINGS_WRITE),
    (re.compile(r"^(orders|purchase-orders|quotes)/"), TokenScope.ORDERS, TokenScope.ORDERS),
    (re.compile(r"^(accounts|wallet|credit-lines|credit|payouts|disputes|fx-rates)/"), TokenScope.MONEY, TokenScope.MONEY),
    (re.compile(r"^me/$"), "", None),  # any token may ask who it is
]


class ApiTokenInvalid(DomainValidationError):
    pass


def _digest(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def api_token_list(*, organization) -> "list[ApiToken]":
    return ApiToken.objects.filter(organization=organization).select_related("created_by")


@transaction.atomic
def api_token_create(*, actor: Membership, name: str, scopes: list[str]) -> tuple[ApiToken, str]:
    """A new token for the actor's organisation (admins only). Returns the token and its key, which
    is never stored and never shown again."""
    role_require(actor, Role.ADMIN)
    name = name.strip()
    errors = {}
    if not name:
        errors["name"] = ["Name the token after the integration that uses it."]
    unknown = sorted(set(scopes) - set(TokenScope.values))
    if unknown or not scopes:
        errors["scopes"] = [f"Choose one or more of {', '.join(TokenScope.values)}."]
    if errors:
        raise ApiTokenInvalid(errors)
    key = KEY_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken.objects.create(organization=actor.organization, name=name[:100], prefix=key[:12],
                                    key_hash=_digest(key), scopes=sorted(set(scopes)), created_by=actor.user)
    return token, key


@transaction.atomic
def api_token_revoke(*, actor: Membership, token: ApiToken) -> ApiToken:
    role_require(actor, Role.ADMIN)
    token = ApiToken.objects.select_for_update().get(pk=token.pk)
    if token.revoked_at is not None:
        raise StateConflict("This token is already revoked.")
    token.revoked_at = timezone.now()
    token.save(update_fields=["revoked_at"])
    return token


class ScopedTokenAuthentication(TokenAuthentication):
    """`Authorization: Token kst_…`. Other tokens are left to DRF's TokenAuthentication (listed after)."""

    def authenticate(self, request):
        header = request.META.get("HTTP_AUTHORIZATION", "")
        parts = header.split()
        if len(parts) != 2 or parts[0] != self.keyword or not parts[1].startswith(KEY_PREFIX):
            return None
        return self.authenticate_credentials(parts[1], request)

    def authenticate_credentials(self, key, request=None):
        token = ApiToken.objects.select_related("organization", "created_by").filter(key_hash=_digest(key)).first()
        if token is None or token.revoked_at is not None:
            raise exceptions.AuthenticationFailed("Invalid or revoked token.")
        user: AbstractBaseUser = token.created_by
        if not user.is_active or not Membership.objects.filter(
                user=user, organization=token.organization, role__in=[Role.ADMIN, Role.OWNER]).exists():
            raise exceptions.AuthenticationFailed("This token's creator is no longer an admin of its organisation.")
        raw = request._request if request is not None and hasattr(request, "_request") else request
        if raw is not None:
            asked = raw.META.get("HTTP_X_ORGANIZATION")
            if asked not in (None, "", str(token.organization_id)):
                raise exceptions.PermissionDenied("This token acts for its own organisation only.")
            raw.META["HTTP_X_ORGANIZATION"] = str(token.organization_id)  # the acting organisation is the token's
        now = timezone.now()
        if token.last_used_at is None or now - token.last_used_at > LAST_USED_EVERY:
            ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
        return user, token


def required_scope(path: str, method: str) -> str | None:
    """The scope an API call needs ("" = any token), or None when scoped tokens may not call it."""
    relative = path.split("/api/v1/", 1)[-1]
    for pattern, read, write in SCOPE_RULES:
        if pattern.match(relative):
            return read if method in SAFE_METHODS else write
    return None


class TokenScopeRequired(BasePermission):
    """Scoped tokens reach only what their scopes cover (default: nothing). Users, sessions and
    personal tokens pass untouched."""

    def has_permission(self, request, view) -> bool:
        token = request.auth
        if not isinstance(token, ApiToken):
            return True
        needed = required_scope(request.path, request.method)
        if needed is None:
            raise exceptions.PermissionDenied("API tokens for integrations cannot call this operation.")
        if needed and needed not in token.scopes:
            raise exceptions.PermissionDenied(f"This token lacks the `{needed}` scope.")
        return True


try:  # the OpenAPI schema names the scheme (drf-spectacular finds extensions when this module loads)
    from drf_spectacular.extensions import OpenApiAuthenticationExtension

    class ScopedTokenScheme(OpenApiAuthenticationExtension):
        target_class = "organizations.tokens.ScopedTokenAuthentication"
        name = "integrationTokenAuth"

        def get_security_definition(self, auto_schema):
            return {"type": "apiKey", "in": "header", "name": "Authorization",
                    "description": "`Authorization: Token kst_…`: an integration's scoped token, created by an admin "
                                   "(`POST /api/v1/organizations/{id}/api-tokens/`). It acts for its organisation only "
                                   "and within its scopes (listings:read, listings:write, orders, money).",
                    "x-token-prefix": "Token"}
except ImportError:  # pragma: no cover
    pass
