"""HTML pages that show across rooms: an organisation's page and a part's page."""

from django.contrib.auth.decorators import login_required
from django.contrib.auth.mixins import LoginRequiredMixin
from django.shortcuts import get_object_or_404, render
from django.views.generic import DetailView

from config.pages import int_or_none
from marketplace.boms.selectors import part_boms
from marketplace.catalogue.models import Currency, Part
from marketplace.catalogue.search.parts import part_offers, part_price_history
from marketplace.catalogue.search.pricing import DisplayCurrency, offer_fill
from marketplace.catalogue.units import QUANTITY_KEYS, format_measure
from marketplace.catalogue.views import _display_currency
from marketplace.factories.selectors import supplier_profile_get
from marketplace.kits.selectors import part_kits
from marketplace.orders.models import Order
from marketplace.orders.selectors import fulfilment_record
from organizations.access import get_acting_organization
from organizations.selectors import organization_visible_list


class OrganizationDetailView(LoginRequiredMixin, DetailView):
    template_name = "marketplace/organization_detail.html"
    context_object_name = "organization"

    def get_queryset(self):
        return organization_visible_list(
            viewer=get_acting_organization(self.request, required=False), is_operator=self.request.user.is_staff
        )

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        if self.object.is_supplier:
            context["fulfilment"] = fulfilment_record(supplier=self.object)
            context["capabilities"] = supplier_profile_get(organization=self.object)
        return context


@login_required
def part_detail_view(request, pk: int):
    """A part: parameters, every offer at the quantity (with what it cannot fill), the kits that use
    it and its offers' price history."""

    part = get_object_or_404(Part, pk=pk)
    org = get_acting_organization(request, required=False)
    qty = int_or_none(request.GET.get("qty"))
    qty = qty if qty and 0 < qty <= 100_000_000 else None
    currency = _display_currency(request, org)
    offers = part_offers(viewer=org, part=part, qty=qty, display=DisplayCurrency(currency))
    for listing in offers:
        listing.fill = offer_fill(listing, qty)
    # Numbers as normalised (with the supplier's spelling beside them); text as the supplier wrote it.
    written = {str(k).strip().lower(): v for k, v in (part.parameters or {}).items()}
    parameters = [(key, written.get(key, ""), format_measure(QUANTITY_KEYS.get(key, ""), value))
                  if isinstance(value, (int, float)) else (key, "", written.get(key, value))
                  for key, value in sorted(part.parameter_values.items())]
    return render(request, "marketplace/part_detail.html", {
        "part": part, "qty": qty, "offers": offers, "parameters": parameters, "org": org,
        "currency": currency, "currencies": Currency.values,
        "kits": part_kits(viewer=org, part=part), "boms": part_boms(viewer=org, part=part), "history": part_price_history(viewer=org, part=part, qty=qty, limit=50),
        "payments": Order.Payment.choices,
    })
