"""The dashboard panel of the credit app (home.html includes credit/_home.html with only `org`)."""

from decimal import Decimal

from django import template

from credit.selectors import aging, credit_line_list, open_invoice_list, wallet_summary

register = template.Library()


@register.inclusion_tag("credit/_home_panel.html")
def credit_home_panel(org):
    if org is None:
        return {"org": None}
    payables = aging(organization=org, side="payables")
    receivables = aging(organization=org, side="receivables") if org.is_supplier else None
    lines = credit_line_list(organization=org)
    return {
        "org": org,
        "accounts": wallet_summary(organization=org),
        "next_invoice": open_invoice_list(buyer=org).first(),
        "payables": payables["totals"],
        "receivables": receivables["totals"] if receivables else [],
        "overdue_receivables": sum((t["total"] - t["buckets"]["current"] for t in receivables["totals"]), Decimal("0"))
        if receivables else Decimal("0"),
        "lines_granted": lines.filter(supplier=org).count() if org.is_supplier else 0,
        "lines_received": lines.filter(buyer=org).count(),
        "vouched": list(lines.filter(vouched_by=org)),
    }


@register.filter
def get_item(mapping, key):
    """`{{ buckets|get_item:"1-30" }}`: dictionary keys that are not identifiers."""
    return mapping.get(key) if hasattr(mapping, "get") else None
