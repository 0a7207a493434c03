"""Private figures and task results are visible only to those they concern (404 for others)."""

from decimal import Decimal

from credit.services import credit_line_grant
from organizations.models import StartedTask


def test_trust_scores_are_private_to_the_organisation_its_counterparties_and_operators(buyer, trader, make_member, operator):
    stranger = make_member(name="Stranger Ltd", trader=True)
    url = f"/api/v1/credit/trust/{buyer.org.pk}/"
    assert stranger.client.get(url).status_code == 404
    assert buyer.client.get(url).status_code == 200
    assert operator.client.get(url).status_code == 200
    assert trader.client.get(url).status_code == 404
    credit_line_grant(supplier=trader.org, buyer=buyer.org, limit=Decimal("500.00"), currency="CNY", terms_days=30)
    assert trader.client.get(url).status_code == 200  # now a counterparty
    assert stranger.client.get(url).status_code == 404


def test_task_status_is_for_the_user_who_started_it(buyer, trader, settings):
    response = buyer.client.post("/api/v1/system/ping/")
    assert response.status_code == 202
    task_id = response.json()["task_id"]
    assert StartedTask.objects.filter(task_id=task_id, user=buyer.user).exists()
    assert buyer.client.get(f"/api/v1/tasks/{task_id}/").status_code == 200
    assert trader.client.get(f"/api/v1/tasks/{task_id}/").status_code == 404
    assert buyer.client.get("/api/v1/tasks/not-a-task/").status_code == 404
