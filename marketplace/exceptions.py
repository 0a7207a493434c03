from config.errors import DomainValidationError, StateConflict  # noqa: F401


class OrganizationKindsInvalid(DomainValidationError):
    pass


class NotAMember(Exception):
    """The user asked to act for an organisation they do not belong to."""
