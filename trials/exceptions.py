"""Named errors of the trials app (the API maps them: 400, 409)."""

from config.errors import DomainValidationError, StateConflict


class TrialInvalid(DomainValidationError):
    """The trial as described cannot be run (targets, arms, demand model, kit)."""


class TrialNotInState(StateConflict):
    """The step is out of turn for the trial's status (e.g. starting a closed trial)."""


class SalesRejected(DomainValidationError):
    """A batch of sales events is invalid (unknown arm, more than on hand, outside the window);
    none of the batch was recorded."""


class SalesConflict(StateConflict):
    """An external_id already reported with different content (409): one of the reports is wrong,
    and counting either silently would hide it."""
