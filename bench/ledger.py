"""Ledger benchmark (PostgreSQL). Prints a table for docs/benchmarks.md.

    DATABASE_URL=postgres://kitstreet:kitstreet@127.0.0.1:5433/kit_credit_bench .venv/bin/python bench/ledger.py

Measures, through the real services (`idempotency_run` + `ledger_transfer` / `ledger_post_batch`):
1. single transfers/s from one process: A<->B on the same two wallets, each in its own
   transaction with an Idempotency-Key row, row locks and the overdraft check;
2. the same from two processes at once on the same two accounts (contended), then checks that
   no account went below zero and that the ledger still verifies;
3. batched transfers/s (10,000 transfers per transaction, COPY) over 100 wallets;
4. the time to read a balance once the ledger holds >= 1M postings (stored balance, one row),
   next to what summing one busy account's postings would cost;
5. a balance at a past moment (`GET /api/v1/accounts/?at=`: `credit.selectors.accounts_at`) for a
   busy account and an organisation's accounts, halfway through the ledger's history.
BENCH_AT_ONLY=1 skips measures 1-3 (the ledger still grows to BENCH_POSTINGS first).
Creates the database's tables on first run (`migrate`); reuses it afterwards.
"""

import multiprocessing as mp
import os
import random
import statistics
import sys
import time
import uuid
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# The project root first, and not bench/: a script here named like a package (marketplace, trials)
# must not shadow it, whether run as `python bench/x.py` or `python -P bench/x.py`.
sys.path = [str(Path(__file__).resolve().parent.parent)] + [
    p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")
os.environ["DEBUG"] = "0"  # DEBUG keeps every query in memory

SINGLE_N = int(os.environ.get("BENCH_SINGLE_N", "3000"))
BATCH_SIZE = int(os.environ.get("BENCH_BATCH_SIZE", "10000"))
TARGET_POSTINGS = int(os.environ.get("BENCH_POSTINGS", "1000000"))
RUNS = int(os.environ.get("BENCH_RUNS", "3"))
AT_ONLY = os.environ.get("BENCH_AT_ONLY") == "1"


def setup_django():
    import django

    django.setup()
    from django.db import connection

    if connection.vendor != "postgresql":
        sys.exit("bench/ledger.py needs PostgreSQL: set DATABASE_URL=postgres://...")


def checkpoint():
    """Start a timed phase right after a checkpoint, so that the previous phase's writes are not
    flushed in the middle of it (needs a superuser; skipped otherwise)."""
    from django.db import connection

    try:
        with connection.cursor() as cursor:
            cursor.execute("CHECKPOINT")
    except Exception:  # noqa: BLE001 - a benchmark convenience, not a requirement
        pass


def bench_org(name: str):
    from organizations.models import Organization

    org, _ = Organization.objects.get_or_create(slug=f"bench-{name}", defaults={"name": f"Bench {name}", "is_buyer": True, "verified": True})
    return org


def single_worker(args) -> tuple[int, int, float]:
    """Run n transfers alternating A->B and B->A; returns (accepted, refused, seconds)."""
    a_id, b_id, n, seed = args
    setup_django()
    from credit.exceptions import InsufficientFunds
    from credit.services import idempotency_run, ledger_transfer

    rng = random.Random(seed)
    accepted = refused = 0
    scope = f"bench:{uuid.uuid4().hex[:8]}"
    started = time.perf_counter()
    for i in range(n):
        src, dst = (a_id, b_id) if i % 2 else (b_id, a_id)
        amount = Decimal(rng.randint(100, 9000)) / 100

        def execute():
            entry = ledger_transfer(debit=src, credit=dst, amount=amount, memo="bench")
            return 201, {"entry": entry.pk}

        try:
            idempotency_run(scope=scope, key=f"k{i}", fingerprint=str(amount), execute=execute)
            accepted += 1
        except InsufficientFunds:
            refused += 1
    return accepted, refused, time.perf_counter() - started


def main():
    setup_django()
    from django.core.management import call_command
    from django.db import connection

    call_command("migrate", verbosity=0)
    from credit.models import Account, AccountKind, Posting
    from credit.selectors import ledger_verify
    from credit.services import Transfer, account_for, ledger_post_batch, wallet_topup

    rows = []

    if AT_ONLY:
        return _grow_and_read_at(rows)
    # 1 and 2: single transfers on the same two accounts, with small balances so that the limit
    # check refuses some transfers (a refused transfer is rolled back, key row included).
    a = account_for(organization=bench_org("a"), kind=AccountKind.WALLET, currency="CNY")
    b = account_for(organization=bench_org("b"), kind=AccountKind.WALLET, currency="CNY")
    for account in (a, b):
        account.refresh_from_db()
        if account.balance < Decimal("500.00"):
            wallet_topup(organization=account.organization, amount=Decimal("500.00") - account.balance, currency="CNY", reference=f"bench-{uuid.uuid4().hex}")
    total_before = Account.objects.get(pk=a.pk).balance + Account.objects.get(pk=b.pk).balance
    checkpoint()
    connection.close()

    # Each contended/uncontended measure runs RUNS times (the machine is shared): median and range.
    rates, accepted, refused = [], 0, 0
    for run in range(RUNS):
        ok, no, seconds = single_worker((a.pk, b.pk, SINGLE_N, 1 + run))
        rates.append((ok + no) / seconds)
        accepted, refused = accepted + ok, refused + no
    rows.append(("Single transfers, 1 process (lock + limit check + idempotency key)",
                 f"{statistics.median(rates):,.0f} /s", "≥ 1,100 /s",
                 f"median of {RUNS} runs of {SINGLE_N:,} (range {min(rates):,.0f}–{max(rates):,.0f}); "
                 f"{accepted:,} accepted, {refused:,} refused (overdraft)"))

    setup_django()
    checkpoint()
    connection.close()
    ctx = mp.get_context("spawn")
    rates, accepted, refused, overdrawn = [], 0, 0, 0
    with ctx.Pool(2) as pool:
        for run in range(RUNS):
            started = time.perf_counter()
            results = pool.map(single_worker, [(a.pk, b.pk, SINGLE_N, 10 + 2 * run), (a.pk, b.pk, SINGLE_N, 11 + 2 * run)])
            seconds = time.perf_counter() - started
            rates.append(sum(r[0] + r[1] for r in results) / seconds)
            accepted += sum(r[0] for r in results)
            refused += sum(r[1] for r in results)
            for acc in Account.objects.filter(pk__in=[a.pk, b.pk]):
                overdrawn += acc.balance - acc.held < 0
    setup_django()
    a.refresh_from_db(), b.refresh_from_db()
    conserved = a.balance + b.balance == total_before
    rows.append(("Single transfers, 2 processes, same 2 accounts (contended)",
                 f"{statistics.median(rates):,.0f} /s", "≥ 1,000 /s, 0 overdraws",
                 f"median of {RUNS} runs of 2 × {SINGLE_N:,} (range {min(rates):,.0f}–{max(rates):,.0f}); "
                 f"{accepted:,} accepted, {refused:,} refused; overdrawn accounts after each run: {overdrawn}; "
                 f"money conserved: {'yes' if conserved else 'NO'}"))

    # 3: batches over 100 wallets, each funded so that the batch is accepted.
    wallets = []
    for i in range(100):
        org = bench_org(f"w{i}")
        wallet = account_for(organization=org, kind=AccountKind.WALLET, currency="CNY")
        if wallet.balance < Decimal("1000000.00"):
            wallet_topup(organization=org, amount=Decimal("1000000.00"), currency="CNY", reference=f"bench-{uuid.uuid4().hex}")
        wallets.append(wallet.pk)
    rng = random.Random(7)

    def make_batch(n):
        out = []
        for _ in range(n):
            src, dst = rng.sample(wallets, 2)
            out.append(Transfer(src, dst, Decimal(rng.randint(1, 500)) / 100, "bench batch"))
        return out

    timings = []
    for _ in range(5):
        batch = make_batch(BATCH_SIZE)
        started = time.perf_counter()
        ledger_post_batch(transfers=batch)
        timings.append(time.perf_counter() - started)
    best, median = min(timings), statistics.median(timings)
    rows.append((f"Batched transfers ({BATCH_SIZE:,} per transaction, 5 runs)", f"{BATCH_SIZE / median:,.0f} /s",
                 "≥ 20,000 /s", f"median {median * 1000:.0f} ms per batch, best {BATCH_SIZE / best:,.0f} /s"))

    # 4: grow the ledger to >= 1M postings, then read balances.
    postings = Posting.objects.count()
    grow_started = time.perf_counter()
    while postings < TARGET_POSTINGS:
        n = min(50_000, (TARGET_POSTINGS - postings + 1) // 2)
        ledger_post_batch(transfers=make_batch(n))
        postings += 2 * n
    grow_seconds = time.perf_counter() - grow_started
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE credit_posting; ANALYZE credit_account")
    busiest = wallets[0]
    reads = []
    for i in range(2000):
        pk = wallets[i % len(wallets)]
        started = time.perf_counter()
        Account.objects.only("balance", "held").get(pk=pk).balance
        reads.append(time.perf_counter() - started)
    reads.sort()
    p50, p95 = reads[len(reads) // 2], reads[int(len(reads) * 0.95)]
    from django.db.models import Sum

    started = time.perf_counter()
    Posting.objects.filter(account_id=busiest).aggregate(total=Sum("amount"))
    sum_ms = (time.perf_counter() - started) * 1000
    legs = Posting.objects.filter(account_id=busiest).count()
    total_postings = Posting.objects.count()
    rows.append((f"Balance read at {total_postings:,} postings (stored balance, ORM get)", f"p50 {p50 * 1000:.2f} ms",
                 "≤ 1 ms", f"p95 {p95 * 1000:.2f} ms; summing one account's {legs:,} postings instead: {sum_ms:.0f} ms"
                 + (f"; grew the ledger in {grow_seconds:.0f} s" if grow_seconds > 1 else "")))

    _balance_at(rows, wallets)

    started = time.perf_counter()
    report = ledger_verify()
    verify_seconds = time.perf_counter() - started
    rows.append(("verify_ledger over the whole ledger", f"{verify_seconds:.1f} s", "—",
                 "OK" if report.ok else f"{len(report.problems)} problems: {report.problems[:3]}"))

    with connection.cursor() as cursor:
        cursor.execute("SELECT version()")
        version = cursor.fetchone()[0].split(",")[0]
        cursor.execute("SHOW synchronous_commit")
        sync = cursor.fetchone()[0]
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    print(f"\n{version}, synchronous_commit={sync}, {os.cpu_count()} CPUs, load average after the run: {load}\n")
    print("| Measure | Result | Goal | Notes |")
    print("| --- | --- | --- | --- |")
    for row in rows:
        print("| " + " | ".join(row) + " |")


def _balance_at(rows, wallets):
    """Measure 5: accounts_at for the busiest wallet and for one organisation's accounts, at the
    moment halfway through the entries (p50 of 200 reads each)."""
    from credit.models import Account, JournalEntry, Posting
    from credit.selectors import accounts_at

    first, last = JournalEntry.objects.order_by("id").values_list("id", flat=True)[:1][0], JournalEntry.objects.latest("id").pk
    mid = JournalEntry.objects.filter(pk__gte=(first + last) // 2).order_by("id").values_list("created_at", flat=True)[:1][0]
    busiest = Account.objects.get(pk=wallets[0])
    legs = Posting.objects.filter(account=busiest).count()
    org_accounts = list(Account.objects.filter(organization_id=busiest.organization_id))
    for label, accounts in ((f"one wallet with {legs:,} postings", [busiest]), (f"an organisation's {len(org_accounts)} accounts", org_accounts)):
        times = []
        for _ in range(200):
            fresh = [Account(pk=a.pk, balance=a.balance, held=a.held) for a in accounts]
            started = time.perf_counter()
            accounts_at(fresh, at=mid)
            times.append(time.perf_counter() - started)
        times.sort()
        rows.append((f"Balance at a past moment, {label} (`?at=`, halfway through {Posting.objects.count():,} postings)",
                     f"p50 {times[100] * 1000:.1f} ms", "≤ 10 ms", f"p95 {times[190] * 1000:.1f} ms"))


def _grow_and_read_at(rows):
    from django.db import connection

    from credit.models import AccountKind, Posting
    from credit.services import Transfer, account_for, ledger_post_batch, wallet_topup

    wallets = []
    for i in range(100):
        org = bench_org(f"w{i}")
        wallet = account_for(organization=org, kind=AccountKind.WALLET, currency="CNY")
        if wallet.balance < Decimal("1000000.00"):
            wallet_topup(organization=org, amount=Decimal("1000000.00"), currency="CNY", reference=f"bench-{uuid.uuid4().hex}")
        wallets.append(wallet.pk)
    rng = random.Random(7)
    postings = Posting.objects.count()
    while postings < TARGET_POSTINGS:
        n = min(50_000, (TARGET_POSTINGS - postings + 1) // 2)
        ledger_post_batch(transfers=[Transfer(*rng.sample(wallets, 2), Decimal(rng.randint(1, 500)) / 100, "bench batch")
                                     for _ in range(n)])
        postings += 2 * n
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE credit_posting; ANALYZE credit_journalentry; ANALYZE credit_account")
    _balance_at(rows, wallets)
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    print(f"\nload average after the run: {load}\n")
    print("| Measure | Result | Goal | Notes |")
    print("| --- | --- | --- | --- |")
    for row in rows:
        print("| " + " | ".join(row) + " |")


if __name__ == "__main__":
    main()
