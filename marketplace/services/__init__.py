"""Writes for the marketplace app, one module per area; everything is importable from here
(`from marketplace.services import order_place`)."""

from marketplace.services.kits import kit_create, kit_freeze, kit_update  # noqa: F401
from marketplace.services.listings import (  # noqa: F401
    StockListResult,
    listing_create,
    listing_price_history_record,
    listing_update,
    part_get_or_create,
    stock_list_import,
)
from marketplace.services.orders import (  # noqa: F401
    order_place,
    purchase_order_cancel,
    purchase_order_confirm,
    purchase_order_default,
    purchase_order_deliver,
    purchase_order_dispute,
    purchase_order_ship,
)
from marketplace.services.quotes import QuoteOptions, quote_constraint_costs, quote_create  # noqa: F401
from marketplace.services.terms import order_terms_set  # noqa: F401
from marketplace.services.boms import (  # noqa: F401,E402
    bom_from_kit,
    bom_kit_sync,
    bom_line_add,
    bom_line_update,
    bom_publish,
    bom_quote,
    bom_read_file,
    bom_upload,
)
