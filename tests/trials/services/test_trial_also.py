"""The trials fixes of issue 25: a uniform prior says how many closed trials are still needed; a live
trial started after a forecast of its plan is scored against it; live durations are whole days
from the real start."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from tests.trials.factories import make_kit, make_trial
from trials.models import Trial, TrialArm
from trials.science import MIN_TRIALS_FOR_PRIOR
from trials.selectors.reports import trial_prior
from trials.services import trial_close, trial_start
from trials.services.lifecycle import live_days_to_verdict

pytestmark = pytest.mark.django_db

ARMS = [{"label": "A", "unit_price": "99.00", "units": 20}]


def test_a_uniform_prior_says_how_many_closed_trials_are_still_needed(buyer):
    prior = trial_prior(organization=buyer.org, kit=make_kit(), mode="live")
    assert prior.source == "uniform" and prior.trials_needed == MIN_TRIALS_FOR_PRIOR
    assert f"0 of the {MIN_TRIALS_FOR_PRIOR} needed" in prior.note and "live" in prior.note


def test_a_live_trial_started_after_a_forecast_of_its_plan_is_scored_at_close(buyer):
    kit = make_kit()
    body = {"kit": kit.pk, "mode": "live", "window_days": 10, "arms": ARMS, "demand": {"base_daily": 2}, "paths": 500}
    assert buyer.client.post("/api/v1/trials/forecast/", body, format="json").status_code == 200
    trial = make_trial(organization=buyer.org, created_by=buyer.user, kit=kit, mode="live", window_days=10,
                       arms=[{"label": "A", "unit_price": Decimal("99"), "units": 20}])
    other = make_trial(organization=buyer.org, created_by=buyer.user, kit=kit, mode="live", window_days=11,
                       arms=[{"label": "A", "unit_price": Decimal("99"), "units": 20}])
    trial, other = trial_start(trial=trial, enqueue=False), trial_start(trial=other, enqueue=False)
    assert trial.forecast and trial.forecast["arms"][0]["label"] == "A"
    assert other.forecast is None  # another plan (window 11 days) is not this forecast's
    start = timezone.now() - timedelta(days=11, hours=3)
    Trial.objects.filter(pk=trial.pk).update(status="selling", started_at=start, selling_started_at=start + timedelta(days=1),
                                             ends_at=start + timedelta(days=11))
    TrialArm.objects.filter(trial=trial).update(units_received=20)
    trial = trial_close(trial_id=trial.pk)
    assert trial.status == "closed" and trial.calibration["arms"][0]["label"] == "A"
    assert trial.days_to_verdict == 12  # 11 days and 3 hours: the part day counts
    funnel = buyer.client.get("/api/v1/trials/funnel/").json()
    assert funnel["calibration"]["forecasts_scored"] == 1 and funnel["median_days_to_verdict"] == 12.0


def test_live_duration_counts_from_the_earliest_start():
    now = timezone.now()
    trial = Trial(started_at=now - timedelta(days=2), selling_started_at=now - timedelta(days=11))
    assert live_days_to_verdict(trial, now) == 11


def test_a_trial_cannot_track_an_order_that_is_not_a_batch_of_its_own(buyer, make_member):
    kit = make_kit()
    body = {"name": "Tracked", "kit": kit.pk, "mode": "live", "window_days": 10, "arms": ARMS}
    unknown = buyer.client.post("/api/v1/trials/", {**body, "order": 999999}, format="json")
    assert unknown.status_code == 400 and unknown.json()["order"] == ["Unknown order."]
    simulated = buyer.client.post("/api/v1/trials/", {**body, "mode": "simulated", "order": 999999,
                                                      "demand": {"base_daily": 1}}, format="json")
    assert simulated.status_code == 400 and not Trial.objects.exists()
