"""Trials benchmark. Prints a table for docs/benchmarks.md.

    DATABASE_URL=postgres://kitstreet:kitstreet@127.0.0.1:5433/kit_trials_bench \\
    CELERY_BROKER_URL=redis://127.0.0.1:6380/11 CELERY_RESULT_BACKEND=redis://127.0.0.1:6380/11 \\
    .venv/bin/python bench/trials.py

1. The forecast: 10,000 paths x 30 days x 2 arms through `trials.demand.forecast` (the code behind
   POST /api/v1/trials/forecast/), median and p95 of BENCH_FORECAST_RUNS runs (goal <= 250 ms).
2. BENCH_TRIALS (100) simulated trials through a real `celery worker` process on Redis and
   PostgreSQL: all started at once through `trial_start` (enqueued after commit, as the API does),
   wall time until every one is closed (goal <= 60 s), and each trial's start-to-verdict latency.
3. BENCH_EVENTS (10,000) live sales events, one per call: the per-event cost of recording a sale
   and re-judging the trial incrementally (goal <= 5 ms per event). BENCH_SKIP_WORKER=1 runs 1 and 3.
Creates the database (and migrates it) on first run; each run adds its own organisation.
"""

import os
import signal
import statistics
import subprocess
import sys
import time
import uuid
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")
os.environ["DEBUG"] = "0"  # DEBUG keeps every query in memory

FORECAST_RUNS = int(os.environ.get("BENCH_FORECAST_RUNS", "30"))
TRIALS = int(os.environ.get("BENCH_TRIALS", "100"))
CONCURRENCY = int(os.environ.get("BENCH_CONCURRENCY", "2"))
TIMEOUT = float(os.environ.get("BENCH_TIMEOUT", "300"))
EVENTS = int(os.environ.get("BENCH_EVENTS", "10000"))


def pct(values: list[float], q: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, round(q * (len(values) - 1)))]


def bench_forecast() -> dict:
    from trials.demand import ArmPlan, DemandModel, forecast

    model = DemandModel(base_daily=3.0, dispersion=2.0, reference_price=99.0, elasticity=-1.5, seed=1)
    arms = [ArmPlan("at 99", Decimal("99"), 100), ArmPlan("at 129", Decimal("129"), 100)]
    forecast(model=model, arms=arms, window_days=30, scale_at=0.8, kill_below=0.3)  # warm-up (imports, scipy)
    times = []
    for _ in range(FORECAST_RUNS):
        started = time.perf_counter()
        forecast(model=model, arms=arms, window_days=30, scale_at=0.8, kill_below=0.3, paths=10_000)
        times.append((time.perf_counter() - started) * 1000)
    return {"median": statistics.median(times), "p95": pct(times, 0.95)}


def ensure_database() -> None:
    import dj_database_url
    import psycopg

    cfg = dj_database_url.parse(os.environ["DATABASE_URL"])
    if cfg["ENGINE"] != "django.db.backends.postgresql":
        sys.exit("bench/trials.py needs PostgreSQL: set DATABASE_URL=postgres://...")
    with psycopg.connect(host=cfg["HOST"], port=cfg["PORT"], user=cfg["USER"], password=cfg["PASSWORD"],
                         dbname="postgres", autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [cfg["NAME"]]).fetchone():
            conn.execute(f'CREATE DATABASE "{cfg["NAME"]}"')


def setup() -> tuple:
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    from organizations.services import organization_create
    from marketplace.kits.services import kit_create
    from tests.marketplace.factories import ListingFactory, PartFactory, UserFactory

    run = uuid.uuid4().hex[:8]
    user = UserFactory(username=f"bench-trials-{run}")
    buyer = organization_create(owner=user, name=f"Bench trials buyer {run}", kinds=["buyer"])
    house = organization_create(owner=user, name=f"Bench house {run}", kinds=["solution_house"], verified=True)
    trader = organization_create(owner=user, name=f"Bench trader {run}", kinds=["trader"], verified=True)
    bom = []
    for i in range(10):  # a 10-line kit, one offer per part
        part = PartFactory(mpn=f"BENCH-{run}-{i}")
        ListingFactory(vendor=trader, part=part, stock=10_000_000, breaks=[(1, "1.20"), (1000, "0.95")])
        bom.append({"part": part, "quantity": Decimal("1")})
    kit = kit_create(owner=house, name=f"Bench kit {run}", bom=bom)
    return buyer, user, kit


def bench_worker_trials(buyer, user, kit) -> dict:
    from django.db import connections
    from config.celery import app
    from trials.models import Trial
    from trials.services import trial_create, trial_start

    drafts = [
        trial_create(
            organization=buyer, created_by=user, name=f"bench {i}", kit=kit, mode="simulated", window_days=30,
            scale_at=Decimal("0.8"), kill_below=Decimal("0.3"),
            arms=[{"label": "A", "unit_price": Decimal("99"), "units": 100},
                  {"label": "B", "unit_price": Decimal("129"), "units": 100}],
            demand={"base_daily": 1 + (i % 7), "seed": i},
        )
        for i in range(TRIALS)
    ]
    conf = app.conf
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings.local", "CELERY_BROKER_URL": conf.broker_url,
           "CELERY_RESULT_BACKEND": conf.result_backend}
    queue = conf.task_default_queue
    log = open(ROOT / "var" / "bench-trials-worker.log", "w")
    worker = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "config", "worker", "--loglevel", "WARNING", "--pool", "prefork",
         "--concurrency", str(CONCURRENCY), "-Q", queue, "--without-gossip", "--without-mingle", "--without-heartbeat",
         "--hostname", f"bench-trials-{os.getpid()}@%h"],
        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
    )
    try:
        from config.tasks import worker_ping

        worker_ping.delay("ready?").get(timeout=60)  # the worker is up before the clock starts
        ids = [t.pk for t in drafts]
        started = time.perf_counter()
        for trial in drafts:
            trial_start(trial=trial)  # enqueued on commit, as POST .../start/ does
        while True:
            done = Trial.objects.filter(pk__in=ids, status__in=["closed", "failed"]).count()
            if done == len(ids):
                break
            if time.perf_counter() - started > TIMEOUT:
                sys.exit(f"only {done}/{len(ids)} trials closed in {TIMEOUT:.0f} s; see var/bench-trials-worker.log")
            time.sleep(0.05)
        wall = time.perf_counter() - started
        latencies = [
            (row["closed_at"] - row["started_at"]).total_seconds()
            for row in Trial.objects.filter(pk__in=ids).values("started_at", "closed_at")
        ]
        failed = Trial.objects.filter(pk__in=ids, status="failed").count()
        verdicts = {v: Trial.objects.filter(pk__in=ids, verdict=v).count() for v in ("scale", "iterate", "kill")}
    finally:
        os.killpg(worker.pid, signal.SIGTERM)
        try:
            worker.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(worker.pid, signal.SIGKILL)
        log.close()
        connections.close_all()
    return {"wall": wall, "p50": statistics.median(latencies), "p95": pct(latencies, 0.95), "failed": failed,
            "verdicts": verdicts}


def bench_sales_events(buyer, user, kit) -> dict:
    """BENCH_EVENTS sales events, one per call of `trial_sales_record` (what POST .../sales/ runs),
    into a live trial with 2 arms selling over 60 days: each event is recorded, the daily metrics
    updated in place, the arm's e-value recomputed and the trial re-judged. Per-event wall time,
    early and late in the run (it must not grow with the events already recorded), and for contrast
    one full rebuild of the daily metrics from all the events (what a re-judge used to need)."""
    from datetime import timedelta

    from django.utils import timezone

    from trials.models import Trial, TrialArm
    from trials.services import trial_create, trial_sales_record
    from trials.services.lifecycle import _rebuild_live_metrics

    window = 60
    trial = trial_create(
        organization=buyer, created_by=user, name="bench live", kit=kit, mode="live", window_days=window,
        scale_at=Decimal("0.8"), kill_below=Decimal("0.3"),
        arms=[{"label": "A", "unit_price": Decimal("99"), "units": 1000},
              {"label": "B", "unit_price": Decimal("129"), "units": 1000}],
    )
    now = timezone.now()
    start = now - timedelta(days=window - 1)
    # Straight to selling with a large stock (no order): the benchmark is about the events.
    TrialArm.objects.filter(trial=trial).update(units=EVENTS * 2, units_received=EVENTS * 2)
    Trial.objects.filter(pk=trial.pk).update(status="selling", selling_started_at=start, ends_at=start + timedelta(days=window))
    step = (now - start) / EVENTS
    times = []
    for i in range(EVENTS):
        event = {"arm": "AB"[i % 2], "units": 1, "unit_price": "99.00" if i % 2 == 0 else "129.00",
                 "sold_at": start + step * i, "channel": "bench", "external_id": f"e-{i}"}
        started = time.perf_counter()
        result = trial_sales_record(trial=trial, events=[event], now=now)
        times.append((time.perf_counter() - started) * 1000)
        assert result["accepted"] == 1 and result["status"] == "selling"
    trial.refresh_from_db()
    arms = list(TrialArm.objects.filter(trial=trial).order_by("pk"))
    rebuilds = []
    for _ in range(5):
        started = time.perf_counter()
        _rebuild_live_metrics(trial, arms, now)
        rebuilds.append((time.perf_counter() - started) * 1000)
    # The re-judge alone (no database): the e-value update `trial_sales_record` runs per batch, on the
    # state the 10,000 events left (60 days of daily sales per arm), once per event.
    from trials.services.sales import _rejudge

    trial.refresh_from_db()
    last_day = int(trial.sequential["days"])
    started = time.perf_counter()
    for i in range(EVENTS):
        _rejudge(trial, arms, added={(arms[i % 2].pk, last_day): 1})
    rejudge = (time.perf_counter() - started) * 1000 / EVENTS
    tenth = max(1, EVENTS // 10)
    return {"p50": statistics.median(times), "p95": pct(times, 0.95), "first": statistics.median(times[:tenth]),
            "last": statistics.median(times[-tenth:]), "rebuild": statistics.median(rebuilds), "rejudge": rejudge}


def main() -> None:
    ensure_database()
    fc = bench_forecast()
    buyer, user, kit = setup()
    from config.celery import app
    from django.db import connection

    ev = bench_sales_events(buyer, user, kit)
    event_rows = [
        (f"Re-judge per sales event (e-values and settlement, in memory), {EVENTS:,} events", f"{ev['rejudge']:.3f} ms",
         "≤ 5 ms"),
        (f"Sales event recorded and trial re-judged, one transaction per event, {EVENTS:,} events: p50 / p95",
         f"{ev['p50']:.2f} ms / {ev['p95']:.2f} ms", "≤ 5 ms"),
        (f"  median of the first / last {max(1, EVENTS // 10):,} events", f"{ev['first']:.2f} ms / {ev['last']:.2f} ms",
         "flat"),
        (f"  for contrast: one full rebuild of the daily metrics from {EVENTS:,} events", f"{ev['rebuild']:.0f} ms", ""),
    ]
    if os.environ.get("BENCH_SKIP_WORKER"):
        rows = event_rows
        print(f"\nTrials benchmark — PostgreSQL {connection.pg_version // 10000}, {os.cpu_count()} CPUs\n")
        print("| Measure | Result | Goal |\n| --- | --- | --- |")
        for name, result, goal in [(f"Forecast (median of {FORECAST_RUNS})", f"{fc['median']:.0f} ms", "≤ 250 ms")] + rows:
            print(f"| {name} | {result} | {goal} |")
        return
    wt = bench_worker_trials(buyer, user, kit)
    rows = event_rows + [
        ("Forecast 10,000 paths × 30 days × 2 arms (median of %d)" % FORECAST_RUNS, f"{fc['median']:.0f} ms", "≤ 250 ms"),
        ("Forecast, p95", f"{fc['p95']:.0f} ms", "≤ 250 ms"),
        (f"{TRIALS} simulated trials through a real worker (concurrency {CONCURRENCY}), all started at once → all closed",
         f"{wt['wall']:.1f} s", "≤ 60 s"),
        ("  per trial, start → verdict, p50 / p95", f"{wt['p50']:.1f} s / {wt['p95']:.1f} s", ""),
        ("  failed trials; verdicts", f"{wt['failed']}; " + ", ".join(f"{k} {v}" for k, v in wt["verdicts"].items()), ""),
    ]
    print(f"\nTrials benchmark — PostgreSQL {connection.pg_version // 10000}, broker {app.conf.broker_url.split('://')[0]}, "
          f"{os.cpu_count()} CPUs\n")
    print("| Measure | Result | Goal |\n| --- | --- | --- |")
    for name, result, goal in rows:
        print(f"| {name} | {result} | {goal} |")


if __name__ == "__main__":
    main()
