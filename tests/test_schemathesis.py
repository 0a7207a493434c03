"""schemathesis over the whole schema, as a buyer, a supplier and an operator, against `make serve`:
no server errors, and every response matches the schema (status code, content type, headers, body).

Bounded (`-n` examples per operation) to keep CI short. Marked `serve`: PostgreSQL and redis-server
only; skipped on SQLite runs.
"""

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import requests

from tests.serving import served  # noqa: F401  (the module-scoped fixture)

pytestmark = [pytest.mark.serve, pytest.mark.xdist_group("serve")]  # one `make serve` at a time under xdist

CHECKS = ",".join([
    "not_a_server_error", "status_code_conformance", "content_type_conformance",
    "response_headers_conformance", "response_schema_conformance",
])
MAX_EXAMPLES = os.environ.get("KITSTREET_SCHEMATHESIS_EXAMPLES", "8")


@pytest.mark.parametrize("username", ["buyer", "supplier", "operator"])
def test_schemathesis_finds_no_server_error_and_no_response_mismatch(served, username, tmp_path):
    headers = served.token(username)
    report = tmp_path / "report.txt"
    result = subprocess.run(
        [str(Path(sys.executable).parent / "schemathesis"), "run", f"{served.base}/api/schema/",
         "-H", f"Authorization: {headers['Authorization']}", "--checks", CHECKS, "-n", MAX_EXAMPLES,
         "--seed", "1", "--workers", "2", "--no-color", "--generation-allow-x00", "false",
         "--phases", "examples,coverage,fuzzing", "--request-timeout", "60"],
        capture_output=True, text=True, timeout=1200,
    )
    report.write_text(result.stdout + result.stderr)
    summary = result.stdout[result.stdout.rfind("SUMMARY"):]
    print(f"schemathesis as {username}:\n{summary}")
    assert result.returncode == 0, result.stdout[-12000:]
    assert re.search(r"\d+ generated, \d+ passed", summary) and "failure" not in summary, summary
    # The app stayed healthy throughout.
    assert requests.get(f"{served.base}/login/", timeout=30).status_code == 200
