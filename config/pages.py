"""Small helpers every HTML view uses: pagination, a safe redirect back, lenient integers."""

from django.core.paginator import Paginator
from django.shortcuts import redirect
from django.utils.http import url_has_allowed_host_and_scheme

PAGE_SIZE = 25


def paginate(request, qs):
    return Paginator(qs, PAGE_SIZE).get_page(request.GET.get("page"))




def redirect_back(request, fallback: str):
    target = request.POST.get("next") or request.META.get("HTTP_REFERER")
    if target and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        return redirect(target)
    return redirect(fallback)


def int_or_none(value, default=None):
    try:
        return int(value)
    except (TypeError, ValueError):
        return default


def whole_number(value, *, low: int, high: int, what: str = "units") -> tuple[int | None, str]:
    """A whole number typed in a form, read as typed ("1e9" is a billion, never 1), and the message
    in words when it is not one within [low, high] — the same limits as the field's min/max."""
    from decimal import Decimal, InvalidOperation

    text = str(value or "").strip().replace(",", "")
    hint = f"Enter a whole number of {what} from {low:,} to {high:,}"
    if not text:
        return None, hint + "."
    try:
        number = Decimal(text)
    except InvalidOperation:
        return None, f"{hint}; “{text[:20]}” is not a number."
    if not number.is_finite() or number != number.to_integral_value():
        return None, f"{hint}; “{text[:20]}” is not a whole number."
    if not low <= number <= high:
        return None, f"{hint}; {text[:20]} is {'more' if number > high else 'less'} than that."
    return int(number), ""
