from django import template

from trials.models import TrialStatus, TrialVerdict

register = template.Library()

VERDICT_BADGE = {TrialVerdict.SCALE: "badge-good", TrialVerdict.ITERATE: "badge-warn", TrialVerdict.KILL: "badge-bad"}


@register.simple_tag
def trials_home(org) -> dict:
    """The dashboard panel's numbers: open trials, recent verdicts, the funnel's headline."""
    from trials.selectors import trial_funnel, trial_list

    if org is None or not org.is_buyer:
        return {}
    trials = trial_list(organization=org)
    funnel = trial_funnel(organization=org)  # live trials
    if not funnel["trials"] and funnel["by_mode"]["simulated"]:
        funnel = trial_funnel(organization=org, simulated=True)  # labelled as simulated on the panel
    return {
        "open": list(trials.filter(status__in=[TrialStatus.PROCURING, TrialStatus.SELLING])[:5]),
        "drafts": list(trials.filter(status=TrialStatus.DRAFT)[:3]),
        "recent": list(trials.filter(status=TrialStatus.CLOSED).order_by("-closed_at", "-id")[:5]),
        "funnel": funnel,
    }


@register.filter
def verdict_badge(verdict: str) -> str:
    return VERDICT_BADGE.get(verdict, "")


@register.filter
def percent(value, digits: int = 0) -> str:
    if value is None or value == "":
        return "—"
    return f"{float(value) * 100:.{int(digits)}f}%"
