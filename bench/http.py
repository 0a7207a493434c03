"""HTTP throughput under `make serve` (gunicorn + PostgreSQL + Redis). Prints a table for
docs/benchmarks.md: requests/s, p50 and p99 latency per endpoint, and each endpoint's ratio to a
trivial DRF view with the same token authentication.

    # a served app with the demo data and the baseline views mounted:
    KITSTREET_BENCH_VIEWS=1 DATABASE_URL=postgres://... CELERY_BROKER_URL=redis://... REDIS_URL=redis://... \\
      SECRET_KEY=... ALLOWED_HOSTS=127.0.0.1 SECURE_SSL_REDIRECT=false make serve
    .venv/bin/python bench/http.py http://127.0.0.1:8000

Uses wrk (`apt-get install -y wrk`): BENCH_CONNECTIONS (16) connections on BENCH_THREADS (2)
threads for BENCH_SECONDS (10) per endpoint, after a 2 s warm-up. Endpoints:
- trivial JSON: a plain Django view (no auth, no database) — the server's ceiling;
- trivial DRF: an APIView with token auth and IsAuthenticated — the API's ceiling;
- accounts list: `GET /api/v1/accounts/` as the demo buyer;
- MPN search at qty: `GET /api/v1/listings/?mpn=<a demo MPN>&qty=1000`;
- kit quote: `POST /api/v1/kits/{id}/quote/` for the demo kit with the most BOM lines, 100 units
  (each call saves a quote: a write).
Goals (issue 12): accounts list and MPN search >= 50 % of trivial DRF, the quote >= 20 %.
"""

import sys

# This file is named after what it measures, which shadows the standard library's `http` package
# for `urllib.request` when run as a script: drop the script's own folder from the import path.
sys.path = [p for p in sys.path if p not in ("", __import__("os").path.dirname(__file__) or ".")]

import json  # noqa: E402
import os  # noqa: E402
import re  # noqa: E402
import shutil  # noqa: E402
import subprocess  # noqa: E402
import tempfile  # noqa: E402
import urllib.request  # noqa: E402

CONNECTIONS = int(os.environ.get("BENCH_CONNECTIONS", "16"))
THREADS = int(os.environ.get("BENCH_THREADS", "2"))
SECONDS = int(os.environ.get("BENCH_SECONDS", "10"))
GOALS = {"accounts list": 0.5, "MPN search at qty": 0.5, "kit quote (100 units)": 0.2}


def call(base, path, token=None, body=None, method=None):
    request = urllib.request.Request(base + path, method=method or ("POST" if body is not None else "GET"),
                                     data=json.dumps(body).encode() if body is not None else None,
                                     headers={"Content-Type": "application/json",
                                              **({"Authorization": f"Token {token}"} if token else {})})
    with urllib.request.urlopen(request, timeout=60) as response:
        return json.loads(response.read() or b"null")


def load_average() -> str:
    return " ".join(open("/proc/loadavg").read().split()[:3])


def wrk(url, headers, body=None, seconds=SECONDS) -> dict:
    script = None
    if body is not None:
        script = tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False)
        script.write(f'wrk.method = "POST"\nwrk.body = {json.dumps(json.dumps(body))}\n')
        script.close()
    command = ["wrk", "--latency", "-t", str(THREADS), "-c", str(CONNECTIONS), "-d", f"{seconds}s"]
    for name, value in headers.items():
        command += ["-H", f"{name}: {value}"]
    if script:
        command += ["-s", script.name]
    out = subprocess.run([*command, url], capture_output=True, text=True, check=True).stdout
    if script:
        os.unlink(script.name)

    def ms(label):
        match = re.search(rf"^\s+{label}%\s+([\d.]+)(us|ms|s)\s*$", out, re.M)
        value, unit = float(match.group(1)), match.group(2)
        return value / 1000 if unit == "us" else value * 1000 if unit == "s" else value

    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    return {"rps": float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)), "p50": ms("50"), "p99": ms("99"),
            "errors": int(non2xx.group(1)) if non2xx else 0}


def main():
    if not shutil.which("wrk"):
        sys.exit("bench/http.py needs wrk: apt-get install -y wrk")
    base = (sys.argv[1] if len(sys.argv) > 1 else "http://127.0.0.1:8000").rstrip("/")
    token = call(base, "/api/v1/auth/token/", body={"username": "buyer", "password": "kitstreet"})["token"]
    auth = {"Authorization": f"Token {token}", "Content-Type": "application/json"}
    kits = call(base, "/api/v1/kits/?page_size=200", token)["results"]
    kit = max(kits, key=lambda k: len(k["bom"]))
    mpn = kit["bom"][0]["mpn"]
    cases = [
        ("trivial JSON", "/bench/trivial-json/", {}, None),
        ("trivial DRF (token auth)", "/bench/trivial-drf/", auth, None),
        ("accounts list", "/api/v1/accounts/", auth, None),
        ("MPN search at qty", f"/api/v1/listings/?mpn={mpn}&qty=1000", auth, None),
        ("kit quote (100 units)", f"/api/v1/kits/{kit['id']}/quote/", auth, {"quantity": 100}),
    ]
    print(f"# bench/http.py against {base}: wrk -t{THREADS} -c{CONNECTIONS} -d{SECONDS}s per row; "
          f"kit {kit['id']} ({len(kit['bom'])} BOM lines), MPN {mpn}")
    print(f"# load average before: {load_average()} (2 CPUs shared with other engineers' work)")
    results = {}
    for name, path, headers, body in cases:
        wrk(base + path, headers, body, seconds=2)  # warm up: connections, caches, plans
        results[name] = wrk(base + path, headers, body)
    baseline = results["trivial DRF (token auth)"]["rps"]
    print("\n| endpoint | requests/s | p50 ms | p99 ms | non-2xx | vs trivial DRF | goal |")
    print("| --- | ---: | ---: | ---: | ---: | ---: | --- |")
    for name, r in results.items():
        ratio = r["rps"] / baseline
        goal = GOALS.get(name)
        verdict = "" if goal is None else f"≥ {goal:.0%}: {'met' if ratio >= goal else 'NOT met'}"
        print(f"| {name} | {r['rps']:.0f} | {r['p50']:.1f} | {r['p99']:.1f} | {r['errors']} | {ratio:.0%} | {verdict} |")
    print(f"\n# load average after: {load_average()}")


if __name__ == "__main__":
    main()
