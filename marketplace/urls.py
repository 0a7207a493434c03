"""Marketplace URLs: `api_urlpatterns` are mounted under /api/v1/, `urlpatterns` are HTML pages."""

from django.urls import path

from marketplace import api, boms_api, boms_views, views

app_name = "marketplace"

api_urlpatterns = [
    path("organizations/", api.OrganizationListCreateApi.as_view(), name="organization-list"),
    path("organizations/<int:pk>/", api.OrganizationDetailApi.as_view(), name="organization-detail"),
    path("organizations/<int:pk>/order-terms/", api.OrderTermsApi.as_view(), name="organization-order-terms"),
    path("parts/", api.PartListApi.as_view(), name="part-list"),
    path("listings/", api.ListingListCreateApi.as_view(), name="listing-list"),
    path("listings/import/", api.StockListImportApi.as_view(), name="listing-import"),
    path("listings/<int:pk>/", api.ListingDetailApi.as_view(), name="listing-detail"),
    path("kits/", api.KitListCreateApi.as_view(), name="kit-list"),
    path("kits/<int:pk>/", api.KitDetailApi.as_view(), name="kit-detail"),
    path("kits/<int:pk>/quote/", api.KitQuoteApi.as_view(), name="kit-quote"),
    path("boms/", boms_api.BomListCreateApi.as_view(), name="bom-list"),
    path("boms/<int:pk>/", boms_api.BomDetailApi.as_view(), name="bom-detail"),
    path("boms/<int:pk>/lines/<int:line>/", boms_api.BomLineUpdateApi.as_view(), name="bom-line"),
    path("boms/<int:pk>/quote/", boms_api.BomQuoteApi.as_view(), name="bom-quote"),
    path("quotes/", api.QuoteListApi.as_view(), name="quote-list"),
    path("quotes/<int:pk>/", api.QuoteDetailApi.as_view(), name="quote-detail"),
    path("quotes/<int:pk>/export/<str:kind>/", boms_api.QuoteExportApi.as_view(), name="quote-export"),
    path("orders/", api.OrderListCreateApi.as_view(), name="order-list"),
    path("orders/<int:pk>/", api.OrderDetailApi.as_view(), name="order-detail"),
    path("orders/<int:pk>/<str:step>/", api.OrderStepApi.as_view(), name="order-step"),
    path("purchase-orders/", api.PurchaseOrderListApi.as_view(), name="purchase-order-list"),
    path("purchase-orders/<int:pk>/<str:step>/", api.PurchaseOrderStepApi.as_view(), name="purchase-order-step"),
]

urlpatterns = [
    path("organizations/<int:pk>/", views.OrganizationDetailView.as_view(), name="organization-detail"),
    path("order-terms/", views.order_terms_view, name="order-terms"),
    path("parts/", views.listing_search_view, name="listing-search"),
    path("listings/mine/", views.my_listings_view, name="my-listings"),
    path("listings/import/", views.stock_list_import_view, name="listing-import"),
    path("kits/", views.kit_list_view, name="kit-list"),
    path("kits/<int:pk>/", views.kit_detail_view, name="kit-detail"),
    path("kits/<int:pk>/quote/", views.kit_quote_view, name="kit-quote"),
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
    path("quotes/<int:pk>/", views.quote_detail_view, name="quote-detail"),
    path("quotes/<int:pk>/export.<str:fmt>", boms_views.quote_export_view, name="quote-export"),
    path("orders/", views.order_list_view, name="order-list"),
    path("orders/new/", views.order_create_view, name="order-create"),
    path("orders/<int:pk>/", views.order_detail_view, name="order-detail"),
    path("purchase-orders/", views.purchase_order_list_view, name="purchase-order-list"),
    path("purchase-orders/<int:pk>/<str:step>/", views.purchase_order_step_view, name="purchase-order-step"),
]
