#!/usr/bin/env python3
"""What concurrent scenario uploads cost a server: peak memory, and how `GET /twin/state` answers
meanwhile. Starts `takt serve` (the bottling line, no auth, a fresh data folder), sends N
concurrent `POST /scenarios/validate` of a two-station scenario with ORDERS orders, polls
`GET /twin/state` while they run, and prints the server's peak RSS (VmHWM).

    python3 benches/scenario_uploads.py target/release/takt [N=8] [ORDERS=80000]

Taking two builds in turn compares them (`takt serve --scenario-loads` bounds the parses at once).
"""
import json, os, subprocess, sys, tempfile, threading, time, urllib.error, urllib.request

binary = sys.argv[1]
n = int(sys.argv[2]) if len(sys.argv) > 2 else 8
orders = int(sys.argv[3]) if len(sys.argv) > 3 else 80_000
here = os.path.dirname(os.path.abspath(__file__))
scenario = """schema_version = 1
name = "uploads"
[run]
horizon = "8h"
seed = 1

[[products]]
name = "A"
routing = [{ station = "S1", process_time = "60s" }, { station = "S2", process_time = "50s" }]

[[products]]
name = "B"
routing = [{ station = "S1", process_time = "40s" }, { station = "S2", process_time = "70s" }]

[[stations]]
name = "S1"

[[stations]]
name = "S2"

""" + "".join(
    f'[[demand.orders]]\nid = "O{i}"\nproduct = "{"AB"[i % 2]}"\nquantity = 3\nrelease = "0h"\ndue = "{i % 1000}h"\n\n'
    for i in range(orders)
)
body = json.dumps({"toml": scenario}).encode()
data = tempfile.mkdtemp()
port = 18000 + os.getpid() % 1000
server = subprocess.Popen(
    [binary, "serve", "--scenario", os.path.join(here, "..", "scenarios", "bottling-line.toml"),
     "--data", data, "--listen", f"127.0.0.1:{port}", "--insecure-no-auth"],
    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
base = f"http://127.0.0.1:{port}"
for _ in range(150):
    try:
        urllib.request.urlopen(f"{base}/health", timeout=1)
        break
    except Exception:
        time.sleep(0.2)
statuses, state_s = [], []


def upload():
    request = urllib.request.Request(f"{base}/scenarios/validate", data=body,
                                     headers={"content-type": "application/json"})
    try:
        statuses.append(urllib.request.urlopen(request, timeout=120).status)
    except urllib.error.HTTPError as e:
        statuses.append(e.code)


def poll():
    end = time.time() + 3
    while time.time() < end:
        t = time.time()
        urllib.request.urlopen(f"{base}/twin/state", timeout=30).read()
        state_s.append(time.time() - t)
        time.sleep(0.05)


threads = [threading.Thread(target=upload) for _ in range(n)] + [threading.Thread(target=poll)]
started = time.time()
for t in threads:
    t.start()
for t in threads:
    t.join()
done_s = time.time() - started
with open(f"/proc/{server.pid}/status") as f:
    peak_kib = int(next(l for l in f if l.startswith("VmHWM")).split()[1])
server.terminate()
server.wait()
state_s.sort()
print(f"{binary}: {n} validations of {len(body) / 1e6:.1f} MB at once: statuses {sorted(set(statuses))}, "
      f"all done in {done_s:.1f} s, peak RSS {peak_kib / 1024:.0f} MiB; GET /twin/state "
      f"median {state_s[len(state_s) // 2] * 1000:.1f} ms, max {state_s[-1] * 1000:.1f} ms")
