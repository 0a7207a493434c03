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
    live = Trial.objects.get(mode="live")
    assert live.status == "selling" and live.order_id and live.sales.exists()
    assert 0.3 < live.progress < 0.5  # ten days into thirty
    assert live.daily_metrics.filter(demand__isnull=False).count() == 0  # real sales only
    assert funnel["by_verdict"]["kill"] > funnel["by_verdict"]["scale"] >= 1
    assert 0 < funnel["hit_rate"] < 0.5
    closed = Trial.objects.filter(status="closed")
    assert closed.count() == len(demo.HISTORY)
    assert all(t.simulated and t.closed_at < t.created_at.__class__.now(t.closed_at.tzinfo) for t in closed)
    assert Trial.objects.get(status="draft").name.endswith("(ready to start)")
