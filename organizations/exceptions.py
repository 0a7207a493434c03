"""Named errors of the organisations app (mapped to HTTP by config.api.exception_handler)."""

from django.core.exceptions import PermissionDenied

from config.errors import DomainValidationError, StateConflict


class OrganizationKindsInvalid(DomainValidationError):
    pass


class NotAMember(Exception):
    """The user asked to act for an organisation they do not belong to."""


class RoleTooLow(PermissionDenied):
    """The member's role does not allow this (a viewer writing, a member managing people): 403."""


class InvitationInvalid(DomainValidationError):
    """An invitation that cannot be used: unknown, expired, revoked or already accepted (400)."""


class LastOwner(StateConflict):
    """The only owner cannot leave or be demoted (409)."""


class InvitationStateConflict(StateConflict):
    """Revoking an invitation that is no longer pending (409)."""


class MembershipInvalid(DomainValidationError):
    pass


class InvitationNotForYou(PermissionDenied):
    """The invitation was sent to another address than the logged-in account's (403): a link that
    leaked does not make its holder a member. They may ask an admin to approve them instead."""


class EmailNotVerified(PermissionDenied):
    """The account's address is the invited one but nobody has proved they read it yet (403)."""


class EmailVerificationInvalid(DomainValidationError):
    """A confirmation link that is forged, expired, for another account or an old address (400)."""
