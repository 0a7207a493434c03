"""Catalogue reads: parts and the listing search with prices at a quantity, in the database."""

from django.db.models import Prefetch, QuerySet

from marketplace.catalogue.models import Listing, Part, PriceBreak, normalize_mpn
from marketplace.catalogue.search.engine import ORDERINGS
from marketplace.catalogue.search.filters import keyword_q, listing_visible_q
from organizations.models import Organization

LISTING_ORDERINGS = ORDERINGS  # one definition, in catalogue/search/engine.py


def part_list(*, q: str | None = None, mpn: str | None = None, category: str | None = None) -> QuerySet[Part]:
    qs = Part.objects.all()
    if mpn and (key := normalize_mpn(mpn)):
        qs = qs.filter(mpn_normalized__startswith=key)
    if q:
        qs = qs.filter(keyword_q(q, prefix=""))
    if category:
        qs = qs.filter(category__iexact=category)
    return qs.order_by("manufacturer", "mpn", "id")




def listing_list(*, viewer: Organization | None, vendor: Organization | None = None) -> QuerySet[Listing]:
    """Listings the viewer may open (with joins for the API shape); `vendor` narrows to one
    vendor (a supplier's own listings include inactive ones)."""
    qs = Listing.objects.select_related("vendor", "part").prefetch_related(
        Prefetch("price_breaks", queryset=PriceBreak.objects.order_by("min_qty"))
    )
    if vendor is not None and viewer is not None and vendor.pk == viewer.pk:
        return qs.filter(vendor=vendor, reserved_for__isnull=True)  # awarded RFQ offers are not stock-list rows
    qs = qs.filter(listing_visible_q(viewer), is_active=True)
    return qs.filter(vendor=vendor) if vendor is not None else qs
