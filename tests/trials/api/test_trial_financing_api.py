"""Demand-backed credit offers: a proven hit is offered what its pessimistic demand would repay,
a dud nothing (with the reason), another organisation's trial does not exist; and the cash plan."""

from decimal import Decimal

import pytest

from tests.trials.factories import make_kit, make_trial
from trials.models import Trial
from trials.services import trial_run, trial_start

pytestmark = pytest.mark.django_db


def run(trial) -> Trial:
    trial_start(trial=trial, enqueue=False)
    return trial_run(trial_id=trial.pk)


@pytest.fixture
def hit(buyer):
    trial = run(make_trial(organization=buyer.org, created_by=buyer.user, kit=make_kit(part_price="20.00"),
                           arms=[{"label": "A", "unit_price": Decimal("99"), "units": 60}],
                           demand={"base_daily": 6, "dispersion": 4, "elasticity": -1.5, "seed": 3}))
    assert trial.verdict == "scale", trial.verdict_reason
    return trial


@pytest.fixture
def dud(buyer):
    trial = run(make_trial(organization=buyer.org, created_by=buyer.user,
                           arms=[{"label": "A", "unit_price": Decimal("99"), "units": 60}],
                           demand={"base_daily": 0.1, "dispersion": 2, "elasticity": -1.5, "seed": 3}))
    assert trial.verdict in ("kill", "iterate")
    return trial


def test_a_hit_is_offered_no_more_than_its_p10_demand_repays(buyer, hit):
    response = buyer.client.get(f"/api/v1/trials/{hit.pk}/financing/")
    assert response.status_code == 200, response.json()
    offer = response.json()
    limit, share, price = Decimal(offer["credit_limit"]), Decimal(offer["repayment_share"]), Decimal(offer["unit_price"])
    assert limit > 0 and offer["lender"] == "Kitstreet"
    assert offer["demand_p10"] > 0 and offer["demand_p10"] <= offer["quantiles"]["p50"] <= offer["quantiles"]["p90"]
    assert limit <= Decimal(min(offer["demand_p10"], offer["reorder_units"])) * price * share
    assert limit <= Decimal(offer["reorder_cost"])
    assert offer["term_days"] >= offer["horizon_days"]
    assert "9 of 10" in offer["reason"]


def test_a_dud_is_offered_nothing_and_told_why(buyer, dud):
    offer = buyer.client.get(f"/api/v1/trials/{dud.pk}/financing/").json()
    assert Decimal(offer["credit_limit"]) == 0 and offer["lender"] == ""
    assert dud.verdict in offer["reason"].lower() and "no demand credit" in offer["reason"]


def test_another_organisations_trial_is_a_404(buyer, hit):
    from tests.marketplace.factories import OrganizationFactory, UserFactory

    other = make_trial(organization=OrganizationFactory(), created_by=UserFactory())
    assert buyer.client.get(f"/api/v1/trials/{other.pk}/financing/").status_code == 404
    assert buyer.client.get(f"/api/v1/trials/{other.pk}/cash-plan/").status_code == 404


def test_the_lenders_room_caps_the_limit_and_sets_the_share(buyer, hit):
    from credit.services import demand_appetite_set

    demand_appetite_set(lender=None, currency="CNY", max_per_line=Decimal("500.00"), max_total=Decimal("500.00"),
                        repayment_share=Decimal("0.4"), lends_on_simulated=True)
    offer = buyer.client.get(f"/api/v1/trials/{hit.pk}/financing/").json()
    assert Decimal(offer["credit_limit"]) == Decimal("500.00") and offer["repayment_share"] == "0.400"
    assert "room" in offer["reason"]
    demand_appetite_set(lender=None, currency="CNY", max_per_line=Decimal("500.00"), max_total=Decimal("500.00"),
                        lends_on_simulated=False)
    offer = buyer.client.get(f"/api/v1/trials/{hit.pk}/financing/").json()
    assert Decimal(offer["credit_limit"]) == 0 and "simulated" in offer["reason"]


def test_the_cash_plan_needs_less_own_cash_with_demand_credit(buyer, hit):
    buyer.client.post(f"/api/v1/trials/{hit.pk}/reorder-quote/", {"quantity": 40}, format="json")
    plan = buyer.client.get(f"/api/v1/trials/{hit.pk}/cash-plan/").json()
    assert plan["available"], plan["reason"]
    assert plan["weeks"][0]["week"] == 0
    without = {k: Decimal(v) for k, v in plan["peak_own_cash"]["without_credit"].items()}
    assert without["p10"] >= without["p50"] >= without["p90"] >= 0
    if plan["financed"]:
        with_credit = {k: Decimal(v) for k, v in plan["peak_own_cash"]["with_demand_credit"].items()}
        assert with_credit["p50"] < without["p50"]
