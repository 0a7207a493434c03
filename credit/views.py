"""HTML pages of the credit app, as thin as the APIs: a buyer's wallet, deposits and what it owes;
a supplier's receivables, limits and freezes; statements as CSV."""

import uuid
from decimal import Decimal

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from config.api import validation_error_detail
from config.errors import StateConflict, error_text
from config.exports import export_csv_writer
from credit.exceptions import IdempotencyConflict
from credit.fx import fx_convert
from credit.models import BankStatementLine, CreditLine, Currency, Dispute, Payout, SupplierTerms
from credit.selectors import (
    platform_revenue,
    statement_line_list,
    BUCKETS,
    account_list,
    aging,
    credit_line_list,
    deposit_list,
    dispute_at_stake,
    dispute_list,
    disputes_to_resolve,
    fx_rate_list,
    invoice_list,
    open_invoice_list,
    payout_list,
    payouts_to_settle,
    platform_money_figures,
    posting_list,
    statement_rows,
    trust_for_line,
    trust_for_lines,
    trust_for_organization,
    wallet_summary,
)
from credit.services import (
    statement_import,
    statement_line_resolve,
    credit_line_grant,
    credit_line_update,
    credit_repay,
    dispute_resolve,
    fx_rate_set,
    idempotency_run,
    payout_reject,
    payout_request,
    payout_settle,
    request_fingerprint,
    supplier_terms,
    supplier_terms_set,
)
from organizations.access import get_acting_organization
from organizations.models import Organization, Role


class RepayForm(forms.Form):
    amount = forms.DecimalField(max_digits=14, decimal_places=2, min_value=Decimal("0.01"))


class LineUpdateForm(forms.Form):
    limit = forms.DecimalField(max_digits=14, decimal_places=2, min_value=0, required=False)
    terms_days = forms.IntegerField(min_value=0, max_value=365, required=False, label="Terms (net days)")


class GrantForm(forms.Form):
    buyer = forms.ModelChoiceField(queryset=Organization.objects.none())
    limit = forms.DecimalField(max_digits=14, decimal_places=2, min_value=Decimal("0.01"),
                               help_text="The most this buyer may owe you at once.")
    currency = forms.ChoiceField(choices=Currency.choices)
    terms_days = forms.IntegerField(min_value=0, max_value=365, initial=30, label="Terms (net days)")
    vouched_by = forms.ModelChoiceField(queryset=Organization.objects.none(), required=False,
                                        help_text="Optional: a third organisation that vouches for the buyer.")

    def __init__(self, *args, supplier: Organization, **kwargs):
        super().__init__(*args, **kwargs)
        others = Organization.objects.exclude(pk=supplier.pk).order_by("name")
        self.fields["buyer"].queryset = others.filter(is_buyer=True)
        self.fields["vouched_by"].queryset = others.filter(verified=True)


class TermsForm(forms.ModelForm):
    class Meta:
        model = SupplierTerms
        fields = ["deposit_percent", "release_on", "forfeit_percent", "buyer_may_cancel", "default_grace_days",
                  "full_escrow_for_new_buyers"]


@login_required
def wallet(request):
    """The buyer's money: wallets, deposits in escrow, credit lines and what is owed when."""
    org = get_acting_organization(request)
    lines = list(credit_line_list(organization=org).filter(buyer=org))
    vouched = list(credit_line_list(organization=org).filter(vouched_by=org))
    return render(request, "credit/wallet.html", {
        "idempotency_token": uuid.uuid4().hex,
        "accounts": wallet_summary(organization=org),
        "deposits": deposit_list(organization=org)[:20],
        "lines": lines,
        "invoices": open_invoice_list(buyer=org)[:50],
        "payables": aging(organization=org, side="payables"),
        "vouched": vouched,
        "vouched_exposure": sum((line.outstanding for line in vouched), Decimal("0.00")),
        "trust": trust_for_organization(organization=org) if lines else None,
        "buckets": BUCKETS,
    })


def _receivables_context(request, org, *, grant_form=None) -> dict:
    lines = credit_line_list(organization=org).filter(supplier=org)
    if q := request.GET.get("q", "").strip():
        lines = lines.filter(buyer__name__icontains=q)
    if status := request.GET.get("status"):
        lines = lines.filter(status=status)
    page = Paginator(lines, 25).get_page(request.GET.get("page"))
    trust = trust_for_lines(lines=list(page))
    for line in page:
        line.trust = trust[line.pk]
    return {
        "page": page, "q": q, "status": status,
        "receivables": aging(organization=org, side="receivables"),
        "buckets": BUCKETS,
        "grant_form": grant_form or GrantForm(supplier=org),
        "terms_form": TermsForm(instance=supplier_terms(supplier=org)),
        "deposits": deposit_list(organization=org, as_supplier=True)[:20],
    }


@login_required
def receivables(request):
    """The supplier's side: who owes me, ageing, limits, freezes, deposit terms."""
    org = get_acting_organization(request)
    if not org.is_supplier:
        raise PermissionDenied(f"{org.name} buys on Kitstreet; receivables and credit lines you grant are for suppliers. "
                               "What you owe is under Money.")
    return render(request, "credit/receivables.html", _receivables_context(request, org))


@login_required
def line_detail(request, pk: int):
    org = get_acting_organization(request)
    line = get_object_or_404(credit_line_list(organization=org), pk=pk)
    return render(request, "credit/line_detail.html", {
        "idempotency_token": uuid.uuid4().hex,
        "line": line,
        # `party`, not `role`: the header shows the member's role under that name.
        "party": "supplier" if line.supplier_id == org.pk else "buyer" if line.buyer_id == org.pk else "voucher",
        "invoices": invoice_list(line=line),
        "statement": statement_rows(line=line)[-20:],
        "trust": trust_for_line(line=line),
        "buyer_trust": trust_for_organization(organization=line.buyer),
        "repay_form": RepayForm(),
        "update_form": LineUpdateForm(initial={"limit": line.limit, "terms_days": line.terms_days}),
    })


@login_required
def line_statement_csv(request, pk: int):
    """The statement of one counterparty relationship, for a spreadsheet."""
    org = get_acting_organization(request)
    line = get_object_or_404(credit_line_list(organization=org), pk=pk)
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="statement-line-{line.pk}.csv"'
    writer = export_csv_writer(response)
    writer.writerow([f"Statement: {line.lender_name} -> {line.buyer.name}", line.currency, f"limit {line.limit}",
                     f"net {line.terms_days} days"])
    writer.writerow(["date", "type", "reference", "description", "due_date", "charge", "payment", "balance"])
    for row in statement_rows(line=line):
        writer.writerow([row["date"], row["type"], row["reference"], row["description"], row["due_date"] or "",
                         row["charge"], row["payment"], row["balance"]])
    return response


@login_required
@require_POST
def line_repay(request, pk: int):
    org = get_acting_organization(request)
    line = get_object_or_404(credit_line_list(organization=org).filter(buyer=org), pk=pk)
    form = RepayForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Enter an amount greater than zero, with at most two decimals.")
    else:
        amount = form.cleaned_data["amount"]

        def execute():
            repayment = credit_repay(line=line, amount=amount, created_by=request.user)
            return 201, {"amount": str(repayment.amount), "currency": repayment.currency}

        # The form carries a one-time token: a double click or a resubmitted page repays once.
        token = (request.POST.get("idempotency_token") or "")[:200]
        try:
            _, body, replayed = idempotency_run(
                scope=f"org:{org.pk}", key=f"web-repay:{token}" if token else None,
                fingerprint=request_fingerprint(method="POST", path=request.path, body={"amount": str(amount)}),
                execute=execute,
            )
        except ValidationError as exc:
            messages.error(request, error_text(exc))
        except IdempotencyConflict:
            messages.error(request, "This form was already used for another amount; reload the page and try again.")
        else:
            if replayed:
                messages.info(request, f"That repayment of {body['amount']} {body['currency']} was already recorded.")
            else:
                messages.success(request, f"Repaid {body['amount']} {body['currency']} to {line.lender_name}.")
    next_url = request.POST.get("next", "")
    if url_has_allowed_host_and_scheme(next_url, allowed_hosts={request.get_host()}, require_https=request.is_secure()):
        return redirect(next_url)
    return redirect("credit:line-detail", pk)


@login_required
@require_POST
def line_update(request, pk: int):
    org = get_acting_organization(request, role=Role.ADMIN)
    line = get_object_or_404(credit_line_list(organization=org).filter(supplier=org), pk=pk)
    action = request.POST.get("action", "save")
    try:
        if action == "freeze":
            credit_line_update(line=line, status=CreditLine.Status.FROZEN, frozen_reason=request.POST.get("reason", "").strip())
            messages.success(request, f"Frozen: {line.buyer.name} cannot draw on this line until you unfreeze it.")
        elif action == "unfreeze":
            credit_line_update(line=line, status=CreditLine.Status.ACTIVE)
            messages.success(request, f"Unfrozen: {line.buyer.name} can draw again.")
        else:
            form = LineUpdateForm(request.POST)
            if not form.is_valid():
                messages.error(request, "Check the limit and terms: " + "; ".join(
                    f"{form[field].label if field in form.fields else 'Line'}: {' '.join(errors)}"
                    for field, errors in form.errors.items()))
            else:
                credit_line_update(line=line, limit=form.cleaned_data["limit"], terms_days=form.cleaned_data["terms_days"])
                messages.success(request, "Line updated.")
    except ValidationError as exc:
        messages.error(request, error_text(exc))
    return redirect("credit:line-detail", pk)


@login_required
@require_POST
def line_grant(request):
    org = get_acting_organization(request, role=Role.ADMIN)
    if not org.is_supplier:
        messages.error(request, "Only suppliers grant credit lines.")
        return redirect("credit:receivables")
    form = GrantForm(request.POST, supplier=org)
    if form.is_valid():
        try:
            line = credit_line_grant(supplier=org, **form.cleaned_data)
        except ValidationError as exc:
            # The service's field errors go next to the form's fields, the values stay.
            for field, errors in validation_error_detail(exc).items():
                for error in errors:
                    form.add_error(field if field in form.fields else None, error)
    if form.errors:
        messages.error(request, "The line was not granted: check the highlighted fields.")
        return render(request, "credit/receivables.html", _receivables_context(request, org, grant_form=form))
    messages.success(request, f"Granted {line.buyer.name} a {line.limit} {line.currency} line on net {line.terms_days} days.")
    return redirect("credit:line-detail", line.pk)


@login_required
@require_POST
def terms_update(request):
    org = get_acting_organization(request, role=Role.ADMIN)
    form = TermsForm(request.POST)
    if not org.is_supplier or not form.is_valid():
        messages.error(request, "Could not save the deposit terms: percentages are between 0 and 100.")
        return redirect("credit:receivables")
    try:
        supplier_terms_set(supplier=org, **form.cleaned_data)
    except ValidationError as exc:
        messages.error(request, error_text(exc))
    else:
        messages.success(request, "Deposit terms saved; they apply to new orders.")
    return redirect("credit:receivables")


@login_required
def account_detail(request, pk: int):
    org = get_acting_organization(request)
    account = get_object_or_404(account_list(organization=org), pk=pk)
    page = Paginator(posting_list(account=account), 50).get_page(request.GET.get("page"))
    return render(request, "credit/account_detail.html", {"account": account, "page": page})


# --- payouts -------------------------------------------------------------------------------------

class PayoutForm(forms.Form):
    amount = forms.DecimalField(max_digits=14, decimal_places=2, min_value=Decimal("0.01"))
    currency = forms.ChoiceField(choices=Currency.choices)


def _operator_required(request):
    if not request.user.is_staff:
        raise PermissionDenied("Operators only.")


@login_required
def payouts(request):
    """The organisation's payouts: request one (admins), and the history with bank references."""
    org = get_acting_organization(request)
    form = PayoutForm(request.POST or None)
    if request.method == "POST":
        org = get_acting_organization(request, role=Role.ADMIN)
        if form.is_valid():
            data = form.cleaned_data
            token = (request.POST.get("idempotency_token") or "")[:200]
            try:
                _, body, replayed = idempotency_run(
                    scope=f"org:{org.pk}", key=f"web-payout:{token}" if token else None,
                    fingerprint=request_fingerprint(method="POST", path=request.path,
                                                    body={"amount": str(data["amount"]), "currency": data["currency"]}),
                    execute=lambda: (201, {"id": payout_request(organization=org, requested_by=request.user, **data).pk}),
                )
            except ValidationError as exc:
                messages.error(request, error_text(exc))
            except IdempotencyConflict:
                messages.error(request, "This form was already used for another amount; reload the page and try again.")
            else:
                messages.success(request, f"Payout of {data['amount']} {data['currency']} requested: the money is held "
                                          "in your wallet until an operator sends the bank transfer.")
                return redirect("credit:payouts")
    return render(request, "credit/payouts.html", {
        "form": form, "idempotency_token": uuid.uuid4().hex,
        "accounts": [a for a in wallet_summary(organization=org) if a.kind == "wallet"],
        "page": Paginator(payout_list(organization=org), 25).get_page(request.GET.get("page")),
    })


@login_required
def desk(request):
    """Operators' money desk: what the platform holds and has earned, the oldest payouts and
    disputes waiting, bank statement lines left unmatched, and a statement import."""
    _operator_required(request)
    payouts, disputes = payouts_to_settle(), disputes_to_resolve()
    return render(request, "credit/desk.html", {
        "money": platform_money_figures(), "payouts": payouts[:5], "payouts_count": payouts.count(),
        "disputes": disputes[:5], "disputes_count": disputes.count(),
        "unmatched": statement_line_list(status=BankStatementLine.Status.UNMATCHED)[:200], "revenue": platform_revenue(),
    })


@login_required
def payout_queue(request):
    """Operators: every payout waiting for its bank transfer, oldest first."""
    _operator_required(request)
    return render(request, "credit/payout_queue.html", {"payouts": payouts_to_settle()[:200]})


@login_required
@require_POST
def statement_upload(request):
    """Import a bank statement from the desk (the same service as POST /api/v1/bank-statements/)."""
    _operator_required(request)
    upload = request.FILES.get("file")
    if upload is None or upload.size > 5 * 1024 * 1024:
        messages.error(request, "Choose the statement's CSV file (at most 5 MB).")
        return redirect("credit:desk")
    try:
        result = statement_import(content=upload.read(), filename=upload.name or "", imported_by=request.user)
    except ValidationError as exc:
        messages.error(request, error_text(exc))
    except StateConflict as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, f"{len(result.matched)} line(s) matched, {len(result.unmatched)} unmatched"
                                  f"{f', {len(result.rematched)} matched since the last import' if result.rematched else ''}; "
                                  f"{result.already_imported} imported before and not added again.")
    return redirect("credit:desk")


@login_required
@require_POST
def statement_line_close(request, pk: int):
    _operator_required(request)
    line = get_object_or_404(BankStatementLine.objects.all(), pk=pk)
    try:
        line = statement_line_resolve(line=line, note=request.POST.get("note", ""), resolved_by=request.user)
    except ValidationError as exc:
        messages.error(request, error_text(exc))
    except StateConflict as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, f"Statement line {line.pk} {line.get_status_display().lower()}.")
    return redirect("credit:desk")


@login_required
@require_POST
def payout_resolve(request, pk: int):
    _operator_required(request)
    payout = get_object_or_404(Payout.objects.all(), pk=pk)
    reference = request.POST.get("reference", "").strip()
    if request.POST.get("action") == "settle" and request.POST.get("confirmed") != "1":
        # The confirm step: settling records money that left the bank, so the operator sees the
        # payout, its wallet and the reference once more before anything is written.
        if payout.status != Payout.Status.REQUESTED:
            messages.error(request, f"Payout {payout.pk} is {payout.get_status_display().lower()}: nothing to settle.")
            return redirect("credit:payout-queue")
        return render(request, "credit/payout_confirm.html", {
            "payout": payout, "reference": reference,
            "error": "" if reference else "Enter the bank transfer's reference.",
        }, status=200 if reference else 400)
    try:
        if request.POST.get("action") == "reject":
            payout_reject(payout=payout, reason=request.POST.get("reason", ""), rejected_by=request.user)
            messages.success(request, f"Payout {payout.pk} rejected; the money is free in the wallet again.")
        else:
            payout_settle(payout=payout, reference=reference, settled_by=request.user)
            messages.success(request, f"Payout {payout.pk} settled: {payout.amount} {payout.currency} to "
                                      f"{payout.organization.name}, bank reference {reference}.")
    except ValidationError as exc:
        messages.error(request, error_text(exc))
    except StateConflict as exc:
        messages.error(request, exc.message)
    return redirect("credit:payout-queue")


# --- disputes ------------------------------------------------------------------------------------

class ResolveForm(forms.Form):
    refund_percent = forms.DecimalField(max_digits=5, decimal_places=2, min_value=0, max_value=100,
                                        label="Refund to the buyer (%)", help_text="of what is held or paid")
    note = forms.CharField(max_length=1000, widget=forms.Textarea(attrs={"rows": 3}),
                           help_text="Why: recorded on the ledger entry and shown to both parties.")


def _dispute_queryset(request):
    if request.user.is_staff:
        return Dispute.objects.select_related("payment__buyer", "payment__supplier", "opened_by")
    return dispute_list(organization=get_acting_organization(request))


@login_required
def disputes(request):
    """Disputes on purchase orders the organisation is party to (operators: all open ones)."""
    qs = disputes_to_resolve() if request.user.is_staff and request.GET.get("all") != "1" else _dispute_queryset(request)
    return render(request, "credit/disputes.html", {"page": Paginator(qs, 25).get_page(request.GET.get("page"))})


@login_required
def dispute_detail(request, pk: int):
    dispute = get_object_or_404(_dispute_queryset(request), pk=pk)
    form = ResolveForm(request.POST or None)
    if request.method == "POST":
        _operator_required(request)
        if form.is_valid():
            try:
                dispute_resolve(dispute=dispute, resolved_by=request.user, **form.cleaned_data)
            except ValidationError as exc:
                form.add_error(None, error_text(exc))
            except StateConflict as exc:
                form.add_error(None, exc.message)
            else:
                messages.success(request, f"Dispute {dispute.pk} resolved.")
                return redirect("credit:dispute-detail", pk)
    return render(request, "credit/dispute_detail.html", {
        "dispute": dispute, "money": dispute_at_stake(dispute=dispute), "form": form,
        "can_resolve": request.user.is_staff and dispute.status == Dispute.Status.OPEN,
    })


# --- FX ------------------------------------------------------------------------------------------

class FxRateForm(forms.Form):
    base = forms.ChoiceField(choices=Currency.choices, initial="USD")
    quote = forms.ChoiceField(choices=Currency.choices, initial="CNY")
    rate = forms.DecimalField(max_digits=18, decimal_places=8, min_value=Decimal("0.00000001"), help_text="1 base = rate quote")
    valid_from = forms.DateTimeField(required=False, help_text="Empty: from now.")


@login_required
def fx_rates(request):
    """Exchange rates and their history; operators add new ones."""
    form = FxRateForm(request.POST or None)
    if request.method == "POST":
        _operator_required(request)
        if form.is_valid():
            try:
                rate = fx_rate_set(created_by=request.user, **form.cleaned_data)
            except ValidationError as exc:
                form.add_error(None, error_text(exc))
            else:
                messages.success(request, f"Rate saved: {rate}.")
                return redirect("credit:fx-rates")
    current = []
    for base, quote in (("USD", "CNY"), ("CNY", "USD")):
        try:
            current.append((base, quote, fx_convert(Decimal("1"), base, quote).rate))
        except ValidationError:
            continue
    return render(request, "credit/fx_rates.html", {
        "form": form, "current": current, "can_edit": request.user.is_staff,
        "page": Paginator(fx_rate_list(), 50).get_page(request.GET.get("page")),
    })
