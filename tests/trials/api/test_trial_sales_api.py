"""Live trials: a real order, stock on delivery, sales from integrations (idempotent by
external_id), closed by the beat at the window's end."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from tests.trials.factories import make_kit, make_trial
from trials.models import SalesEvent, Trial
from trials.services import trial_procure, trial_refresh, trial_start
from trials.tasks import trial_refresh_open_task

pytestmark = pytest.mark.django_db


@pytest.fixture
def selling_live_trial(buyer):
    """A live trial whose order was placed (deposit from a funded wallet) and delivered."""
    from credit.services.ledger import wallet_topup
    from marketplace.models import OrderStatus

    wallet_topup(organization=buyer.org, amount=Decimal("100000"), currency="CNY", reference="bank receipt 1")
    trial = make_trial(organization=buyer.org, created_by=buyer.user, mode="live", demand=None, kit=make_kit(),
                       arms=[{"label": "A", "unit_price": Decimal("99"), "units": 10},
                             {"label": "B", "unit_price": Decimal("129"), "units": 10}])
    trial_start(trial=trial)
    trial = trial_procure(trial_id=trial.pk)
    assert trial.status == Trial.Status.PROCURING and trial.order_id, trial.failure_reason
    assert trial.cash_deployed == trial.order.total == Decimal("400.00")
    trial.order.purchase_orders.update(status=OrderStatus.DELIVERED)
    type(trial.order).objects.filter(pk=trial.order_id).update(status=OrderStatus.DELIVERED)
    trial = trial_refresh(trial_id=trial.pk)
    assert trial.status == Trial.Status.SELLING
    return trial


def sale(external_id, arm="A", units=1, price="99.00", at=None):
    return {"arm": arm, "units": units, "unit_price": price, "sold_at": (at or timezone.now()).isoformat(),
            "channel": "shopify", "external_id": external_id}


def test_a_retried_batch_is_not_counted_twice(buyer, selling_live_trial):
    url = f"/api/v1/trials/{selling_live_trial.pk}/sales/"
    batch = [sale("o-1", units=2), sale("o-2", arm="B", price="129.00")]
    first = buyer.client.post(url, batch, format="json")
    assert first.status_code == 200, first.json()
    assert first.json()["accepted"] == 2 and first.json()["duplicates"] == 0
    retry = buyer.client.post(url, batch + [sale("o-3")], format="json")
    assert retry.json()["accepted"] == 1 and retry.json()["duplicates"] == 2
    arms = {a["label"]: a for a in retry.json()["arms"]}
    assert arms["A"] == {"label": "A", "units_sold": 3, "on_hand": 7}
    assert SalesEvent.objects.filter(trial=selling_live_trial).count() == 3
    listed = buyer.client.get(url).json()
    assert listed["count"] == 3 and {e["external_id"] for e in listed["results"]} == {"o-1", "o-2", "o-3"}
    trial = Trial.objects.get(pk=selling_live_trial.pk)
    assert trial.cash_recovered == Decimal("3") * Decimal("99") + Decimal("129")


def test_a_bad_event_rejects_the_whole_batch(buyer, selling_live_trial):
    url = f"/api/v1/trials/{selling_live_trial.pk}/sales/"
    for bad in ([sale("x-1"), sale("x-2", arm="nope")],
                [sale("x-1"), sale("x-2", units=10)],  # 11 of A but only 10 on hand
                [sale("x-1", at=timezone.now() - timedelta(days=3))]):  # before the stock arrived
        response = buyer.client.post(url, bad, format="json")
        assert response.status_code == 400 and "events" in response.json()
    assert not SalesEvent.objects.exists()
    assert buyer.client.post(url, [{"arm": "A"}], format="json").status_code == 400


def test_simulated_trials_take_no_sales_events(buyer):
    trial = make_trial(organization=buyer.org, created_by=buyer.user)
    response = buyer.client.post(f"/api/v1/trials/{trial.pk}/sales/", [sale("s-1")], format="json")
    assert response.status_code == 409


def test_the_beat_closes_a_live_trial_at_the_window_end_from_real_sales_only(buyer, selling_live_trial):
    url = f"/api/v1/trials/{selling_live_trial.pk}/sales/"
    buyer.client.post(url, [sale(f"o-{i}") for i in range(10)], format="json")  # A sells out on day 1, B sells nothing
    assert trial_refresh_open_task() == 1  # still open: the window has not ended
    assert Trial.objects.get(pk=selling_live_trial.pk).status == Trial.Status.SELLING
    interim = buyer.client.get(f"/api/v1/trials/{selling_live_trial.pk}/report/").json()
    assert interim["final"] is False and interim["verdict"] is None and interim["simulated"] is False
    a = interim["arms"][0]
    assert a["units_sold"] == 10 and a["verdict"] is None and a["p_below_kill"] is None
    assert a["projected_sell_through"] == 1.0  # sold out on day one: on pace for all of it

    later = selling_live_trial.ends_at + timedelta(minutes=1)
    trial = trial_refresh(trial_id=selling_live_trial.pk, now=later)
    assert trial.status == Trial.Status.CLOSED and trial.report["simulated"] is False
    arms = {a["label"]: a for a in trial.report["arms"]}
    assert arms["A"]["units_sold"] == 10 and arms["A"]["sell_through"] == 1.0
    assert arms["A"]["censored"] and arms["A"]["stockout_days"] == 29 and "sold out on day 1" in arms["A"]["reason"]
    assert arms["B"]["units_sold"] == 0 and arms["B"]["verdict"] == "kill"  # P(< 30%) = 1 - 0.7^11 = 0.98
    assert trial.verdict == "scale" and trial.best_arm == "A"
    assert all(d.get("demand") is None for d in trial.report["arms"][0]["daily"])  # no simulated demand in a live report
    # Sales after close are refused.
    assert buyer.client.post(url, [sale("late-1", arm="B", price="129.00")], format="json").status_code == 409


def test_a_cancelled_order_fails_the_trial_with_the_reason(buyer):
    from credit.services.ledger import wallet_topup
    from marketplace.models import OrderStatus

    wallet_topup(organization=buyer.org, amount=Decimal("100000"), currency="CNY", reference="bank receipt 2")
    trial = make_trial(organization=buyer.org, created_by=buyer.user, mode="live", demand=None)
    trial_start(trial=trial)
    trial = trial_procure(trial_id=trial.pk)
    type(trial.order).objects.filter(pk=trial.order_id).update(status=OrderStatus.CANCELLED)
    trial = trial_refresh(trial_id=trial.pk)
    assert trial.status == Trial.Status.FAILED and "cancelled" in trial.failure_reason


def test_a_live_trial_without_money_fails_with_the_payment_reason(buyer):
    trial = make_trial(organization=buyer.org, created_by=buyer.user, mode="live", demand=None)
    trial_start(trial=trial)
    trial = trial_procure(trial_id=trial.pk)
    assert trial.status == Trial.Status.FAILED
    assert trial.failure_reason.startswith("The order could not be placed")
    assert trial.order_id is None
