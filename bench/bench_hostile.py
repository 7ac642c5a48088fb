"""Issue 24's reproductions against a real server on the KCNA headlines: per input, the answer,
the time it took and the server's peak memory (VmHWM of the server process, a fresh server per
input so the peak is that input's), and /api/health's worst time while the heaviest allowed
request runs. Baseline in the same run: the server's peak after serving only /api/health.

Results go to docs/reliability.md, section "Hostile requests (issue 24)".

Usage: .venv/bin/python bench/bench_hostile.py [--no-write]
"""

from __future__ import annotations

import argparse
import base64
import gzip
import json
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from _report import ROOT, machine, write_section  # noqa: E402

from tests._servers import start_server, stop  # noqa: E402

HEADLINES = ROOT.parent / "shared" / "data" / "kcna_headlines_1997_2014.csv.gz"


def call(port: int, method: str, path: str, raw: bytes | None = None) -> tuple[int, str, float]:
    req = urllib.request.Request(f"http://127.0.0.1:{port}{path}", data=raw, method=method,
                                 headers={"Content-Type": "application/json"} if raw is not None else {})
    t0 = time.monotonic()
    try:
        with urllib.request.urlopen(req, timeout=300) as r:
            body = r.read()
            return r.status, body[:120].decode("utf-8", "replace"), time.monotonic() - t0
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()[:160].decode("utf-8", "replace"), time.monotonic() - t0


def peak_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def upload_body(deps: list[dict], raw: bytes, name: str) -> bytes:
    (dep,) = [d for d in deps if d["inputs"] == [{"id": "upload", "property": "contents"}]]
    outputs = [{"id": p.rsplit(".", 1)[0], "property": p.rsplit(".", 1)[1]} for p in dep["output"].strip(".").split("...")]
    state = [{**s, "value": name if s["id"] == "upload" else None} for s in dep["state"]]
    contents = "data:application/gzip;base64," + base64.b64encode(raw).decode()
    return json.dumps({"output": dep["output"], "outputs": outputs,
                       "inputs": [{"id": "upload", "property": "contents", "value": contents}],
                       "state": state, "changedPropIds": ["upload.contents"]}).encode()


CASES = [
    ("annotation ending 9999-12-31", "POST", "/api/annotations",
     json.dumps({"start": "1997-02-01", "end": "9999-12-31", "title": "x"}).encode()),
    ("index.csv 0001-01-01..9999-12-31", "GET", "/api/index.csv?from=0001-01-01&to=9999-12-31", None),
    ("index.json 0001-01-01..9999-12-31", "GET", "/api/index.json?from=0001-01-01&to=9999-12-31", None),
    ("index.json 1800-01-01..2100-12-31 (clamped)", "GET", "/api/index.json?from=1800-01-01&to=2100-12-31", None),
    ("page URL 0001-01-01..9999-12-31", "GET", "/?from=0001-01-01&to=9999-12-31", None),
    ("index.csv 1600-01-01..1997-03-01", "GET", "/api/index.csv?from=1600-01-01&to=1997-03-01", None),
    ("40,000 tags (389 KB)", "POST", "/api/annotations",
     json.dumps({"date": "2000-01-01", "title": "x", "tags": [f"tag{i}" for i in range(40_000)]}).encode()),
    ("note of 100,000 nested [", "POST", "/api/annotations",
     b'{"date": "2000-01-01", "title": "x", "note": ' + b"[" * 100_000 + b"]" * 100_000 + b"}"),
    ("title with a NUL", "POST", "/api/annotations", json.dumps({"date": "2000-01-01", "title": "a\u0000b"}).encode()),
    ("title with a lone surrogate", "POST", "/api/annotations", json.dumps({"date": "2000-01-01", "title": "a\ud800"}).encode()),
    ("GET /api/annotations/9223372036854775808", "GET", "/api/annotations/9223372036854775808", None),
    ("upload: 1 MB .csv.gz inflating to 1 GiB", "UPLOAD-CSV", "/_dash-update-component", None),
    ("upload: .json.gz array of 15.4 million objects", "UPLOAD-JSON", "/_dash-update-component", None),
]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--no-write", action="store_true")
    args = ap.parse_args()
    from tension.pipeline.ingest import ingest
    from tension.store.engine import Store

    bombs = {"UPLOAD-CSV": gzip.compress(b"date,title\n" + b"\n" * 2**30, compresslevel=9),
             "UPLOAD-JSON": gzip.compress(b"[" + b'{"a":1},' * 15_400_000 + b'{"a":1}]', compresslevel=9)}
    with tempfile.TemporaryDirectory(prefix="bench-hostile-") as tmp:
        db = f"sqlite:///{Path(tmp) / 'kcna.db'}"
        store = Store(db)
        ingest(store, [str(HEADLINES)], jobs=2)
        store.dispose()
        rows = []
        log = Path(tmp) / "server.log"
        proc, port = start_server(db, log)
        call(port, "GET", "/api/health")
        base = peak_mb(proc.pid)
        stop(proc)
        for name, method, path, raw in CASES:
            proc, port = start_server(db, log)
            if method.startswith("UPLOAD"):
                deps = json.loads(urllib.request.urlopen(f"http://127.0.0.1:{port}/_dash-dependencies").read())
                status, body, took = call(port, "POST", path, upload_body(deps, bombs[method], "bomb.json.gz"
                                                                         if method == "UPLOAD-JSON" else "bomb.csv.gz"))
                answer = "refused: " + ("inflates past" if "inflates past" in body else body[:60])
                time.sleep(1)
            else:
                status, body, took = call(port, method, path, raw)
                answer = f"{status}: {json.loads(body)['error'][:70] if body.startswith('{') else body[:40]}" \
                    if status >= 400 else f"{status}"
            rows.append((name, answer, took, peak_mb(proc.pid)))
            stop(proc)
            print(rows[-1], flush=True)
        # health while the heaviest allowed request runs
        proc, port = start_server(db, log)
        heavy = threading.Thread(target=call, args=(port, "GET", "/api/index.json?from=1800-01-01&to=2100-12-31&n_boot=2000"))
        t0 = time.monotonic()
        heavy.start()
        health = []
        while heavy.is_alive():
            health.append(call(port, "GET", "/api/health")[2])
        heavy_took = time.monotonic() - t0
        stop(proc)
        five_hundreds = log.read_text().count('" 500 ')
    table = "\n".join(f"| {n} | {a} | {t:.2f} s | {m:,.0f} MB |" for n, a, t, m in rows)
    body = f"""`bench/bench_hostile.py`, {machine()}: a real `python app.py` on 127.0.0.1 over the 99,841 KCNA
headlines, a fresh server per input, so the peak is that input's. Peak memory is the server
process's VmHWM (its baseline after only `/api/health`: {base:,.0f} MB). The upload bombs are built by the
script, not shipped.

| input | answer | time | server peak memory |
|---|---|---|---|
{table}

While the heaviest allowed request ran (`/api/index.json` over 1800-01-01..2100-12-31 clamped to the
data, 2,000 bootstrap resamples: {heavy_took:.1f} s), `/api/health` answered {len(health)} times, the slowest in
{max(health) if health else float('nan'):.3f} s. 500s in the server log over the whole run: {five_hundreds}.
"""
    print(body)
    if not args.no_write:
        write_section("Hostile requests (issue 24)", body, "docs/reliability.md")


if __name__ == "__main__":
    main()
