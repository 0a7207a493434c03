"""Every input that reaches numpy is bounded (issue 23): schema-valid but extreme demand models are
a JSON 400 on the forecast, the draft forecast and trial creation, never a 500."""

import pytest

from tests.trials.factories import make_kit, make_trial
from trials.demand import MAX_MEAN_DAILY, DemandModel
from trials.models import Trial

pytestmark = pytest.mark.django_db

# Each field within its schema bounds; together a mean daily demand of ~1e285 at 0.01.
EXTREME = {"base_daily": 100_000, "dispersion": 0.01, "elasticity": -20, "reference_price": "999999999999.99", "seed": 1}


def _body(kit, demand, **over):
    return {"name": "extreme", "kit": kit.pk, "mode": "simulated", "window_days": 30,
            "arms": [{"label": "cheap", "unit_price": "0.01", "units": 100}], "demand": demand, "paths": 1000, **over}


def test_the_audit_forecast_is_a_json_400(buyer):
    response = buyer.client.post("/api/v1/trials/forecast/", _body(make_kit(), EXTREME), format="json")
    assert response.status_code == 400
    assert response["Content-Type"].startswith("application/json")
    assert "mean daily demand" in response.json()["demand"][0]


def test_a_large_but_sane_demand_still_forecasts(buyer):
    demand = {"base_daily": 100_000, "dispersion": 0.01, "elasticity": -1.5, "seed": 1}
    response = buyer.client.post("/api/v1/trials/forecast/", _body(make_kit(), demand), format="json")
    assert response.status_code == 200, response.json()
    assert response.json()["arms"][0]["sell_through"]["p90"] == 1.0


def test_creating_a_simulated_trial_with_the_extreme_model_is_a_400_and_creates_nothing(buyer):
    response = buyer.client.post("/api/v1/trials/", _body(make_kit(), EXTREME), format="json")
    assert response.status_code == 400 and "mean daily demand" in str(response.json()["demand"])
    assert not Trial.objects.exists()


def test_the_draft_forecast_refuses_it_too(buyer):
    trial = make_trial(organization=buyer.org, created_by=buyer.user, mode="live", demand=None)
    response = buyer.client.post(f"/api/v1/trials/{trial.pk}/forecast/", {"demand": EXTREME, "paths": 1000}, format="json")
    assert response.status_code == 400 and "mean daily demand" in str(response.json())


@pytest.mark.parametrize("price", ["0.01", "1e-300"])
def test_the_model_refuses_before_numpy(price):
    model = DemandModel.from_dict(EXTREME)
    with pytest.raises(ValueError, match="mean daily demand"):
        model.nb_params(float(price))
    model.check_prices([float(EXTREME["reference_price"])])  # at the reference price it is base_daily
    assert model.mean_daily(float(EXTREME["reference_price"])) <= MAX_MEAN_DAILY
