"""`make serve` end to end: the production profile (gunicorn with 2 web processes, a Celery worker
with 2 processes, beat, the outbox relay) on PostgreSQL and its own Redis, driven over HTTP.

Then a broker outage: this test's own Redis is stopped mid-run. Trials started meanwhile answer
202 (the run is in the outbox, committed with the trial), the broker-dependent ping answers 503
with Retry-After, nothing answers 500, the worker survives; when Redis is back every run happens,
each exactly once.

Marked `serve`: needs PostgreSQL and redis-server (CI has both); skipped on SQLite runs.
"""

import time

import pytest
import requests

from tests.serving import served  # noqa: F401  (the module-scoped fixture)

pytestmark = [pytest.mark.serve, pytest.mark.xdist_group("serve")]  # one `make serve` at a time under xdist


TRIAL = {"name": "serve smoke", "mode": "simulated", "window_days": 14,
         "targets": {"scale_at": "0.8", "kill_below": "0.3"},
         "arms": [{"label": "A", "unit_price": "99.00", "units": 20}],
         "demand": {"base_daily": 3, "dispersion": 2, "elasticity": -1.5, "seed": 1}}


def _a_kit(served, headers) -> int:
    kits = requests.get(f"{served.base}/api/v1/kits/", headers=headers, timeout=30).json()["results"]
    return kits[0]["id"]


def _wait_closed(served, headers, trial_ids, timeout=240) -> dict:
    deadline, states = time.monotonic() + timeout, {}
    while time.monotonic() < deadline:
        states = {pk: requests.get(f"{served.base}/api/v1/trials/{pk}/", headers=headers, timeout=30).json()["status"]
                  for pk in trial_ids}
        if all(state in ("closed", "failed") for state in states.values()):
            return states
        time.sleep(1)
    raise AssertionError(f"trials not closed: {states}\n{served.log.read_text()[-3000:]}")


OUTAGE_SIGNS = ("Connection to broker lost", "Cannot connect to redis", "Trying again in")


def _wait_for_worker_to_notice_the_outage(served, timeout=30):
    """Until the worker logs the lost broker (Celery's consumer, or its reconnect attempts), at most
    `timeout` seconds: the outage must be real for the worker, not just for the web processes."""
    seen = served.log.read_text().count
    before = {text: seen(text) for text in OUTAGE_SIGNS}
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and all(seen(text) == before[text] for text in OUTAGE_SIGNS):
        time.sleep(0.2)
        seen = served.log.read_text().count


def test_a_search_a_quote_an_order_and_a_trial_through_make_serve(served):
    headers = served.token("buyer")
    base = served.base
    found = requests.get(f"{base}/api/v1/listings/", params={"q": "CH32V003", "qty": 100}, headers=headers, timeout=30)
    assert found.status_code == 200 and found.json()["count"] > 0
    assert "unit_price_at_qty" in found.json()["results"][0]
    kit = _a_kit(served, headers)
    quote = requests.post(f"{base}/api/v1/kits/{kit}/quote/", json={"quantity": 10}, headers=headers, timeout=60)
    assert quote.status_code == 201, quote.text
    order = requests.post(f"{base}/api/v1/orders/", json={"quote": quote.json()["id"], "payment": "deposit"},
                          headers={**headers, "Idempotency-Key": "serve-order-1"}, timeout=60)
    assert order.status_code == 201, order.text
    assert order.json()["status"] == "placed"

    trial = requests.post(f"{base}/api/v1/trials/", json={**TRIAL, "kit": kit}, headers=headers, timeout=30)
    assert trial.status_code == 201, trial.text
    started = requests.post(f"{base}/api/v1/trials/{trial.json()['id']}/start/", headers=headers, timeout=30)
    assert started.status_code == 202, started.text
    assert _wait_closed(served, headers, [trial.json()["id"]]) == {trial.json()["id"]: "closed"}
    report = requests.get(f"{base}/api/v1/trials/{trial.json()['id']}/report/", headers=headers, timeout=30)
    assert report.status_code == 200 and report.json()["verdict"] in ("scale", "iterate", "kill")


def test_a_broker_outage_loses_nothing_and_runs_nothing_twice(served):
    headers = served.token("buyer")
    operator = served.token("operator")
    base = served.base
    kit = _a_kit(served, headers)

    def post(path, body=None) -> requests.Response:
        """As a client should: a 503 (a dependency unavailable, rolled back) is retried after its
        Retry-After."""
        for _ in range(5):
            response = requests.post(f"{base}{path}", json=body, headers=headers, timeout=30)
            if response.status_code != 503 or path.endswith("/start/") and served.redis.proc.poll() is not None:
                return response
            time.sleep(int(response.headers["Retry-After"]))
        return response

    def start_one(n: int) -> requests.Response:
        trial = post("/api/v1/trials/", {**TRIAL, "name": f"outage {n}", "kit": kit})
        assert trial.status_code == 201, trial.text
        return post(f"/api/v1/trials/{trial.json()['id']}/start/")

    before = [start_one(n) for n in range(2)]  # the broker is up
    served.redis.stop()
    during = [start_one(n) for n in range(2, 6)]
    ping = requests.post(f"{base}/api/v1/system/ping/", headers=operator, timeout=30)
    pending = served.sql("SELECT count(*) FROM outbox_outboxmessage WHERE sent_at IS NULL")[0][0]
    _wait_for_worker_to_notice_the_outage(served)
    served.redis.start()
    after = [start_one(n) for n in range(6, 8)]

    responses = before + during + after
    assert [r.status_code for r in responses] == [202] * 8, [r.text for r in responses]  # honest: all committed
    assert ping.status_code == 503 and int(ping.headers["Retry-After"]) > 0
    assert pending >= len(during)  # kept in the outbox while Redis was down
    trial_ids = [r.json()["trial"] for r in responses]
    assert set(_wait_closed(served, headers, trial_ids).values()) == {"closed"}  # nothing lost
    assert served.sql("SELECT count(*) FROM outbox_outboxmessage WHERE sent_at IS NULL")[0][0] == 0
    log = served.log.read_text()
    for response in responses:  # each run received by a worker exactly once
        assert log.count(f"trials.tasks.trial_run_task[{response.json()['task_id']}] received") == 1
    # The app stayed up: honcho did not stop web and beat because of the worker.
    assert requests.get(f"{base}/login/", timeout=30).status_code == 200
    assert "web.1 stopped" not in log and "beat.1 stopped" not in log
    # The worker reconnected by itself (config/celery.py), not by being restarted.
    assert "Unrecoverable error" not in log and "keepalive: .venv/bin/celery exited" not in log
