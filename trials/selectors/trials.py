"""Querysets for trials, with their joins chosen."""

from __future__ import annotations

from django.db.models import Prefetch, Q, QuerySet
from django.shortcuts import get_object_or_404

from trials.models import Trial, TrialArm, WebhookDelivery, WebhookEndpoint


def trial_list(
    *, organization, status: str | None = None, verdict: str | None = None, mode: str | None = None,
    q: str | None = None,
) -> QuerySet[Trial]:
    qs = (Trial.objects.filter(organization=organization)
          .select_related("kit", "kit__owner")
          .prefetch_related(Prefetch("arms", queryset=TrialArm.objects.order_by("position", "id"))))
    if status:
        qs = qs.filter(status=status)
    if verdict:
        qs = qs.filter(verdict=verdict)
    if mode:
        qs = qs.filter(mode=mode)
    if q:
        qs = qs.filter(Q(name__icontains=q) | Q(kit__name__icontains=q))
    return qs.order_by("-created_at", "-id")


def trial_get(*, organization, pk: int) -> Trial:
    """The organisation's trial, or 404 (another organisation's trial does not exist for you)."""
    return get_object_or_404(trial_list(organization=organization).select_related("quote", "reorder_quote", "order"), pk=pk)


def trial_arm_list(*, trial: Trial) -> QuerySet[TrialArm]:
    return TrialArm.objects.filter(trial=trial).order_by("position", "id")


def trial_sales_list(*, trial: Trial) -> QuerySet:
    from trials.models import SalesEvent

    return SalesEvent.objects.filter(trial=trial).select_related("arm").order_by("-sold_at", "-id")


def trial_visible_kit_list(*, organization):
    from marketplace.models import Kit

    return (Kit.objects.filter(Q(owner__verified=True, private=False) | Q(owner=organization), is_active=True, is_current=True)
            .select_related("owner").order_by("name", "-revision"))


def trial_kit_get(*, organization, kit_id: int):
    """A kit revision the organisation may trial: any active revision of a verified solution
    house's kit, or its own. Unknown -> TrialInvalid (a 400 on the `kit` field, not a 404)."""
    from marketplace.models import Kit
    from trials.exceptions import TrialInvalid

    kit = Kit.objects.filter(Q(owner__verified=True, private=False) | Q(owner=organization), pk=kit_id, is_active=True).first()
    if kit is None:
        raise TrialInvalid({"kit": ["Unknown kit."]})
    return kit


def webhook_endpoint_list(*, organization) -> QuerySet[WebhookEndpoint]:
    return WebhookEndpoint.objects.filter(organization=organization, is_active=True).order_by("-created_at", "-id")


def webhook_delivery_list(*, trial: Trial) -> QuerySet[WebhookDelivery]:
    return WebhookDelivery.objects.filter(trial=trial).select_related("endpoint").order_by("-created_at", "-id")
