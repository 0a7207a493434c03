"""Trials URLs: `api_urlpatterns` are mounted under /api/v1/, `urlpatterns` are HTML pages."""

from django.urls import path

from trials import api, views

app_name = "trials"

api_urlpatterns = [
    path("trials/", api.TrialListCreateApi.as_view(), name="trial-list"),
    path("trials/forecast/", api.TrialForecastApi.as_view(), name="trial-forecast"),
    path("trials/funnel/", api.TrialFunnelApi.as_view(), name="trial-funnel"),
    path("trials/webhooks/", api.WebhookListCreateApi.as_view(), name="trial-webhook-list"),
    path("trials/webhooks/<int:pk>/", api.WebhookDeleteApi.as_view(), name="trial-webhook-delete"),
    path("trials/<int:pk>/", api.TrialDetailApi.as_view(), name="trial-detail"),
    path("trials/<int:pk>/start/", api.TrialStartApi.as_view(), name="trial-start"),
    path("trials/<int:pk>/sales/", api.TrialSalesApi.as_view(), name="trial-sales"),
    path("trials/<int:pk>/report/", api.TrialReportApi.as_view(), name="trial-report"),
    path("trials/<int:pk>/report/csv/", api.TrialReportCsvApi.as_view(), name="trial-report-csv"),
    path("trials/<int:pk>/reorder-quote/", api.TrialReorderQuoteApi.as_view(), name="trial-reorder-quote"),
    path("trials/<int:pk>/restock-split/", api.TrialRestockSplitApi.as_view(), name="trial-restock-split"),
    path("trials/<int:pk>/forecast/", api.TrialDraftForecastApi.as_view(), name="trial-draft-forecast"),
    path("trials/<int:pk>/financing/", api.TrialFinancingApi.as_view(), name="trial-financing"),
    path("trials/<int:pk>/cash-plan/", api.TrialCashPlanApi.as_view(), name="trial-cash-plan"),
]

urlpatterns = [
    path("", views.trial_list_view, name="trial-list"),
    path("new/", views.trial_create_view, name="trial-create"),
    path("funnel/", views.funnel_view, name="funnel"),
    path("webhooks/", views.webhook_list_view, name="webhooks"),
    path("<int:pk>/", views.trial_detail_view, name="trial-detail"),
    path("<int:pk>/start/", views.trial_start_view, name="trial-start"),
    path("<int:pk>/forecast/", views.trial_forecast_view, name="trial-forecast"),
    path("<int:pk>/reorder/", views.trial_reorder_view, name="trial-reorder"),
    path("<int:pk>/demand-order/", views.trial_demand_order_view, name="trial-demand-order"),
    path("<int:pk>/restock-split/", views.trial_restock_split_view, name="trial-restock-split"),
    path("<int:pk>/report.csv", views.trial_report_csv_view, name="trial-report-csv"),
    path("<int:pk>/progress/", views.trial_progress_view, name="trial-progress"),
]
