"""Times in the person's time zone, with the zone shown.

The browser tells us its zone: static/js/site.js stores `Intl.DateTimeFormat().resolvedOptions().timeZone`
in the `tz` cookie, and `TimeZoneMiddleware` activates it for the request (an unknown or missing zone
falls back to settings.TIME_ZONE, the market's Asia/Shanghai). Pages print times with the `when`
filter and messages with `when_text`, so every time on a page — and in a confirmation after a form —
is in the same zone and says which.
"""

from datetime import datetime
from urllib.parse import unquote
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django import template
from django.utils import timezone
from django.utils.html import format_html

COOKIE = "tz"


def zone_from_name(name: str | None) -> ZoneInfo | None:
    name = (name or "").strip()
    if not name or len(name) > 64 or ".." in name or name.startswith("/"):
        return None
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return None


class TimeZoneMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        zone = zone_from_name(unquote(request.COOKIES.get(COOKIE, "")))
        if zone is not None:
            timezone.activate(zone)
        else:
            timezone.deactivate()
        try:
            return self.get_response(request)
        finally:
            timezone.deactivate()


def zone_label(value: datetime | None = None) -> str:
    """`UTC+8`, `UTC-4:30`, `UTC`: the active zone's offset at `value` (now if not given)."""
    local = timezone.localtime(value) if value is not None else timezone.localtime()
    offset = local.utcoffset()
    minutes = int(offset.total_seconds() // 60) if offset is not None else 0
    if minutes == 0:
        return "UTC"
    sign, minutes = ("+" if minutes > 0 else "-"), abs(minutes)
    return f"UTC{sign}{minutes // 60}" + (f":{minutes % 60:02d}" if minutes % 60 else "")


def when_text(value: datetime | None) -> str:
    """A moment as the person reads it: `2026-12-07 13:04 UTC+8` (the active zone)."""
    if value is None:
        return ""
    if timezone.is_naive(value):
        value = timezone.make_aware(value)
    return f"{timezone.localtime(value):%Y-%m-%d %H:%M} {zone_label(value)}"


register = template.Library()


@register.filter
def when(value):
    """`{{ po.created_at|when }}` → <time datetime="…">2026-12-07 13:04</time> <small>UTC+8</small>."""
    if not isinstance(value, datetime):
        return value if value not in (None, "") else "—"
    if timezone.is_naive(value):
        value = timezone.make_aware(value)
    local = timezone.localtime(value)
    return format_html('<time datetime="{}" title="{}">{}</time>&nbsp;<small class="tz">{}</small>',
                       value.isoformat(), timezone.get_current_timezone_name(), f"{local:%Y-%m-%d %H:%M}", zone_label(value))


@register.simple_tag
def current_zone():
    """The active zone's name and offset, for the footer: `Asia/Shanghai (UTC+8)` (`UTC` alone)."""
    name, label = timezone.get_current_timezone_name(), zone_label()
    return name if name in (label, "Etc/UTC") else f"{name} ({label})"
