"""The shell command and the HTML pages, as a person would use them."""

from io import StringIO

import pytest
from django.core.management import call_command
from django.test import Client

from tests.trials.factories import make_kit, make_trial
from trials.models import Trial
from trials.services import trial_run, trial_start

pytestmark = pytest.mark.django_db


def test_run_trial_simulates_end_to_end_and_prints_the_report(buyer):
    kit = make_kit()
    out, err = StringIO(), StringIO()
    call_command("run_trial", "--simulate", "--kit", str(kit.pk), "--org", str(buyer.org.pk), "--arm", "cheap:89:100",
                 "--arm", "dear:139:100", "--base-daily", "3", "--seed", "4", stdout=out, stderr=err)
    text = out.getvalue()
    trial = Trial.objects.get()
    assert trial.status == "closed" and trial.simulated
    assert "SIMULATED" in text and f"Verdict: {trial.verdict.upper()}" in text
    assert "cheap" in text and "dear" in text
    assert "100%" in err.getvalue()  # the progress bar reached the end


def test_run_trial_rejects_a_bad_arm(buyer):
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="LABEL:PRICE:UNITS"):
        call_command("run_trial", "--simulate", "--arm", "no-price", stdout=StringIO())


@pytest.fixture
def browser(buyer):
    client = Client()
    client.force_login(buyer.user)
    return client


def test_pages_label_simulated_trials_and_show_the_verdict_and_charts(browser, buyer):
    trial = make_trial(organization=buyer.org, created_by=buyer.user, name="Plug trial")
    draft = browser.get(f"/trials/{trial.pk}/")
    assert draft.status_code == 200
    assert b"Simulated trial." in draft.content and b"Forecast (10,000 paths)" in draft.content

    forecast = browser.post(f"/trials/{trial.pk}/forecast/")
    assert b"What the demand model expects" in forecast.content and b"A forecast from the demand model" in forecast.content

    trial_start(trial=trial, enqueue=False)
    trial_run(trial_id=trial.pk)
    page = browser.get(f"/trials/{trial.pk}/").content.decode()
    assert "Verdict:" in page and "badge-sim" in page and page.count("<svg viewBox") >= 3
    assert "Download the daily metrics (CSV)" in page

    listing = browser.get("/trials/").content.decode()
    assert "Plug trial" in listing and "Simulated" in listing
    assert "Plug trial" not in browser.get("/trials/funnel/").content.decode()  # live trials by default
    funnel = browser.get("/trials/funnel/?simulated=true").content.decode()
    assert "hit rate" in funnel and "Plug trial" in funnel
    # The forecast made on the draft was scored at close: the funnel says how far to trust forecasts.
    assert "1</span>forecast scored" in funnel and "Reliability of forecast probabilities" in funnel
    assert "Market trials" in browser.get("/").content.decode()


def test_the_form_creates_a_draft_and_shows_errors_in_words(browser, buyer):
    kit = make_kit()
    bad = browser.post("/trials/new/", {"name": "x", "kit": kit.pk, "mode": "simulated", "window_days": 30,
                                        "scale_at": "0.2", "kill_below": "0.5", "arm0_label": "A", "arm0_price": "99",
                                        "arm0_units": "50", "base_daily": "3"})
    assert bad.status_code == 200 and "kill_below &lt; scale_at" in bad.content.decode()
    assert not Trial.objects.exists()
    good = browser.post("/trials/new/", {"name": "Form trial", "kit": kit.pk, "mode": "simulated", "window_days": 30,
                                         "scale_at": "0.8", "kill_below": "0.3", "arm0_label": "A", "arm0_price": "99",
                                         "arm0_units": "50", "base_daily": "3"})
    trial = Trial.objects.get()
    assert good.status_code == 302 and good["Location"] == f"/trials/{trial.pk}/"
    assert trial.demand["base_daily"] == 3.0


def test_empty_states_say_what_to_do_next(browser):
    assert b"Plan a trial" in browser.get("/trials/").content
    assert b"No trials here yet" in browser.get("/trials/funnel/").content
    assert b"No webhooks yet" in browser.get("/trials/webhooks/").content
    assert b"Plan your first trial" in browser.get("/").content


def test_another_organisations_trial_page_is_404(browser, make_member):
    other = make_member(name="Other")
    trial = make_trial(organization=other.org, created_by=other.user)
    assert browser.get(f"/trials/{trial.pk}/").status_code == 404
    assert browser.post(f"/trials/{trial.pk}/start/").status_code == 404


def test_operators_browse_trials_in_the_admin_and_start_drafts_through_the_service(operator, buyer,
                                                                                   django_capture_on_commit_callbacks):
    client = Client()
    client.force_login(operator.user)
    trial = make_trial(organization=buyer.org, created_by=buyer.user, name="Admin trial")
    assert b"Admin trial" in client.get("/admin/trials/trial/?mode__exact=simulated").content
    assert client.get(f"/admin/trials/trial/{trial.pk}/change/").status_code == 200
    for model in ("salesevent", "dailymetric", "webhookendpoint", "webhookdelivery"):
        assert client.get(f"/admin/trials/{model}/").status_code == 200
    with django_capture_on_commit_callbacks(execute=True):
        client.post("/admin/trials/trial/", {"action": "start_drafts", "_selected_action": [trial.pk]})
    trial.refresh_from_db()
    assert trial.status == "closed" and trial.verdict  # started by the action, run by the (eager) worker
    page = client.get(f"/admin/trials/trial/{trial.pk}/change/").content.decode()
    assert 'name="scale_at"' not in page  # targets are frozen once started
