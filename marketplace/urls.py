"""Marketplace URLs: `api_urlpatterns` are mounted under /api/v1/, `urlpatterns` are HTML pages."""

from django.urls import path

from marketplace import api, views

app_name = "marketplace"

api_urlpatterns = [
    path("auth/token/", api.AuthTokenApi.as_view(), name="auth-token"),
    path("me/", api.MeApi.as_view(), name="me"),
    path("organizations/", api.OrganizationListCreateApi.as_view(), name="organization-list"),
    path("organizations/<int:pk>/", api.OrganizationDetailApi.as_view(), name="organization-detail"),
    path("organizations/<int:pk>/verify/", api.OrganizationVerifyApi.as_view(), name="organization-verify"),
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
]

urlpatterns = [
    path("organizations/<int:pk>/", views.OrganizationDetailView.as_view(), name="organization-detail"),
]
