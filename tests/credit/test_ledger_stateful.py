"""Hypothesis stateful test of the ledger: random top-ups (with replays), transfers, batches,
holds (place, post fully or partly, void, expire), and reversals. After every step the stored
balances match a simple model, no cash account is overdrawn, and verify_ledger finds nothing."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import transaction
from django.utils import timezone
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import Bundle, RuleBasedStateMachine, consumes, invariant, rule, run_state_machine_as_test

from credit.exceptions import EntryAlreadyReversed, HoldAlreadyResolved, InsufficientFunds
from credit.models import Account, AccountKind, Hold
from credit.selectors import ledger_verify
from credit.services import (
    Transfer,
    account_for,
    entry_reverse,
    hold_expire_due,
    hold_place,
    hold_post,
    hold_void,
    idempotency_run,
    ledger_post_batch,
    ledger_transfer,
    wallet_topup,
)
from tests.marketplace.factories import OrganizationFactory

amounts = st.integers(min_value=1, max_value=50_000).map(lambda cents: Decimal(cents) / 100)


class LedgerMachine(RuleBasedStateMachine):
    holds = Bundle("holds")
    entries = Bundle("entries")

    def __init__(self):
        super().__init__()
        self.orgs = [OrganizationFactory() for _ in range(3)]
        self.accounts = [account_for(organization=o, kind=AccountKind.WALLET, currency="CNY") for o in self.orgs]
        self.balance = {a.pk: Decimal("0.00") for a in self.accounts}
        self.held = {a.pk: Decimal("0.00") for a in self.accounts}
        self.keys = {}

    def available(self, pk):
        return self.balance[pk] - self.held[pk]

    @rule(who=st.integers(0, 2), amount=amounts, key=st.sampled_from(["k1", "k2", "k3", None]))
    def topup(self, who, amount, key):
        """A top-up, possibly replayed under an Idempotency-Key: it moves money once."""
        org, account = self.orgs[who], self.accounts[who]
        fingerprint = f"{org.pk}:{amount}"
        scoped = (org.pk, key)

        def execute():
            entry = wallet_topup(organization=org, amount=amount, currency="CNY", reference="hyp")
            return 201, {"entry": entry.pk}

        if key and scoped in self.keys and self.keys[scoped] != fingerprint:
            with pytest.raises(Exception, match="different request body"):
                idempotency_run(scope=f"org:{org.pk}", key=key, fingerprint=fingerprint, execute=execute)
            return
        _, _, replayed = idempotency_run(scope=f"org:{org.pk}", key=key, fingerprint=fingerprint, execute=execute)
        assert replayed == (key is not None and scoped in self.keys)
        if not replayed:
            self.balance[account.pk] += amount
            if key:
                self.keys[scoped] = fingerprint

    @rule(target=entries, src=st.integers(0, 2), dst=st.integers(0, 2), amount=amounts)
    def transfer(self, src, dst, amount):
        a, b = self.accounts[src], self.accounts[dst]
        if src == dst:
            return None
        if self.available(a.pk) < amount:
            with pytest.raises(InsufficientFunds):
                ledger_transfer(debit=a, credit=b, amount=amount)
            return None
        entry = ledger_transfer(debit=a, credit=b, amount=amount)
        self.balance[a.pk] -= amount
        self.balance[b.pk] += amount
        return (entry, a.pk, b.pk, amount)

    @rule(moves=st.lists(st.tuples(st.integers(0, 2), st.integers(0, 2), amounts), min_size=1, max_size=5))
    def batch(self, moves):
        moves = [(s, d, x) for s, d, x in moves if s != d]
        if not moves:
            return
        balance = dict(self.balance)
        ok = True
        for s, d, x in moves:
            a, b = self.accounts[s].pk, self.accounts[d].pk
            balance[a] -= x
            balance[b] += x
            ok = ok and balance[a] - self.held[a] >= 0
        transfers = [Transfer(self.accounts[s].pk, self.accounts[d].pk, x) for s, d, x in moves]
        if not ok:
            with pytest.raises(InsufficientFunds):
                ledger_post_batch(transfers=transfers)
            return
        ledger_post_batch(transfers=transfers)
        self.balance = balance

    @rule(target=holds, src=st.integers(0, 2), dst=st.integers(0, 2), amount=amounts, expiring=st.booleans())
    def place_hold(self, src, dst, amount, expiring):
        a, b = self.accounts[src], self.accounts[dst]
        if src == dst:
            return None
        expires_at = timezone.now() - timedelta(seconds=1) if expiring else None
        if self.available(a.pk) < amount:
            with pytest.raises(InsufficientFunds):
                hold_place(account=a, counter_account=b, amount=amount, expires_at=expires_at)
            return None
        hold = hold_place(account=a, counter_account=b, amount=amount, expires_at=expires_at)
        self.held[a.pk] += amount
        return hold

    @rule(hold=holds, share=st.sampled_from([Decimal("1"), Decimal("0.5"), Decimal("0.01")]))
    def post_hold(self, hold, share):
        if hold is None:
            return
        amount = max(Decimal("0.01"), (hold.amount * share).quantize(Decimal("0.01")))
        if Hold.objects.get(pk=hold.pk).status != Hold.Status.PENDING:
            with pytest.raises(HoldAlreadyResolved):
                hold_post(hold=hold, amount=amount)
            return
        hold_post(hold=hold, amount=amount)
        self.held[hold.account_id] -= hold.amount
        self.balance[hold.account_id] -= amount
        self.balance[hold.counter_account_id] += amount

    @rule(hold=consumes(holds))
    def void_hold(self, hold):
        if hold is None:
            return
        if Hold.objects.get(pk=hold.pk).status != Hold.Status.PENDING:
            with pytest.raises(HoldAlreadyResolved):
                hold_void(hold=hold)
            return
        hold_void(hold=hold)
        self.held[hold.account_id] -= hold.amount

    @rule()
    def expire(self):
        due = list(Hold.objects.filter(status=Hold.Status.PENDING, expires_at__lte=timezone.now(),
                                       account_id__in=self.balance))
        hold_expire_due()
        for hold in due:
            self.held[hold.account_id] -= hold.amount

    @rule(item=entries)
    def reverse(self, item):
        if item is None:
            return
        entry, debit, credit, amount = item
        try:
            with transaction.atomic():
                entry_reverse(entry=entry, reason="hypothesis says so")
        except EntryAlreadyReversed:
            return
        except InsufficientFunds:
            assert self.available(credit) < amount
            return
        self.balance[debit] += amount
        self.balance[credit] -= amount

    @invariant()
    def balances_match_the_model_and_the_ledger(self):
        for account in Account.objects.filter(pk__in=self.balance):
            assert account.balance == self.balance[account.pk]
            assert account.held == self.held[account.pk]
            assert account.balance - account.held >= 0
        report = ledger_verify()
        assert report.ok, report.problems


@pytest.mark.django_db
def test_ledger_state_machine():
    run_state_machine_as_test(LedgerMachine, settings=settings(
        max_examples=25, stateful_step_count=20, deadline=None, database=None,  # no replays across code versions
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
    ))
