"""Celery entry points of orders: the market's deadline sweep and the demo's simulated
counterparty. The services re-check every order under its row lock, so a redelivered or doubled
task is harmless."""

from celery import shared_task

from marketplace.exceptions import SweepInThePast
from marketplace.orders.deadlines import market_deadlines_sweep, simulated_counterparty_run


@shared_task(name="marketplace.tasks.market_deadlines_task")
def market_deadlines_task() -> int:
    """Beat: the market's deadline sweep as of now (`manage.py market_deadlines` runs the same).
    A sweep already run as of a later moment (an operator's --as-of) makes this one wait."""
    try:
        return len(market_deadlines_sweep().expired)
    except SweepInThePast:
        return 0


@shared_task(name="marketplace.tasks.simulated_counterparty_task")
def simulated_counterparty_task() -> dict:
    """Beat: demo stalls nobody logs in to confirm and ship their orders after a realistic delay."""
    return simulated_counterparty_run()
