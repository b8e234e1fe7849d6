"""/search under concurrent clients, served by gunicorn, beside a bare Flask "hello" (a baseline).

Used by ``scripts/bench_search.py`` on the library it built: gunicorn (2 sync workers) serves
``web:create_app()`` on a free local port; 20 client threads each send requests for the bench
queries, one connection per request; then the same gunicorn, same workers and clients, serves a
bare Flask app answering "hello". Both figures come from one run on one machine, so their ratio
holds on a loaded machine.
"""

from __future__ import annotations

import http.client
import os
import socket
import statistics
import subprocess
import sys
import threading
import time
import urllib.parse
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
HELLO = "from flask import Flask\napp = Flask('hello')\napp.add_url_rule('/', 'hello', lambda: 'hello')\n"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _get(port: int, path: str) -> tuple[int, float]:
    started = time.perf_counter()
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    try:
        conn.request("GET", path)
        response = conn.getresponse()
        response.read()
        return response.status, (time.perf_counter() - started) * 1000
    finally:
        conn.close()


def _serve(app: str, env: dict[str, str], workdir: Path, port: int) -> subprocess.Popen[bytes]:
    gunicorn = Path(sys.executable).with_name("gunicorn")
    return subprocess.Popen(
        [str(gunicorn), "-w", "2", "-b", f"127.0.0.1:{port}", "--timeout", "120", app],
        cwd=workdir,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def _ready(port: int, path: str, wait: float = 300.0) -> None:
    deadline = time.monotonic() + wait
    while time.monotonic() < deadline:
        try:
            # Both workers must have opened the index: ask a few times.
            if all(_get(port, path)[0] == 200 for _ in range(4)):
                return
        except OSError:
            pass
        time.sleep(0.5)
    raise SystemExit(f"the server on port {port} did not answer {path}")


def _load(port: int, paths: list[str], clients: int, each: int) -> dict[str, Any]:
    times: list[float] = []
    errors: list[int] = []
    lock = threading.Lock()

    def client(n: int) -> None:
        for i in range(each):
            status, ms = _get(port, paths[(n * each + i) % len(paths)])
            with lock:
                times.append(ms)
                if status != 200:
                    errors.append(status)

    started = time.perf_counter()
    threads = [threading.Thread(target=client, args=(n,)) for n in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - started
    ordered = sorted(times)
    return {
        "requests": len(times),
        "per_s": round(len(times) / elapsed, 1),
        "p50": round(statistics.median(ordered), 1),
        "p95": round(ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))], 1),
        "max": round(ordered[-1], 1),
        "errors": len(errors),
    }


def run(data_dir: Path, queries: list[str], clients: int = 20, each: int = 20) -> dict[str, Any]:
    """Time /search under ``clients`` concurrent clients, then a bare hello; return both."""
    out: dict[str, Any] = {"clients": clients, "workers": 2}
    env = {**os.environ, "KB_DATA_DIR": str(data_dir), "PYTHONPATH": str(ROOT)}
    env.pop("KB_DATABASE_URL", None)
    port = _free_port()
    # The citation warm-up renders every reference at start (minutes at 100,000, in each
    # worker): measured apart, not while /search is timed. The index is warmed by _ready.
    server = _serve('web:create_app({"KB_WARM_CITATIONS": False})', env, ROOT, port)
    try:
        paths = ["/search?" + urllib.parse.urlencode({"q": q}) for q in queries]
        _ready(port, paths[0])
        out["search"] = _load(port, paths, clients, each)
    finally:
        server.terminate()
        server.wait()
    hello_dir = data_dir / "hello-app"
    hello_dir.mkdir(exist_ok=True)
    (hello_dir / "hello.py").write_text(HELLO, encoding="utf-8")
    port = _free_port()
    server = _serve("hello:app", {**env, "PYTHONPATH": str(hello_dir)}, hello_dir, port)
    try:
        _ready(port, "/")
        out["hello"] = _load(port, ["/"], clients, each)
    finally:
        server.terminate()
        server.wait()
    out["load_average"] = os.getloadavg()
    return out
