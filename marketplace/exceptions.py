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


class SearchTooBroad(DomainValidationError):
    """A search whose page would mean pricing hundreds of thousands of offers (parts by their best
    offer, dearest first, over a broad search): refused with the way out instead of a 30 s query."""


class QuoteInvalid(DomainValidationError):
    pass


class OrderTermsInvalid(DomainValidationError):
    """A supplier's order terms are out of range (negative, more than cents, unknown currency)."""


class OrderInvalid(DomainValidationError):
    """The order cannot be placed as asked (expired quote, mixed currencies, bad lines)."""


class ShipmentInvalid(DomainValidationError):
    """A shipment or receipt that does not fit the purchase order (more than ordered, an unknown line)."""


class SweepInThePast(DomainValidationError):
    """The deadline sweep was asked to run as of a moment before one it already swept."""


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


# --- RFQs and capacity ---------------------------------------------------------------------------


class RfqInvalid(DomainValidationError):
    """An RFQ cannot be created as asked (no lines, a closing time in the past, a quote with nothing short)."""


class BidInvalid(DomainValidationError):
    """A bid breaks a rule: a line of another RFQ, prices rising with quantity, bad quantities (400)."""


class AwardInvalid(DomainValidationError):
    """An award names a bid of another RFQ or one that has expired (400)."""


class RfqNotOpen(StateConflict):
    """Bidding on, or awarding, an RFQ that is closed, awarded or cancelled (409)."""


class NotAVerifiedSupplier(PermissionDenied):
    """Only verified suppliers see the RFQ board and bid (403)."""


class CapacityGone(StateConflict):
    """The factory's weekly capacity for the weeks the job needs is already booked (409)."""


class ProfileInvalid(DomainValidationError):
    """A supplier profile's capabilities are inconsistent (batch range, capacity)."""


class BomInvalid(DomainValidationError):
    """An uploaded BOM cannot be read as it is; carries every problem with its row and column
    (row 0: the whole file). Nothing was saved."""

    def __init__(self, errors: list[dict]):
        super().__init__({"file": [_bom_error_text(e) for e in errors]})
        self.errors = errors


def _bom_error_text(error: dict) -> str:
    if not error["row"]:
        return error["message"]
    return f"Row {error['row']}, column “{error['column']}”: {error['message']}"


class BomLineInvalid(DomainValidationError):
    """A change to a BOM line breaks a rule (unknown part, quantity, substitutes)."""


class RateCardInvalid(DomainValidationError):
    """A rate card that cannot be published: not a factory, a price out of range, an unknown process."""


class StockInvalid(DomainValidationError):
    """A buyer's stock list (a file, or a row) cannot be taken as it is; carries every problem with
    its row and column (row 0: the whole file or a form field). Nothing was changed."""

    def __init__(self, errors: list[dict]):
        super().__init__({"file": [_bom_error_text(e) for e in errors]})
        self.errors = errors


class PurchasePlanInvalid(DomainValidationError):
    """A purchase plan that cannot be made: no sources, a source twice, a quantity out of range."""
