"""Trials, second wave: empirical-Bayes priors, demand estimates and reorders, forecasts scored at
close, live trials re-judged on every sale (and stopped early), restock splits, conflicting sales."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from marketplace.models import Kit
from tests.marketplace.factories import OrganizationFactory
from tests.trials.factories import make_kit, make_trial
from trials.models import DailyMetric, SalesEvent, Trial, TrialArm, TrialDecision, TrialStatus
from trials.selectors import trial_report
from trials.selectors.reports import trial_prior
from trials.services import trial_close, trial_procure, trial_refresh, trial_run, trial_start
from trials.services.lifecycle import _rebuild_live_metrics

pytestmark = pytest.mark.django_db


def closed_history(*, organization, kit, outcomes, mode="live"):
    """Closed trials of `kit` with the given (sold, units) per single arm, as if they had run."""
    for sold, units in outcomes:
        trial = make_trial(organization=organization, kit=kit, mode=mode,
                           demand={"base_daily": 1} if mode == "simulated" else None,
                           arms=[{"label": "A", "unit_price": Decimal("99"), "units": units}])
        Trial.objects.filter(pk=trial.pk).update(status=TrialStatus.CLOSED, verdict="kill")
        TrialArm.objects.filter(trial=trial).update(units_received=units, units_sold=sold)


def audio_kit():
    kit = make_kit(name="Earbuds")
    Kit.objects.filter(pk=kit.pk).update(category="Audio")
    kit.refresh_from_db()
    return kit


def test_prior_comes_from_the_organisations_closed_live_trials_in_the_kit_category(buyer):
    kit = audio_kit()
    duds = [(2, 50), (5, 50), (1, 40), (8, 60), (3, 50), (0, 30)]
    closed_history(organization=buyer.org, kit=kit, outcomes=duds)
    prior = trial_prior(organization=buyer.org, kit=kit, mode="live")
    assert prior.source == "the organisation's closed live trials in “Audio”: 6 closed trials, 6 arms"
    # Mostly duds: the prior's mean sell-through is low, and it is shrunk towards Beta(1, 1).
    assert prior.alpha / (prior.alpha + prior.beta) < 0.3 and prior.alpha + prior.beta < 20

    # Another organisation has none of its own: it gets the platform's; another category gets uniform.
    other = OrganizationFactory()
    assert trial_prior(organization=other, kit=kit, mode="live").source.startswith("the platform's closed live trials")
    assert trial_prior(organization=buyer.org, kit=make_kit(), mode="live").source == "uniform"
    # Simulated trials never feed live priors (nor the other way round).
    assert trial_prior(organization=buyer.org, kit=kit, mode="simulated").source == "uniform"


def test_too_few_closed_trials_leave_the_prior_uniform_and_simulated_history_stays_out(buyer):
    kit = audio_kit()
    closed_history(organization=buyer.org, kit=kit, outcomes=[(2, 50)] * 4)
    closed_history(organization=buyer.org, kit=kit, outcomes=[(50, 50)] * 10, mode="simulated")
    assert trial_prior(organization=buyer.org, kit=kit, mode="live").source == "uniform"


def test_the_prior_is_frozen_at_start_and_reported_per_arm(buyer):
    kit = audio_kit()
    closed_history(organization=buyer.org, kit=kit, outcomes=[(40, 50)] * 6, mode="simulated")
    trial = make_trial(organization=buyer.org, created_by=buyer.user, kit=kit, demand={"base_daily": 2, "seed": 3})
    trial_start(trial=trial)
    closed_history(organization=buyer.org, kit=kit, outcomes=[(0, 50)] * 20, mode="simulated")  # later closures
    trial = trial_run(trial_id=trial.pk)
    report = trial_report(trial=trial)
    assert report["prior"]["source"].startswith("the organisation's closed simulated trials in “Audio”: 6 closed")
    for arm in report["arms"]:
        assert arm["prior"] == report["prior"] and arm["prior"]["alpha"] > arm["prior"]["beta"]
        estimate = arm["demand_estimate"]
        assert set(estimate) == {"daily_mean", "p10", "p90", "censored"}
        assert estimate["p10"] <= estimate["daily_mean"] <= estimate["p90"]


def test_reorder_comes_from_estimated_demand_not_a_multiple_of_the_batch(buyer):
    """The issue's case: a 10-unit arm sells out in days while a 300-unit arm at the same price
    sells about a third. The old rule proposed 650 units (twice the whole batch); the demand over
    the next window at a 90% service level is a fraction of that."""
    trial = make_trial(organization=buyer.org, created_by=buyer.user, demand={"base_daily": 3.5, "seed": 4},
                       arms=[{"label": "small", "unit_price": Decimal("99"), "units": 10},
                             {"label": "big", "unit_price": Decimal("99"), "units": 300}])
    trial_start(trial=trial)
    trial = trial_run(trial_id=trial.pk)
    report = trial_report(trial=trial)
    arms = {arm["label"]: arm for arm in report["arms"]}
    assert arms["small"]["censored"] and arms["small"]["demand_estimate"]["censored"]
    assert 0.2 < arms["big"]["sell_through"] < 0.5
    assert trial.verdict == "scale" and trial.best_arm == "small"
    reorder = report["reorder"]
    assert reorder["horizon_days"] == 30 and reorder["service_level"] == 0.9
    assert 100 <= reorder["quantity"] <= 200, reorder  # 141: 3.4/day pooled over 30 days at 90 %
    assert "90%" in reorder["why"] and "censored" in reorder["why"]
    quote = buyer.client.post(f"/api/v1/trials/{trial.pk}/reorder-quote/", {}, format="json").json()
    assert quote["quantity"] == reorder["quantity"]


@pytest.fixture
def live_trial(buyer):
    """A live trial that has been selling for 10 days (its clock moved back), arms A and B."""
    from credit.services.ledger import wallet_topup
    from marketplace.models import OrderStatus

    def make(arms, forecast_demand=None):
        wallet_topup(organization=buyer.org, amount=Decimal("200000"), currency="CNY", reference="bank receipt")
        trial = make_trial(organization=buyer.org, created_by=buyer.user, mode="live", demand=None, arms=arms)
        if forecast_demand:
            response = buyer.client.post(f"/api/v1/trials/{trial.pk}/forecast/", {"demand": forecast_demand,
                                                                                     "paths": 2000}, format="json")
            assert response.status_code == 200, response.json()
        trial_start(trial=trial)
        trial = trial_procure(trial_id=trial.pk)
        type(trial.order).objects.filter(pk=trial.order_id).update(status=OrderStatus.DELIVERED)
        trial = trial_refresh(trial_id=trial.pk)
        start = timezone.now() - timedelta(days=10)
        Trial.objects.filter(pk=trial.pk).update(selling_started_at=start, ends_at=start + timedelta(days=30))
        return Trial.objects.get(pk=trial.pk)

    return make


def sale(external_id, arm="A", units=1, day=1, trial=None, price="99.00", channel="shop"):
    at = trial.selling_started_at + timedelta(days=day - 1, hours=12)
    return {"arm": arm, "units": units, "unit_price": price, "sold_at": at.isoformat(), "channel": channel,
            "external_id": external_id}


def test_a_repeated_external_id_with_other_content_is_a_409_and_records_nothing(buyer, live_trial):
    trial = live_trial([{"label": "A", "unit_price": Decimal("99"), "units": 50}])
    url = f"/api/v1/trials/{trial.pk}/sales/"
    assert buyer.client.post(url, [sale("o-1", units=2, trial=trial)], format="json").status_code == 200
    same = buyer.client.post(url, [sale("o-1", units=2, trial=trial)], format="json")
    assert same.status_code == 200 and same.json()["duplicates"] == 1 and same.json()["accepted"] == 0
    changed = buyer.client.post(url, [sale("o-2", trial=trial), sale("o-1", units=3, trial=trial)], format="json")
    assert changed.status_code == 409 and "o-1" in changed.json()["detail"]
    in_batch = buyer.client.post(url, [sale("o-3", trial=trial), sale("o-3", units=5, trial=trial)], format="json")
    assert in_batch.status_code == 409
    assert list(SalesEvent.objects.values_list("external_id", "units")) == [("o-1", 2)]
    assert TrialArm.objects.get(trial=trial).units_sold == 2


def test_every_sale_updates_the_daily_metrics_in_place_as_a_rebuild_would(buyer, live_trial):
    trial = live_trial([{"label": "A", "unit_price": Decimal("99"), "units": 200},
                        {"label": "B", "unit_price": Decimal("129"), "units": 200}])
    url = f"/api/v1/trials/{trial.pk}/sales/"
    batches = [[sale("a1", units=3, day=2, trial=trial)], [sale("b1", arm="B", units=1, day=5, trial=trial, price="129.00")],
               [sale("a2", units=2, day=1, trial=trial), sale("a3", units=4, day=5, trial=trial)]]  # one out of order
    for batch in batches:
        assert buyer.client.post(url, batch, format="json").status_code == 200
    incremental = sorted(DailyMetric.objects.filter(trial=trial).values_list("arm__label", "day", "sold", "on_hand"))
    assert ("A", 1, 2, 198) in incremental and ("A", 2, 3, 195) in incremental and ("A", 5, 4, 191) in incremental
    # The report moves at once (no beat): A sold 9, and its daily rows say so.
    report = buyer.client.get(f"/api/v1/trials/{trial.pk}/report/").json()
    arm_a = next(arm for arm in report["arms"] if arm["label"] == "A")
    assert arm_a["units_sold"] == 9 and sum(d["sold"] for d in arm_a["daily"]) == 9
    assert arm_a["sequential"]["e_value"] < arm_a["sequential"]["threshold"] and arm_a["sequential"]["settled"] is None
    # A full rebuild over the same days gives the same rows.
    arms = list(TrialArm.objects.filter(trial=trial).order_by("pk"))
    _rebuild_live_metrics(trial, arms, trial.selling_started_at + timedelta(days=4, hours=13))
    assert sorted(DailyMetric.objects.filter(trial=trial).values_list("arm__label", "day", "sold", "on_hand")) == incremental


def test_a_clear_hit_stops_the_trial_early_with_a_scale_verdict(buyer, live_trial):
    """100 units, a 30-day window, scale at 80%: the target pace is 2.7 a day. Selling 9 a day,
    the always-valid evidence passes its threshold within days, and the trial closes then."""
    from trials.models import WebhookDelivery
    from trials.services import webhook_endpoint_create

    trial = live_trial([{"label": "A", "unit_price": Decimal("99"), "units": 100}])
    webhook_endpoint_create(organization=buyer.org, url="https://hooks.example.com/kitstreet")
    url = f"/api/v1/trials/{trial.pk}/sales/"
    closed_on = None
    for day in range(1, 11):
        body = buyer.client.post(url, [sale(f"d{day}", units=9, day=day, trial=trial)], format="json").json()
        if body["status"] == "closed":
            closed_on = day
            break
        assert body["verdict"] is None and body["stopped_early"] is False
    assert closed_on is not None and closed_on < 10
    assert body["verdict"] == "scale" and body["stopped_early"] is True
    trial.refresh_from_db()
    assert trial.status == TrialStatus.CLOSED and trial.stopped_early and trial.report["stopped_early"]
    assert "stopped early on day" in trial.report["arms"][0]["reason"]
    assert WebhookDelivery.objects.get(trial=trial).payload["trial"]["verdict"] == "scale"  # the integration hears at once
    late = buyer.client.post(url, [sale("late", day=closed_on, trial=trial)], format="json")
    assert late.status_code == 409  # closed: no more sales


def test_selling_at_the_target_pace_does_not_stop_early(buyer, live_trial):
    trial = live_trial([{"label": "A", "unit_price": Decimal("99"), "units": 100}])
    url = f"/api/v1/trials/{trial.pk}/sales/"
    for day in range(1, 11):
        assert buyer.client.post(url, [sale(f"d{day}", units=3, day=day, trial=trial)], format="json").json()["status"] == "selling"


def test_every_arm_sold_out_settles_the_trial_at_once(buyer, live_trial):
    trial = live_trial([{"label": "A", "unit_price": Decimal("99"), "units": 10},
                        {"label": "B", "unit_price": Decimal("129"), "units": 10}])
    url = f"/api/v1/trials/{trial.pk}/sales/"
    first = buyer.client.post(url, [sale("a", units=10, day=2, trial=trial)], format="json").json()
    assert first["status"] == "selling"  # B is not settled yet
    done = buyer.client.post(url, [sale("b", arm="B", units=10, day=3, trial=trial, price="129.00")], format="json").json()
    assert done["status"] == "closed" and done["verdict"] == "scale" and done["stopped_early"]
    report = Trial.objects.get(pk=trial.pk).report
    assert all(arm["censored"] and arm["stockout_days"] > 20 for arm in report["arms"])


def test_a_live_trial_forecast_before_start_is_scored_when_it_closes(buyer, live_trial):
    trial = live_trial([{"label": "A", "unit_price": Decimal("99"), "units": 60}],
                       forecast_demand={"base_daily": 1.0, "seed": 2})
    assert trial.forecast and trial.forecast["arms"][0]["label"] == "A"
    buyer.client.post(f"/api/v1/trials/{trial.pk}/sales/", [sale("o-1", units=20, day=3, trial=trial)], format="json")
    trial = trial_close(trial_id=trial.pk, now=trial.ends_at)
    assert trial.status == TrialStatus.CLOSED and trial.calibration["arms"][0]["sell_through"] == pytest.approx(1 / 3, abs=1e-3)
    calibration = buyer.client.get("/api/v1/trials/funnel/").json()["calibration"]
    assert calibration["forecasts_scored"] == 1 and calibration["arms_scored"] == 1
    assert calibration["p10_p90_coverage"] in (0.0, 1.0) and calibration["brier_kill"] is not None
    # A started trial's forecast is frozen.
    again = buyer.client.post(f"/api/v1/trials/{trial.pk}/forecast/", {"demand": {"base_daily": 5}}, format="json")
    assert again.status_code == 409


def test_draft_forecast_needs_a_demand_model_for_a_live_draft(buyer):
    trial = make_trial(organization=buyer.org, created_by=buyer.user, mode="live", demand=None)
    assert buyer.client.post(f"/api/v1/trials/{trial.pk}/forecast/", {}, format="json").status_code == 400
    assert buyer.client.post(f"/api/v1/trials/{trial.pk}/forecast/", {"paths": 5}, format="json").status_code == 400
    trial.refresh_from_db()
    assert trial.forecast is None


def test_restock_split_by_thompson_sampling_is_recorded_with_its_reason(buyer, live_trial):
    trial = live_trial([{"label": "A", "unit_price": Decimal("99"), "units": 50},
                        {"label": "B", "unit_price": Decimal("99"), "units": 50}])
    buyer.client.post(f"/api/v1/trials/{trial.pk}/sales/", [sale("a", units=40, day=2, trial=trial),
                                                            sale("b", arm="B", units=5, day=2, trial=trial)], format="json")
    response = buyer.client.post(f"/api/v1/trials/{trial.pk}/restock-split/", {"units": 200}, format="json")
    assert response.status_code == 201, response.json()
    body = response.json()
    shares = {row["label"]: row["units"] for row in body["allocation"]}
    assert sum(shares.values()) == 200 and shares["A"] > 150
    assert "Thompson sampling" in body["reason"] and "“A”" in body["reason"]
    assert TrialDecision.objects.get(trial=trial).payload["allocation"] == body["allocation"]
    assert buyer.client.post(f"/api/v1/trials/{trial.pk}/restock-split/", {"units": 0}, format="json").status_code == 400
    draft = make_trial(organization=buyer.org, created_by=buyer.user)
    assert buyer.client.post(f"/api/v1/trials/{draft.pk}/restock-split/", {"units": 10}, format="json").status_code == 409
    assert TrialDecision.objects.count() == 1


def test_the_trial_page_shows_demand_estimates_the_early_stop_state_and_splits_a_restock(buyer, live_trial):
    from django.test import Client

    trial = live_trial([{"label": "A", "unit_price": Decimal("99"), "units": 50},
                        {"label": "B", "unit_price": Decimal("99"), "units": 50}])
    buyer.client.post(f"/api/v1/trials/{trial.pk}/sales/", [sale("a", units=30, day=2, trial=trial)], format="json")
    browser = Client()
    browser.force_login(buyer.user)
    page = browser.get(f"/trials/{trial.pk}/").content.decode()
    assert "Demand/day (p10–p90)" in page and "Early stop (checked after every sale)" in page
    assert "Prior of the verdict: Beta(1.00, 1.00), from uniform." in page
    response = browser.post(f"/trials/{trial.pk}/restock-split/", {"units": "40"}, follow=True)
    page = response.content.decode()
    assert "Restock split:" in page and "<h3>Decisions</h3>" in page
    assert browser.post(f"/trials/{trial.pk}/restock-split/", {"units": "lots"}, follow=True).status_code == 200
    assert TrialDecision.objects.count() == 1


def test_the_forecast_api_uses_the_prior_a_trial_of_the_kit_would_start_with(buyer):
    kit = audio_kit()
    closed_history(organization=buyer.org, kit=kit, outcomes=[(2, 50)] * 8, mode="simulated")
    body = {"name": "x", "kit": kit.pk, "mode": "simulated", "window_days": 30, "paths": 500,
            "arms": [{"label": "A", "unit_price": "99", "units": 50}], "demand": {"base_daily": 1}}
    with_kit = buyer.client.post("/api/v1/trials/forecast/", body, format="json").json()
    assert with_kit["prior"]["source"].startswith("the organisation's closed simulated trials in “Audio”")
    without = buyer.client.post("/api/v1/trials/forecast/", {k: v for k, v in body.items() if k != "kit"}, format="json")
    assert without.json()["prior"]["source"] == "uniform"
