"""Every model of the marketplace, for Django (which loads an app's models from here) and for
code outside the app. Each room keeps its own models; inside the app, import from the room."""

from marketplace.boms.models import Bom, BomItem, MatchStatus  # noqa: F401
from marketplace.catalogue.models import (  # noqa: F401
    CategoryVocabulary,
    Currency,
    Listing,
    ListingPriceChange,
    Part,
    PartPackBand,
    PartPriceBand,
    PriceBreak,
    StockListImport,
    VendorOrderTerms,
    normalize_mpn,
    part_search_fields,
    search_text_of,
)
from marketplace.factories.models import CapacityBooking, RateCard, SupplierProfile  # noqa: F401
from marketplace.kits.models import AssemblyBreak, BomLine, Kit, KitNrePaid, SubKit  # noqa: F401
from marketplace.notifications.models import (  # noqa: F401
    MarketWebhookDelivery,
    MarketWebhookEndpoint,
    Notification,
)
from marketplace.orders.models import (  # noqa: F401
    Order,
    OrderStatus,
    MarketSweep,
    PurchaseOrder,
    PurchaseOrderLine,
    Shipment,
    ShipmentLine,
)
from marketplace.plans.models import BuyerStock, PurchasePlan, PurchasePlanNeed, PurchasePlanSource  # noqa: F401
from marketplace.rfqs.models import Bid, BidLine, BidPriceBreak, Rfq, RfqLine  # noqa: F401
from marketplace.sourcing.models import (  # noqa: F401
    AssemblyOffer,
    Quote,
    QuoteAllocation,
    QuoteLine,
    QuoteVendor,
)
