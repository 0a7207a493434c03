"""HTML pages of factories: publishing a rate card from the factory's own page."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import redirect
from django.views.decorators.http import require_POST

from config.errors import error_text
from marketplace.factories.rate_cards import rate_card_publish
from organizations.access import get_acting_organization
from organizations.models import Role


@login_required
@require_POST
def rate_card_publish_view(request, pk: int):
    """The rate-card form on the factory's page (admins of that factory)."""
    org = get_acting_organization(request, role=Role.ADMIN)
    if org.pk != pk:
        raise Http404

    def batch(name):
        value = (request.POST.get(name) or "").strip()
        return int(value) if value.isdigit() else (None if not value else value)

    try:
        card = rate_card_publish(
            organization=org, currency=request.POST.get("currency", ""), setup_fee=request.POST.get("setup_fee"),
            per_placement=request.POST.get("per_placement"), per_unique_part=request.POST.get("per_unique_part"),
            processes=request.POST.getlist("processes"), min_batch=batch("min_batch"), max_batch=batch("max_batch"))
    except ValidationError as exc:
        messages.error(request, error_text(exc))
    else:
        messages.success(request, f"Rate card version {card.version} published: new quotes with \"cheapest factory\" "
                                  "assembly can choose you; earlier quotes keep the card they used.")
    return redirect("marketplace:organization-detail", pk=pk)
