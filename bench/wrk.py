"""Load from wrk (Debian's /usr/bin/wrk), shared by the benchmarks that
measure one gunicorn worker: a Python client process caps a bare view near
half of what wrk reaches on this machine, which would flatter every ratio."""

import json
import os
import re
import shutil
import subprocess
import tempfile

WRK = shutil.which("wrk") or "/usr/bin/wrk"

# wrk calls done() once at the end: the totals, as one line this module reads.
LUA = """
wrk.method = "{method}"
wrk.body = [==[{body}]==]
{headers}
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format("WRK-RESULT %d %d %d %d %d %d %d\\n",
    summary.requests, summary.duration, e.connect, e.read, e.write,
    e.status, e.timeout))
end
"""


def wrk_measure(
    url: str,
    headers: dict,
    body: str,
    seconds: float,
    connections: int,
    method: str = "POST",
) -> float:
    """Requests per second wrk gets from `url` in `seconds` (one thread,
    `connections` connections; wrk's --timeout bounds each request); fails
    on any socket error, timeout or answer outside 2xx."""
    lines = "\n".join(
        f"wrk.headers[{json.dumps(k)}] = {json.dumps(v)}" for k, v in headers.items()
    )
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
        script.write(LUA.format(method=method, body=body, headers=lines))
    try:
        out = subprocess.run(
            [
                WRK,
                "--threads",
                "1",
                "--connections",
                str(connections),
                "--duration",
                f"{seconds:g}s",
                "--timeout",
                "10s",
                "--script",
                script.name,
                url,
            ],
            check=True,
            capture_output=True,
            text=True,
            timeout=seconds + 60,
        ).stdout
    finally:
        os.unlink(script.name)
    match = re.search(r"WRK-RESULT (\d+) (\d+) (\d+) (\d+) (\d+) (\d+) (\d+)", out)
    if not match:
        raise SystemExit(f"wrk gave no result for {url}:\n{out}")
    requests, micros, *errors = (int(g) for g in match.groups())
    # wrk does not count a connection the server closes after its answer
    # (gunicorn's sync worker does, every time) as an error: only these are.
    if any(errors):
        raise SystemExit(
            f"{url}: errors (connect, read, write, status, timeout) {errors}"
        )
    return requests / (micros / 1e6)
