"""Start servers through a hub's REST API and time each one until it is ready.

    python3 spawn_driver.py API TOKEN USERS [--public URL]

Starts the default server of every user in USERS (comma-separated) at once, then waits for
each: until the hub's model says `ready` (and, with --public, until GET PUBLIC/user/NAME/
answers through the proxy). Prints one JSON line: how many succeeded, latency percentiles
from the start request to ready, and the wall time of the whole batch.
"""
import json
import sys
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor

api, token, users = sys.argv[1], sys.argv[2], sys.argv[3].split(",")
public = sys.argv[5] if len(sys.argv) > 5 and sys.argv[4] == "--public" else None
TIMEOUT = 300


def call(method, path):
    req = urllib.request.Request(api + path, method=method, data=b"" if method == "POST" else None,
                                 headers={"Authorization": f"token {token}"})
    try:
        with urllib.request.urlopen(req, timeout=60) as resp:
            return resp.status, resp.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()


def spawn(name):
    start = time.time()
    status, body = call("POST", f"/users/{name}/server")
    if status not in (201, 202):
        return None, f"{name}: {status} {body[:200]!r}"
    while status != 201:
        status, body = call("GET", f"/users/{name}")
        model = json.loads(body)
        server = model.get("servers", {}).get("")
        if server and server.get("ready"):
            break
        if not server or (server.get("pending") is None and not server.get("ready")):
            return None, f"{name}: the spawn failed: {model}"
        if time.time() - start > TIMEOUT:
            return None, f"{name}: not ready after {TIMEOUT}s"
        time.sleep(0.05)
    if public:
        while True:
            try:
                with urllib.request.urlopen(f"{public}/user/{name}/", timeout=10) as resp:
                    if resp.status == 200:
                        break
            except Exception:
                pass
            if time.time() - start > TIMEOUT:
                return None, f"{name}: not answering through the proxy after {TIMEOUT}s"
            time.sleep(0.02)
    return time.time() - start, None


began = time.time()
with ThreadPoolExecutor(max_workers=len(users)) as pool:
    results = list(pool.map(spawn, users))
wall = time.time() - began
times = sorted(t for t, _ in results if t is not None)
errors = [e for _, e in results if e]


def pct(p):
    return times[min(len(times) - 1, int(p / 100 * len(times)))] if times else None


print(json.dumps({"ok": len(times), "failed": len(errors), "p50": pct(50), "p99": pct(99),
                  "max": times[-1] if times else None, "wall": wall, "errors": errors[:5]}))
