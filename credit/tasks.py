"""Celery entry points of the credit app: thin and idempotent; they call services."""

from celery import shared_task


@shared_task(name="credit.tasks.hold_expire_due_task")
def hold_expire_due_task() -> int:
    """Every minute: void holds past their expiry (each resolves at most once)."""
    from credit.services import hold_expire_due

    return hold_expire_due()


@shared_task(name="credit.tasks.invoice_mark_overdue_task")
def invoice_mark_overdue_task() -> dict:
    """Daily: mark invoices past due as overdue; freeze lines past their grace period."""
    from credit.services import invoice_mark_overdue

    return invoice_mark_overdue()


@shared_task(name="credit.tasks.reserve_release_due_task")
def reserve_release_due_task() -> int:
    """Every five minutes: move rolling-reserve tranches that are due back to suppliers' wallets."""
    from credit.services import reserve_release_due

    return reserve_release_due()
