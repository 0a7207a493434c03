"""`{% readonly_note %}`: the short note a page shows in place of the forms its reader may not use.

    {% load access_tags %}
    {% if can.write %}<form …>…</form>{% else %}{% readonly_note doing="award bids" %}{% endif %}

The note names the role that can act and who to ask (`organizations.access.PagePermissions.note`).
"""

from django import template
from django.utils.html import format_html

register = template.Library()


@register.simple_tag(takes_context=True)
def readonly_note(context, action: str = "write", doing: str = ""):
    can = context.get("can")
    text = can.note(action, doing) if can is not None else ""
    return format_html('<p class="readonly-note" role="note">{}</p>', text) if text else ""
