"""The trial API end to end, as an integration would call it."""

from decimal import Decimal

import pytest

from tests.trials.factories import make_kit, make_trial
from trials.models import Trial

pytestmark = pytest.mark.django_db


def body(kit_obj, **over):
    data = {
        "name": "Tracker at two prices", "kit": kit_obj.pk, "mode": "simulated", "window_days": 30,
        "targets": {"scale_at": "0.8", "kill_below": "0.3"},
        "arms": [{"label": "at 99", "unit_price": "99.00", "units": 60}, {"label": "at 129", "unit_price": "129.00", "units": 60}],
        "demand": {"base_daily": 3, "dispersion": 2, "elasticity": -1.5, "seed": 5},
    }
    data.update(over)
    return data


def test_create_start_and_read_a_simulated_trial(buyer, django_capture_on_commit_callbacks):
    kit = make_kit()
    created = buyer.client.post("/api/v1/trials/", body(kit), format="json")
    assert created.status_code == 201, created.json()
    trial = created.json()
    assert trial["status"] == "draft" and trial["simulated"] is True and trial["verdict"] is None
    assert trial["targets"] == {"scale_at": "0.800", "kill_below": "0.300"}
    assert trial["demand"]["reference_price"] == "99.00"  # defaulted to the first arm's price (an amount: a string)

    with django_capture_on_commit_callbacks(execute=True):
        started = buyer.client.post(f"/api/v1/trials/{trial['id']}/start/")
    assert started.status_code == 202
    assert started.json()["task_id"]

    detail = buyer.client.get(f"/api/v1/trials/{trial['id']}/").json()
    assert detail["status"] == "closed" and detail["progress"] == 1.0
    assert detail["verdict"] in {"scale", "iterate", "kill"}
    assert detail["cash"] == {"deployed": "2400.00", "recovered": detail["cash"]["recovered"], "currency": "CNY"}

    report = buyer.client.get(f"/api/v1/trials/{trial['id']}/report/").json()
    assert report["simulated"] is True and report["final"] is True and report["verdict"] == detail["verdict"]
    arm = report["arms"][0]
    assert {"label", "units_received", "units_sold", "sell_through", "stockout_days", "p_reach_scale", "verdict", "daily"} <= set(arm)
    assert len(arm["daily"]) == 30 and arm["units_received"] == 60
    assert report["cash"]["deployed"] == "2400.00"

    csv = buyer.client.get(f"/api/v1/trials/{trial['id']}/report/csv/")
    lines = b"".join(csv.streaming_content).decode().strip().splitlines()
    assert lines[0].startswith("trial,simulated,arm") and len(lines) == 1 + 60
    assert ",true,at 99," in lines[1]

    again = buyer.client.post(f"/api/v1/trials/{trial['id']}/start/")
    assert again.status_code == 409


@pytest.mark.parametrize("change,field", [
    ({"targets": {"scale_at": "0.3", "kill_below": "0.5"}}, "targets"),
    ({"mode": "live"}, "demand"),  # a live trial with a demand model
    ({"demand": None}, "demand"),  # a simulated trial without one
    ({"arms": [{"label": "x", "unit_price": "9", "units": 10}, {"label": "x", "unit_price": "9", "units": 10}]}, "arms"),
    ({"arms": []}, "arms"),
    ({"kit": 999_999}, "kit"),
    ({"window_days": 0}, "window_days"),
])
def test_bad_trials_are_400_with_the_field_and_nothing_is_saved(buyer, change, field):
    response = buyer.client.post("/api/v1/trials/", body(make_kit(), **change), format="json")
    assert response.status_code == 400
    assert field in response.json()
    assert not Trial.objects.exists()


def test_another_organisations_trial_is_404(buyer, make_member):
    stranger = make_member(name="Stranger")
    trial = make_trial(organization=buyer.org, created_by=buyer.user)
    for path in ("", "report/", "report/csv/"):
        assert stranger.client.get(f"/api/v1/trials/{trial.pk}/{path}").status_code == 404
    assert stranger.client.post(f"/api/v1/trials/{trial.pk}/start/").status_code == 404
    assert stranger.client.get("/api/v1/trials/").json()["count"] == 0
    assert buyer.client.get("/api/v1/trials/").json()["count"] == 1


def test_list_filters_by_mode_and_status(buyer):
    make_trial(organization=buyer.org, created_by=buyer.user, name="sim one")
    make_trial(organization=buyer.org, created_by=buyer.user, name="live one", mode="live", demand=None)
    assert [t["name"] for t in buyer.client.get("/api/v1/trials/?mode=live").json()["results"]] == ["live one"]
    assert buyer.client.get("/api/v1/trials/?status=closed").json()["count"] == 0
    assert buyer.client.get("/api/v1/trials/?q=sim").json()["count"] == 1


def test_forecast_is_labelled_and_answers_per_arm(buyer):
    data = body(make_kit(), paths=2000)
    response = buyer.client.post("/api/v1/trials/forecast/", data, format="json")
    assert response.status_code == 200, response.json()
    out = response.json()
    assert out["forecast"] is True and out["simulated"] is True and out["paths"] == 2000
    assert [a["label"] for a in out["arms"]] == ["at 99", "at 129"]
    for arm in out["arms"]:
        q = arm["sell_through"]
        assert 0 <= q["p10"] <= q["p50"] <= q["p90"] <= 1
        assert 0 <= arm["p_scale"] + arm["p_kill"] <= 1
    assert buyer.client.post("/api/v1/trials/forecast/", {**data, "demand": {}}, format="json").status_code == 400
    too_big = buyer.client.post("/api/v1/trials/forecast/", {**data, "paths": 100_000, "window_days": 365}, format="json")
    assert too_big.status_code == 400 and "paths" in too_big.json()


def test_funnel_counts_verdicts_hit_rate_and_cash(buyer):
    from trials.services import trial_run, trial_start

    strong = make_trial(organization=buyer.org, created_by=buyer.user, demand={"base_daily": 20, "seed": 1})
    weak = make_trial(organization=buyer.org, created_by=buyer.user, demand={"base_daily": 0.2, "seed": 2})
    make_trial(organization=buyer.org, created_by=buyer.user)  # a draft
    for t in (strong, weak):
        trial_start(trial=t)
        trial_run(trial_id=t.pk)
    funnel = buyer.client.get("/api/v1/trials/funnel/?simulated=true").json()
    assert funnel["trials"] == 3 and funnel["stages"]["draft"] == 1 and funnel["stages"]["judged"] == 2
    assert funnel["by_verdict"] == {"scale": 1, "iterate": 0, "kill": 1}
    assert funnel["hit_rate"] == 0.5 and funnel["median_days_to_verdict"] == 30
    assert funnel["cash"][0]["currency"] == "CNY" and Decimal(funnel["cash"][0]["deployed"]) == Decimal("4800.00")
    # Both simulated trials forecast themselves at start and were scored when they closed.
    calibration = funnel["calibration"]
    assert calibration["forecasts_scored"] == 2 and calibration["arms_scored"] == 4
    assert 0 <= calibration["p10_p90_coverage"] <= 1 and 0 <= calibration["brier_scale"] <= 1
    # By default the funnel is the live trials': simulated cash is never counted as deployed.
    live = buyer.client.get("/api/v1/trials/funnel/").json()
    assert live["trials"] == 0 and live["cash"] == [] and live["by_mode"] == {"simulated": 3, "live": 0}
    assert live["calibration"]["forecasts_scored"] == 0
    assert buyer.client.get("/api/v1/trials/funnel/?simulated=false").json()["trials"] == 0
    assert buyer.client.get("/api/v1/trials/funnel/?simulated=maybe").status_code == 400


def test_scale_verdict_offers_a_reorder_quote_at_a_larger_batch(buyer):
    from trials.services import trial_run, trial_start

    trial = make_trial(organization=buyer.org, created_by=buyer.user, demand={"base_daily": 20, "seed": 1})
    trial_start(trial=trial)
    trial_run(trial_id=trial.pk)
    trial.refresh_from_db()
    assert trial.verdict == "scale"
    response = buyer.client.post(f"/api/v1/trials/{trial.pk}/reorder-quote/", {}, format="json")
    assert response.status_code == 201, response.json()
    assert response.json()["quantity"] >= 2 * 120
    assert buyer.client.get(f"/api/v1/trials/{trial.pk}/report/").json()["reorder"]["quote"] == response.json()["id"]


def test_reorder_is_409_unless_the_verdict_is_scale(buyer):
    trial = make_trial(organization=buyer.org, created_by=buyer.user)
    assert buyer.client.post(f"/api/v1/trials/{trial.pk}/reorder-quote/", {}, format="json").status_code == 409


def test_start_with_an_idempotency_key_replays_the_first_response(buyer, django_capture_on_commit_callbacks):
    trial = make_trial(organization=buyer.org, created_by=buyer.user)
    url = f"/api/v1/trials/{trial.pk}/start/"
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        first = buyer.client.post(url, HTTP_IDEMPOTENCY_KEY="start-1")
        replay = buyer.client.post(url, HTTP_IDEMPOTENCY_KEY="start-1")
    assert first.status_code == replay.status_code == 202
    assert replay.json() == first.json() and replay["Idempotent-Replayed"] == "true"
    assert len(callbacks) == 1  # one run queued
    assert buyer.client.post(url, HTTP_IDEMPOTENCY_KEY="start-2").status_code == 409


@pytest.mark.parametrize("path,payload", [
    ("/api/v1/trials/", {}),
    ("/api/v1/trials/", {"name": "x", "kit": "abc", "mode": "sideways", "window_days": -3, "arms": "none"}),
    ("/api/v1/trials/", {"name": "x", "kit": 1, "mode": "simulated", "window_days": 30, "arms": [{"label": "", "unit_price": "NaN", "units": 0}]}),
    ("/api/v1/trials/forecast/", {"arms": [{"label": "a", "unit_price": "1e400", "units": 10}], "window_days": 30, "demand": {"base_daily": "x"}}),
    ("/api/v1/trials/forecast/", []),
    ("/api/v1/trials/{id}/sales/", {"events": "nope"}),
    ("/api/v1/trials/{id}/sales/", [{"arm": "A", "units": -1, "unit_price": "x", "sold_at": "yesterday", "external_id": ""}]),
    ("/api/v1/trials/{id}/sales/", []),
    ("/api/v1/trials/{id}/reorder-quote/", {"quantity": "many"}),
    ("/api/v1/trials/webhooks/", {"url": "ftp://x"}),
])
def test_garbage_input_is_a_4xx_never_a_500(buyer, path, payload):
    trial = make_trial(organization=buyer.org, created_by=buyer.user)
    response = buyer.client.post(path.format(id=trial.pk), payload, format="json")
    assert 400 <= response.status_code < 500, (response.status_code, response.content[:300])


def test_a_draft_can_be_edited_but_the_targets_freeze_when_it_starts(buyer):
    trial = make_trial(organization=buyer.org, created_by=buyer.user)
    url = f"/api/v1/trials/{trial.pk}/"
    edited = buyer.client.patch(url, {"targets": {"scale_at": "0.7", "kill_below": "0.2"},
                                      "arms": [{"label": "solo", "unit_price": "109.00", "units": 90}]}, format="json")
    assert edited.status_code == 200, edited.json()
    assert edited.json()["targets"] == {"scale_at": "0.700", "kill_below": "0.200"}
    assert [(a["label"], a["units"]) for a in edited.json()["arms"]] == [("solo", 90)]
    assert buyer.client.patch(url, {"targets": {"scale_at": "0.2", "kill_below": "0.5"}}, format="json").status_code == 400
    assert buyer.client.get(url).json()["targets"]["scale_at"] == "0.700"  # nothing changed by the bad edit

    from trials.services import trial_start

    trial_start(trial=trial, enqueue=False)
    frozen = buyer.client.patch(url, {"targets": {"scale_at": "0.5", "kill_below": "0.1"}}, format="json")
    assert frozen.status_code == 409
    assert Trial.objects.get(pk=trial.pk).scale_at == Decimal("0.700")
