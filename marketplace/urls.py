"""Marketplace URLs: `api_urlpatterns` are mounted under /api/v1/, `urlpatterns` are HTML pages."""

from django.urls import path, re_path

from marketplace.boms import api as boms_api
from marketplace.boms import health_api as boms_health_api
from marketplace.boms import views as boms_views
from marketplace.catalogue import api as catalogue_api
from marketplace.catalogue import views as catalogue_views
from marketplace.directory import api as directory_api
from marketplace.directory import views as directory_views
from marketplace.factories import api as factories_api
from marketplace.factories import views as factories_views
from marketplace.kits import api as kits_api
from marketplace.kits import views as kits_views
from marketplace.orders import api as orders_api
from marketplace.orders import views as orders_views
from marketplace.plans import api as plans_api
from marketplace.plans import views as plans_views
from marketplace.rfqs import api as rfqs_api
from marketplace.rfqs import views as rfqs_views
from marketplace.sourcing import api as sourcing_api
from marketplace.sourcing import views as sourcing_views

app_name = "marketplace"

api_urlpatterns = [
    path("organizations/", directory_api.OrganizationListCreateApi.as_view(), name="organization-list"),
    path("organizations/<int:pk>/", directory_api.OrganizationDetailApi.as_view(), name="organization-detail"),
    path("organizations/<int:pk>/order-terms/", catalogue_api.OrderTermsApi.as_view(), name="organization-order-terms"),
    path("parts/", catalogue_api.PartListApi.as_view(), name="part-list"),
    path("parts/search/", catalogue_api.PartSearchApi.as_view(), name="part-search"),
    path("parts/facets/", catalogue_api.PartFacetsApi.as_view(), name="part-facets"),
    path("parts/<int:pk>/", directory_api.PartDetailApi.as_view(), name="part-detail"),
    path("listings/", catalogue_api.ListingListCreateApi.as_view(), name="listing-list"),
    path("listings/import/", catalogue_api.StockListImportApi.as_view(), name="listing-import"),
    path("listings/import/<int:pk>/", catalogue_api.StockListImportDetailApi.as_view(), name="listing-import-detail-api"),
    path("listings/<int:pk>/", catalogue_api.ListingDetailApi.as_view(), name="listing-detail"),
    path("kits/", kits_api.KitListCreateApi.as_view(), name="kit-list"),
    path("kits/<int:pk>/", kits_api.KitDetailApi.as_view(), name="kit-detail"),
    path("kits/<int:pk>/quote/", sourcing_api.KitQuoteApi.as_view(), name="kit-quote"),
    path("boms/", boms_api.BomListCreateApi.as_view(), name="bom-list"),
    path("boms/<int:pk>/", boms_api.BomDetailApi.as_view(), name="bom-detail"),
    path("boms/<int:pk>/lines/<int:line>/", boms_api.BomLineUpdateApi.as_view(), name="bom-line"),
    path("boms/<int:pk>/quote/", boms_api.BomQuoteApi.as_view(), name="bom-quote"),
    path("boms/<int:pk>/health/", boms_health_api.BomHealthApi.as_view(), name="bom-health"),
    path("boms/<int:pk>/alternates/", boms_health_api.BomAlternatesApi.as_view(), name="bom-alternates"),
    path("boms/<int:pk>/lines/<int:line>/alternate/", boms_health_api.BomAlternateApproveApi.as_view(),
         name="bom-line-alternate"),
    path("boms/<int:pk>/watch/", boms_health_api.BomWatchApi.as_view(), name="bom-watch"),
    path("quotes/", sourcing_api.QuoteListApi.as_view(), name="quote-list"),
    path("quotes/<int:pk>/", sourcing_api.QuoteDetailApi.as_view(), name="quote-detail"),
    path("quotes/<int:pk>/export/<str:kind>/", boms_api.QuoteExportApi.as_view(), name="quote-export"),
    path("stock/", plans_api.StockListApi.as_view(), name="stock-list"),
    path("stock/import/", plans_api.StockImportApi.as_view(), name="stock-import"),
    path("stock/<int:part>/", plans_api.StockRowApi.as_view(), name="stock-row"),
    path("purchase-plans/", plans_api.PurchasePlanListCreateApi.as_view(), name="purchase-plan-list"),
    path("purchase-plans/<int:pk>/", plans_api.PurchasePlanDetailApi.as_view(), name="purchase-plan-detail"),
    path("orders/", orders_api.OrderListCreateApi.as_view(), name="order-list"),
    path("orders/<int:pk>/", orders_api.OrderDetailApi.as_view(), name="order-detail"),
    path("orders/<int:pk>/remainder-quote/", orders_api.OrderRemainderQuoteApi.as_view(), name="order-remainder-quote"),
    path("orders/<int:pk>/complete/", orders_api.OrderCompleteApi.as_view(), name="order-complete"),
    path("orders/<int:pk>/<str:step>/", orders_api.OrderStepApi.as_view(), name="order-step"),
    path("purchase-orders/", orders_api.PurchaseOrderListApi.as_view(), name="purchase-order-list"),
    path("purchase-orders/<int:pk>/dispute/", orders_api.PurchaseOrderDisputeApi.as_view(), name="purchase-order-dispute"),
    path("purchase-orders/<int:pk>/shipments/", orders_api.PurchaseOrderShipmentListCreateApi.as_view(),
         name="purchase-order-shipments"),
    path("purchase-orders/<int:pk>/shipments/<int:shipment_id>/receive/", orders_api.ShipmentReceiveApi.as_view(),
         name="purchase-order-shipment-receive"),
    path("purchase-orders/<int:pk>/resource/", orders_api.PurchaseOrderResourceApi.as_view(),
         name="purchase-order-resource"),
    re_path(r"^lots/(?P<lot>[^/]{1,60})/trace/$", orders_api.LotTraceApi.as_view(), name="lot-trace"),
    path("purchase-orders/<int:pk>/<str:step>/", orders_api.PurchaseOrderStepApi.as_view(), name="purchase-order-step"),
    path("rfqs/", rfqs_api.RfqListCreateApi.as_view(), name="rfq-list"),
    path("rfqs/<int:pk>/", rfqs_api.RfqDetailApi.as_view(), name="rfq-detail"),
    path("rfqs/<int:pk>/bids/", rfqs_api.RfqBidApi.as_view(), name="rfq-bids"),
    path("rfqs/<int:pk>/award/", rfqs_api.RfqAwardApi.as_view(), name="rfq-award"),
    path("rfqs/<int:pk>/<str:step>/", rfqs_api.RfqStepApi.as_view(), name="rfq-step"),
    path("bids/", rfqs_api.MyBidListApi.as_view(), name="bid-list"),
    path("organizations/<int:pk>/capabilities/", rfqs_api.CapabilitiesApi.as_view(), name="organization-capabilities"),
    path("organizations/<int:pk>/rate-card/", factories_api.RateCardApi.as_view(), name="organization-rate-card"),
    path("notifications/", rfqs_api.NotificationListApi.as_view(), name="notification-list"),
    path("notifications/read/", rfqs_api.NotificationReadApi.as_view(), name="notification-read"),
    path("market-webhooks/", rfqs_api.MarketWebhookListCreateApi.as_view(), name="market-webhook-list"),
    path("market-webhooks/<int:pk>/", rfqs_api.MarketWebhookDeleteApi.as_view(), name="market-webhook-detail"),
]

urlpatterns = [
    path("organizations/<int:pk>/", directory_views.OrganizationDetailView.as_view(), name="organization-detail"),
    path("organizations/<int:pk>/rate-card/", factories_views.rate_card_publish_view, name="rate-card-publish"),
    path("order-terms/", catalogue_views.order_terms_view, name="order-terms"),
    path("parts/", catalogue_views.listing_search_view, name="listing-search"),
    path("parts/<int:pk>/", directory_views.part_detail_view, name="part-detail"),
    path("listings/mine/", catalogue_views.my_listings_view, name="my-listings"),
    path("listings/import/", catalogue_views.stock_list_import_view, name="listing-import"),
    path("listings/import/<int:pk>/", catalogue_views.stock_list_import_detail_view, name="listing-import-detail"),
    path("kits/", kits_views.kit_list_view, name="kit-list"),
    path("kits/<int:pk>/", kits_views.kit_detail_view, name="kit-detail"),
    path("kits/<int:pk>/quote/", sourcing_views.kit_quote_view, name="kit-quote"),
    path("kits/<int:pk>/edit/", boms_views.kit_edit_view, name="kit-edit"),
    path("boms/", boms_views.bom_list_view, name="bom-list"),
    path("boms/preview/", boms_views.bom_preview_view, name="bom-preview"),
    path("boms/<int:pk>/", boms_views.bom_detail_view, name="bom-detail"),
    path("boms/<int:pk>/lines/add/", boms_views.bom_line_add_view, name="bom-line-add"),
    path("boms/<int:pk>/lines/<int:line>/", boms_views.bom_line_view, name="bom-line"),
    path("boms/<int:pk>/quote/", boms_views.bom_quote_view, name="bom-quote"),
    path("boms/<int:pk>/trial/", boms_views.bom_trial_view, name="bom-trial"),
    path("boms/<int:pk>/publish/", boms_views.bom_publish_view, name="bom-publish"),
    path("quotes/", boms_views.quote_list_view, name="quote-list"),
    path("quotes/<int:pk>/", sourcing_views.quote_detail_view, name="quote-detail"),
    path("quotes/<int:pk>/export.<str:fmt>", boms_views.quote_export_view, name="quote-export"),
    path("stock/", plans_views.stock_view, name="stock"),
    path("plans/", plans_views.plan_list_view, name="plan-list"),
    path("plans/<int:pk>/", plans_views.plan_detail_view, name="plan-detail"),
    path("orders/", orders_views.order_list_view, name="order-list"),
    path("orders/new/", orders_views.order_create_view, name="order-create"),
    path("orders/<int:pk>/", orders_views.order_detail_view, name="order-detail"),
    path("orders/<int:pk>/complete/", orders_views.order_complete_view, name="order-complete-page"),
    path("purchase-orders/", orders_views.purchase_order_list_view, name="purchase-order-list"),
    path("purchase-orders/<int:pk>/dispute/", orders_views.purchase_order_dispute_view, name="purchase-order-dispute-page"),
    path("purchase-orders/<int:pk>/resource/", orders_views.purchase_order_resource_view, name="purchase-order-resource-page"),
    path("purchase-orders/<int:pk>/shipments/", orders_views.purchase_order_shipment_view, name="purchase-order-shipment-page"),
    path("purchase-orders/<int:pk>/shipments/<int:shipment_id>/receive/", orders_views.purchase_order_receive_view,
         name="purchase-order-receive-page"),
    path("purchase-orders/<int:pk>/<str:step>/", orders_views.purchase_order_step_view, name="purchase-order-step"),
    path("rfqs/", rfqs_views.rfq_list_view, name="rfq-list"),
    path("rfqs/new/", rfqs_views.rfq_create_view, name="rfq-create"),
    path("rfqs/board/", rfqs_views.rfq_board_view, name="rfq-board"),
    path("rfqs/bids/", rfqs_views.my_bids_view, name="my-bids"),
    path("rfqs/capabilities/", rfqs_views.capabilities_view, name="capabilities"),
    path("rfqs/<int:pk>/", rfqs_views.rfq_detail_view, name="rfq-detail"),
    path("rfqs/<int:pk>/bid/", rfqs_views.rfq_bid_view, name="rfq-bid"),
    path("rfqs/<int:pk>/award/", rfqs_views.rfq_award_view, name="rfq-award"),
    path("rfqs/<int:pk>/close/", rfqs_views.rfq_close_view, name="rfq-close"),
    path("quotes/<int:pk>/ask-market/", rfqs_views.rfq_from_quote_view, name="quote-ask-market"),
    path("inbox/", rfqs_views.inbox_view, name="inbox"),
]
