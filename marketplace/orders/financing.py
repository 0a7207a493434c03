"""Financers: how an order paid by a financed method (`demand_credit`) gets the credit line that
pays its vendors. A later app registers the function for its method at start-up (trials registers
`demand_credit` in trials.apps), so the marketplace places such orders without importing it: the
function is passed in, not imported (apps depend one way).

A financer is called inside `order_place`'s transaction, after the order and its purchase orders
exist and before any payment opens: `fn(*, buyer, order, quote, reference) -> CreditLine`. It
raises a domain error to refuse, which rolls the whole order back.
"""

from __future__ import annotations

from collections.abc import Callable

_FINANCERS: dict[str, Callable] = {}


def order_financer_register(payment: str, fn: Callable) -> None:
    _FINANCERS[payment] = fn


def order_financer(payment: str) -> Callable | None:
    return _FINANCERS.get(payment)
