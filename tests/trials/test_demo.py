"""The demo seeder tells the funnel's story: mostly kills, a few hits, one draft to start."""

import random

import pytest

from marketplace.demo.world import DemoContext
from tests.marketplace.factories import UserFactory
from tests.trials.factories import make_kit
from trials import demo
from trials.models import Trial
from trials.selectors import trial_funnel

pytestmark = pytest.mark.django_db


def test_seed_makes_a_history_of_closed_trials_and_a_draft(buyer):
    make_kit(name="Smart plug")
    make_kit(name="BLE tracker")
    ctx = DemoContext(rng=random.Random(7), show_progress=False, orgs={"buyer:lumen": buyer.org},
                      users={"buyer": UserFactory()})
    demo.seed(ctx)
    funnel = trial_funnel(organization=buyer.org, simulated=True)  # the demo history is simulated
    assert funnel["stages"]["judged"] == len(demo.HISTORY) and funnel["stages"]["draft"] == 1
    live = Trial.objects.filter(mode="live", status="selling").exclude(name__contains="demand credit").get()
    assert live.order_id and live.sales.exists()
    assert 0.3 < live.progress < 0.5  # ten days into thirty
    assert live.daily_metrics.filter(demand__isnull=False).count() == 0  # real sales only
    assert funnel["by_verdict"]["kill"] > funnel["by_verdict"]["scale"] >= 1
    assert 0 < funnel["hit_rate"] < 0.5
    closed = Trial.objects.filter(status="closed", mode="simulated")
    assert closed.count() == len(demo.HISTORY)
    assert all(t.closed_at < t.created_at.__class__.now(t.closed_at.tzinfo) for t in closed)
    # The seeded closed live history: enough for the live prior and the live calibration to work.
    history = Trial.objects.filter(status="closed", mode="live").order_by("started_at")
    assert history.count() == len(demo.LIVE_HISTORY)
    assert all("seeded live history" in t.name and t.cash_deployed == 0 for t in history)
    live_funnel = trial_funnel(organization=buyer.org)
    assert live_funnel["calibration"]["forecasts_scored"] == len(demo.LIVE_HISTORY)
    assert live_funnel["median_days_to_verdict"] >= 7  # real durations, not 0
    assert history.first().prior["source"] == "uniform" and history.first().prior["trials_needed"] == 5
    assert history.last().prior["source"] != "uniform"  # five closed before it: the prior is earned
    assert live.prior["source"] != "uniform"
    # A hit's reorder ordered on demand credit, and its sales repaying the line.
    from credit.models import CreditLine, Repayment
    from credit.selectors import ledger_verify

    financed = Trial.objects.get(name__contains="reorder on demand credit")
    line = CreditLine.objects.get(kind="demand", order_id=financed.order_id)
    assert Repayment.objects.filter(credit_line=line).exists() and not ledger_verify().problems
    assert Trial.objects.get(status="draft").name.endswith("(ready to start)")
