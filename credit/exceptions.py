"""Named errors of the credit app. DomainValidationError -> 400 (nothing changed), StateConflict -> 409,
IdempotencyConflict -> 422 (see config/api.py)."""

from config.errors import DomainValidationError, IdempotencyConflict, StateConflict  # noqa: F401


class LedgerError(DomainValidationError):
    pass


class UnbalancedEntry(LedgerError):
    """The legs of an entry do not sum to zero in every currency."""


class CurrencyMismatch(LedgerError):
    pass


class InvalidAmount(LedgerError):
    pass


class InsufficientFunds(LedgerError):
    """The account's available balance (balance minus holds) cannot cover the debit."""


class CreditLimitExceeded(LedgerError):
    """Outstanding plus reserved plus this draw would pass the line's limit."""


class NoCreditLine(LedgerError):
    pass


class CreditLineFrozen(LedgerError):
    pass


class CreditLineInvalid(LedgerError):
    pass


class RepaymentInvalid(LedgerError):
    pass


class ReversalInvalid(LedgerError):
    pass


class HoldAlreadyResolved(StateConflict):
    pass


class EntryAlreadyReversed(StateConflict):
    pass


class QueryInvalid(DomainValidationError):
    """A list filter with a value outside its choices."""


class BankReferenceAlreadyUsed(StateConflict):
    """This bank reference (normalised) was already used on the platform; the 409 names the first use."""


class TopupAlreadyRecorded(BankReferenceAlreadyUsed):
    """This bank receipt was already credited (to any organisation, however it was written)."""


class PayoutInvalid(LedgerError):
    pass


class PayoutAlreadyResolved(StateConflict):
    pass


class DisputeInvalid(LedgerError):
    pass


class DisputeConflict(StateConflict):
    """The purchase order is disputed, or not in a state a dispute step needs."""


class PaymentStepRefused(StateConflict):
    """The payment is not in a state that allows this step (e.g. a default before the grace period ends)."""


class FxRateMissing(DomainValidationError):
    """No exchange rate for the pair at that time."""


class FxRateInvalid(DomainValidationError):
    pass


class WriteOffInvalid(LedgerError):
    pass


class FeeScheduleInvalid(DomainValidationError):
    pass


class ReserveInvalid(DomainValidationError):
    pass


class StatementInvalid(DomainValidationError):
    """A bank statement that cannot be read (the whole file is refused)."""


class StatementLineConflict(StateConflict):
    pass


class DemandCreditConflict(StateConflict):
    """A proven trial's reorder is already ordered on its demand line (one order per trial)."""
