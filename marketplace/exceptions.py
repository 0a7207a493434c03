from django.core.exceptions import PermissionDenied

from config.errors import DomainValidationError, StateConflict  # noqa: F401


class ListingInvalid(DomainValidationError):
    """A listing or its price breaks break a rule (quantities, break order, currency)."""


class StockListInvalid(DomainValidationError):
    """A stock-list CSV has bad rows; carries every error with its row number and field."""

    def __init__(self, errors: list[dict]):
        super().__init__({"errors": [f"row {e['row']}, {e['field']}: {e['message']}" for e in errors]})
        self.errors = errors


class KitInvalid(DomainValidationError):
    """A kit definition is inconsistent (unknown parts, a sub-kit cycle, bad breaks)."""


class QuoteInvalid(DomainValidationError):
    pass


class OrderInvalid(DomainValidationError):
    """The order cannot be placed as asked (expired quote, mixed currencies, bad lines)."""


class OutOfStock(StateConflict):
    """Another buyer took the stock first: nothing was reserved."""


class PurchaseOrderStepNotAllowed(StateConflict):
    """A lifecycle step out of turn (409); the wrong party gets PermissionDenied (403)."""


class NotAParty(PermissionDenied):
    """The organisation is neither the buyer nor a vendor of the order: the API answers 404, so
    it never learns that the order exists."""


class StepNotYours(PermissionDenied):
    """A party to the order taking the other party's step, e.g. a buyer confirming (403)."""


class QuoteAlreadyOrdered(StateConflict):
    """A quote orders once: a second order from it is a state conflict (409)."""
