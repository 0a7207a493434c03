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
