"""Credit URLs: `api_urlpatterns` are mounted under /api/v1/, `urlpatterns` are HTML pages."""

from django.urls import path

from credit import api, demand_api, platform_api, views

app_name = "credit"

api_urlpatterns = [
    path("accounts/", api.AccountListApi.as_view(), name="account-list"),
    path("accounts/<int:pk>/entries/", api.AccountEntryListApi.as_view(), name="account-entries"),
    path("wallet/topups/", api.WalletTopupApi.as_view(), name="wallet-topup"),
    path("credit-lines/", api.CreditLineListCreateApi.as_view(), name="credit-line-list"),
    path("credit-lines/<int:pk>/", api.CreditLineDetailApi.as_view(), name="credit-line-detail"),
    path("credit-lines/<int:pk>/repayments/", api.CreditLineRepaymentApi.as_view(), name="credit-line-repayments"),
    path("credit-lines/<int:pk>/invoices/", api.CreditLineInvoiceListApi.as_view(), name="credit-line-invoices"),
    path("credit/aging/", api.CreditAgingApi.as_view(), name="credit-aging"),
    path("credit/terms/", api.SupplierTermsApi.as_view(), name="credit-terms"),
    path("credit/demand-appetite/", demand_api.DemandAppetiteApi.as_view(), name="credit-demand-appetite"),
    path("credit/trust/<int:pk>/", api.OrganizationTrustApi.as_view(), name="credit-trust"),
    path("credit-lines/<int:pk>/write-off/", api.CreditLineWriteOffApi.as_view(), name="credit-line-write-off"),
    path("platform-credit-lines/", api.PlatformCreditLineListCreateApi.as_view(), name="platform-credit-line-list"),
    path("platform-credit-lines/<int:pk>/", api.PlatformCreditLineDetailApi.as_view(), name="platform-credit-line-detail"),
    path("payouts/", api.PayoutListCreateApi.as_view(), name="payout-list"),
    path("payouts/queue/", api.PayoutQueueApi.as_view(), name="payout-queue"),
    path("payouts/<int:pk>/settle/", api.PayoutSettleApi.as_view(), name="payout-settle"),
    path("payouts/<int:pk>/reject/", api.PayoutRejectApi.as_view(), name="payout-reject"),
    path("disputes/", api.DisputeListApi.as_view(), name="dispute-list"),
    path("disputes/<int:pk>/", api.DisputeDetailApi.as_view(), name="dispute-detail"),
    path("disputes/<int:pk>/resolve/", api.DisputeResolveApi.as_view(), name="dispute-resolve"),
    path("fx-rates/", api.FxRateListCreateApi.as_view(), name="fx-rate-list"),
    path("wallet/conversions/", api.WalletConversionApi.as_view(), name="wallet-conversion"),
    path("platform/fees/", platform_api.FeeScheduleApi.as_view(), name="platform-fees"),
    path("platform/revenue/", platform_api.RevenueApi.as_view(), name="platform-revenue"),
    path("platform/reserves/", platform_api.ReserveListApi.as_view(), name="platform-reserves"),
    path("platform/reserves/<int:pk>/", platform_api.ReserveSetApi.as_view(), name="platform-reserve"),
    path("bank-statements/", platform_api.BankStatementImportApi.as_view(), name="bank-statements"),
    path("bank-statements/lines/", platform_api.BankStatementLineListApi.as_view(), name="bank-statement-lines"),
    path("bank-statements/lines/<int:pk>/resolve/", platform_api.BankStatementLineResolveApi.as_view(),
         name="bank-statement-line-resolve"),
]

urlpatterns = [
    path("", views.wallet, name="wallet"),
    path("receivables/", views.receivables, name="receivables"),
    path("lines/<int:pk>/", views.line_detail, name="line-detail"),
    path("lines/<int:pk>/statement.csv", views.line_statement_csv, name="line-statement"),
    path("lines/<int:pk>/repay/", views.line_repay, name="line-repay"),
    path("lines/<int:pk>/update/", views.line_update, name="line-update"),
    path("lines/grant/", views.line_grant, name="line-grant"),
    path("terms/", views.terms_update, name="terms-update"),
    path("accounts/<int:pk>/", views.account_detail, name="account-detail"),
    path("payouts/", views.payouts, name="payouts"),
    path("desk/", views.desk, name="desk"),
    path("desk/payouts/", views.payout_queue, name="payout-queue"),
    path("desk/payouts/<int:pk>/", views.payout_resolve, name="payout-resolve"),
    path("desk/statements/", views.statement_upload, name="statement-upload"),
    path("desk/statements/lines/<int:pk>/", views.statement_line_close, name="statement-line-close"),
    path("disputes/", views.disputes, name="disputes"),
    path("disputes/<int:pk>/", views.dispute_detail, name="dispute-detail"),
    path("fx/", views.fx_rates, name="fx-rates"),
]
