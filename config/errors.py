"""Base classes for the apps' named domain errors (each app's exceptions.py subclasses these).

The API exception handler (config/api.py) and the HTML views map them to responses:
- `DomainValidationError` (a Django ValidationError) -> 400 with a field map,
- `StateConflict` -> 409 (a step out of turn, e.g. shipping a cancelled order),
- `IdempotencyConflict` -> 422 (an Idempotency-Key replayed with another body).
"""

from django.core.exceptions import ValidationError


class DomainValidationError(ValidationError):
    """Bad input or a broken business rule; nothing was changed."""


class StateConflict(Exception):
    """The object is not in a state that allows this step."""

    def __init__(self, message: str, **extra):
        super().__init__(message)
        self.message = message
        self.extra = extra  # more fields for the 409 body beside `detail` (e.g. what it conflicts with)


class IdempotencyConflict(Exception):
    """The same Idempotency-Key was used before with a different request body."""

    def __init__(self, message: str = "This Idempotency-Key was already used with a different request body."):
        super().__init__(message)
        self.message = message


def error_text(exc: Exception) -> str:
    """A domain error as one sentence for a page's message: Django's messages joined, else the
    error's own message."""
    from django.core.exceptions import ValidationError

    if isinstance(exc, ValidationError):
        return " ".join(exc.messages)
    return getattr(exc, "message", None) or str(exc)
