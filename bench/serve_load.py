#!/usr/bin/env python3
"""Load run of `gar serve` (a benchmark, not a test; issue 14). Starts the server (release
binary, tiny model, samples/clips as media root) on a free loopback port, opens ball.mp4, then
fires 32 concurrent `segment` requests and 8 concurrent `ask` requests at once. Every request
must be answered (200) or refused (429 with Retry-After) — none lost, no 5xx. Prints latency
percentiles per kind and the server's peak RSS (VmHWM). With --schemathesis it then fuzzes
/openapi.json with schemathesis (from PyPI) and fails on any 5xx.

    python3 bench/serve_load.py [--gar .build/release/gar] [--schemathesis PATH/TO/schemathesis]

Standard library only (the fuzz needs schemathesis installed)."""
import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request

TOKEN = "load-token"
BOX = [36, 136, 127, 227]   # the ball on frame 0 of ball.mp4


def call(base, method, path, body=None):
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(base + path, data=data, method=method,
                                 headers={"Authorization": "Bearer " + TOKEN, "Content-Type": "application/json"})
    t0 = time.perf_counter()
    try:
        with urllib.request.urlopen(req, timeout=600) as r:
            payload = r.read()
            return r.status, time.perf_counter() - t0, payload, dict(r.headers)
    except urllib.error.HTTPError as e:
        return e.code, time.perf_counter() - t0, e.read(), dict(e.headers)


def percentile(values, q):
    if not values:
        return float("nan")
    s = sorted(values)
    return s[min(len(s) - 1, int(round(q / 100 * (len(s) - 1))))]


def peak_rss_mb(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--gar", default=".build/release/gar")
    ap.add_argument("--segments", type=int, default=32)
    ap.add_argument("--asks", type=int, default=8)
    ap.add_argument("--max-new-tokens", type=int, default=32)
    ap.add_argument("--schemathesis", help="schemathesis executable: also fuzz /openapi.json")
    ap.add_argument("--fuzz-examples", type=int, default=30)
    args = ap.parse_args()
    os.chdir(os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

    server = subprocess.Popen([args.gar, "serve", "--model", "Tests/Fixtures/gar-tiny", "--media-root", "samples/clips",
                               "--port", "0", "--token", TOKEN], stderr=subprocess.PIPE, text=True)
    failed = False
    try:
        m, seen = None, []
        while m is None and len(seen) < 50:   # Hummingbird's own log lines come first
            line = server.stderr.readline()
            if not line:
                break
            seen.append(line)
            m = re.search(r"http://127\.0\.0\.1:(\d+)/", line)
        if not m:
            sys.exit("gar serve did not start: " + "".join(seen))
        threading.Thread(target=lambda: [None for _ in server.stderr], daemon=True).start()
        base = f"http://127.0.0.1:{m.group(1)}"
        status, _, payload, _ = call(base, "POST", "/v1/videos", {"path": "ball.mp4"})
        assert status == 201, payload
        vid = json.loads(payload)["id"]

        results = []
        lock = threading.Lock()
        start = threading.Barrier(args.segments + args.asks)

        def run(kind, path, body):
            start.wait()
            status, seconds, payload, headers = call(base, "POST", path, body)
            with lock:
                results.append((kind, status, seconds, headers.get("Retry-After")))

        threads = [threading.Thread(target=run, args=("segment", f"/v1/videos/{vid}/segment",
                                                      {"frame": i % 100, "prompt": {"box": BOX}})) for i in range(args.segments)]
        threads += [threading.Thread(target=run, args=("ask", f"/v1/videos/{vid}/ask",
                                                       {"regions": [{"frame": 0, "prompt": {"box": BOX}}],
                                                        "question": "What is <Prompt0> doing?", "max_new_tokens": args.max_new_tokens}))
                    for _ in range(args.asks)]
        t0 = time.perf_counter()
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        wall = time.perf_counter() - t0
        rss = peak_rss_mb(server.pid)

        print(f"machine: {os.cpu_count()} CPUs; {args.segments} segment + {args.asks} ask requests at once; wall {wall:.1f} s; "
              f"server peak RSS {rss:.0f} MB")
        for kind in ("segment", "ask"):
            rows = [r for r in results if r[0] == kind]
            ok = [r[2] for r in rows if r[1] == 200]
            busy = [r for r in rows if r[1] == 429]
            other = [r for r in rows if r[1] not in (200, 429)]
            print(f"{kind:8s} sent {len(rows):3d}: 200 {len(ok):3d}, 429 {len(busy):3d} (Retry-After {sorted(set(r[3] for r in busy))}), "
                  f"other {len(other)}; latency of 200s p50 {percentile(ok, 50):.2f} s, p90 {percentile(ok, 90):.2f} s, "
                  f"p99 {percentile(ok, 99):.2f} s")
            if other or len(rows) != (args.segments if kind == "segment" else args.asks) or any(r[3] is None for r in busy):
                failed = True
                print(f"  FAIL: lost or unexpected answers: {other}")
        h = call(base, "GET", "/healthz")
        print(f"healthz after the run: {h[0]} {h[2].decode()}")

        if args.schemathesis:
            t1 = time.perf_counter()
            r = subprocess.run([args.schemathesis, "run", f"{base}/openapi.json", "--checks", "not_a_server_error",
                                "--header", f"Authorization: Bearer {TOKEN}", "--max-examples", str(args.fuzz_examples)],
                               capture_output=True, text=True, cwd=tempfile.gettempdir())   # its cache folder not in the repo
            tail = "\n".join((r.stdout + r.stderr).strip().splitlines()[-12:])
            print(f"schemathesis (not_a_server_error, {args.fuzz_examples} examples per operation): exit {r.returncode} "
                  f"in {time.perf_counter() - t1:.0f} s\n{tail}")
            failed = failed or r.returncode != 0
        print(f"server peak RSS at the end: {peak_rss_mb(server.pid):.0f} MB")
    finally:
        server.terminate()
        server.wait(timeout=30)
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
