"""Reads for the marketplace app, one module per area; everything is importable from here."""

from marketplace.selectors.catalogue import (  # noqa: F401
    LISTING_ORDERINGS,
    listing_list,
    listing_search,
    search_filters,
    listing_visible_q,
    part_list,
)
from marketplace.selectors.boms import bom_get, bom_line_rows, bom_list  # noqa: F401
from marketplace.selectors.kits import kit_get, kit_list, kit_tree  # noqa: F401
from marketplace.selectors.orders import (  # noqa: F401
    fulfilment_record,
    order_list,
    purchase_order_list,
    quote_list,
    quote_open_order,
    quote_vendor_subtotals,
)
from marketplace.selectors.search import (  # noqa: F401
    DisplayCurrency,
    SearchFilters,
    offer_fill,
    offer_search,
    search_facets,
)
