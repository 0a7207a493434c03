"""Marketplace URLs: `api_urlpatterns` are mounted under /api/v1/, `urlpatterns` are HTML pages."""

from django.urls import path

from marketplace import api, api_rfqs, views, views_rfqs

app_name = "marketplace"

api_urlpatterns = [
    path("organizations/", api.OrganizationListCreateApi.as_view(), name="organization-list"),
    path("organizations/<int:pk>/", api.OrganizationDetailApi.as_view(), name="organization-detail"),
    path("parts/", api.PartListApi.as_view(), name="part-list"),
    path("listings/", api.ListingListCreateApi.as_view(), name="listing-list"),
    path("listings/import/", api.StockListImportApi.as_view(), name="listing-import"),
    path("listings/<int:pk>/", api.ListingDetailApi.as_view(), name="listing-detail"),
    path("kits/", api.KitListCreateApi.as_view(), name="kit-list"),
    path("kits/<int:pk>/", api.KitDetailApi.as_view(), name="kit-detail"),
    path("kits/<int:pk>/quote/", api.KitQuoteApi.as_view(), name="kit-quote"),
    path("quotes/", api.QuoteListApi.as_view(), name="quote-list"),
    path("quotes/<int:pk>/", api.QuoteDetailApi.as_view(), name="quote-detail"),
    path("orders/", api.OrderListCreateApi.as_view(), name="order-list"),
    path("orders/<int:pk>/", api.OrderDetailApi.as_view(), name="order-detail"),
    path("orders/<int:pk>/<str:step>/", api.OrderStepApi.as_view(), name="order-step"),
    path("purchase-orders/", api.PurchaseOrderListApi.as_view(), name="purchase-order-list"),
    path("purchase-orders/<int:pk>/<str:step>/", api.PurchaseOrderStepApi.as_view(), name="purchase-order-step"),
    path("rfqs/", api_rfqs.RfqListCreateApi.as_view(), name="rfq-list"),
    path("rfqs/<int:pk>/", api_rfqs.RfqDetailApi.as_view(), name="rfq-detail"),
    path("rfqs/<int:pk>/bids/", api_rfqs.RfqBidApi.as_view(), name="rfq-bids"),
    path("rfqs/<int:pk>/award/", api_rfqs.RfqAwardApi.as_view(), name="rfq-award"),
    path("rfqs/<int:pk>/<str:step>/", api_rfqs.RfqStepApi.as_view(), name="rfq-step"),
    path("bids/", api_rfqs.MyBidListApi.as_view(), name="bid-list"),
    path("organizations/<int:pk>/capabilities/", api_rfqs.CapabilitiesApi.as_view(), name="organization-capabilities"),
    path("notifications/", api_rfqs.NotificationListApi.as_view(), name="notification-list"),
    path("notifications/read/", api_rfqs.NotificationReadApi.as_view(), name="notification-read"),
    path("market-webhooks/", api_rfqs.MarketWebhookListCreateApi.as_view(), name="market-webhook-list"),
    path("market-webhooks/<int:pk>/", api_rfqs.MarketWebhookDeleteApi.as_view(), name="market-webhook-detail"),
]

urlpatterns = [
    path("organizations/<int:pk>/", views.OrganizationDetailView.as_view(), name="organization-detail"),
    path("parts/", views.listing_search_view, name="listing-search"),
    path("listings/mine/", views.my_listings_view, name="my-listings"),
    path("listings/import/", views.stock_list_import_view, name="listing-import"),
    path("kits/", views.kit_list_view, name="kit-list"),
    path("kits/<int:pk>/", views.kit_detail_view, name="kit-detail"),
    path("kits/<int:pk>/quote/", views.kit_quote_view, name="kit-quote"),
    path("quotes/<int:pk>/", views.quote_detail_view, name="quote-detail"),
    path("orders/", views.order_list_view, name="order-list"),
    path("orders/new/", views.order_create_view, name="order-create"),
    path("orders/<int:pk>/", views.order_detail_view, name="order-detail"),
    path("purchase-orders/", views.purchase_order_list_view, name="purchase-order-list"),
    path("purchase-orders/<int:pk>/<str:step>/", views.purchase_order_step_view, name="purchase-order-step"),
    path("rfqs/", views_rfqs.rfq_list_view, name="rfq-list"),
    path("rfqs/new/", views_rfqs.rfq_create_view, name="rfq-create"),
    path("rfqs/board/", views_rfqs.rfq_board_view, name="rfq-board"),
    path("rfqs/bids/", views_rfqs.my_bids_view, name="my-bids"),
    path("rfqs/capabilities/", views_rfqs.capabilities_view, name="capabilities"),
    path("rfqs/<int:pk>/", views_rfqs.rfq_detail_view, name="rfq-detail"),
    path("rfqs/<int:pk>/bid/", views_rfqs.rfq_bid_view, name="rfq-bid"),
    path("rfqs/<int:pk>/award/", views_rfqs.rfq_award_view, name="rfq-award"),
    path("rfqs/<int:pk>/close/", views_rfqs.rfq_close_view, name="rfq-close"),
    path("quotes/<int:pk>/ask-market/", views_rfqs.rfq_from_quote_view, name="quote-ask-market"),
    path("inbox/", views_rfqs.inbox_view, name="inbox"),
]
