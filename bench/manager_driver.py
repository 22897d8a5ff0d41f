"""Time app starts through a ferrohub-manager, and the same containers started with
`docker run`, in one run: from the start request until the app answers (through the proxy
for the manager's, at the published port for docker's).

    python3 manager_driver.py PUBLIC USER TOKEN IMAGE MAPPING_IDS

PUBLIC is the hub's public URL; USER logs in there (the dummy authenticator) to get the
proxy session an app's private route asks for; TOKEN is USER's API token for the manager's
API; MAPPING_IDS (comma-separated) are USER's grants of IMAGE, one per concurrent start.
Prints one JSON object: seconds for one start and for all of N concurrent starts (the
slowest), by each way.
"""
import http.cookiejar
import json
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from concurrent.futures import ThreadPoolExecutor

public, user, token, image, mapping_ids = sys.argv[1:6]
mapping_ids = mapping_ids.split(",")
TIMEOUT = 120

jar = http.cookiejar.CookieJar()
browser = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))


def log_in():
    page = browser.open(f"{public}/hub/login").read().decode()
    xsrf = page.split('name="_xsrf" value="')[1].split('"')[0]
    form = urllib.parse.urlencode({"username": user, "password": "x", "_xsrf": xsrf}).encode()
    browser.open(f"{public}/hub/login", data=form).read()


def manager(method, path, body=None):
    req = urllib.request.Request(
        f"{public}/user/{user}/api/v1/{path}", method=method,
        data=json.dumps(body).encode() if body is not None else None,
        headers={"Authorization": f"token {token}", "Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=TIMEOUT) as resp:
            return resp.status, resp.headers.get("Location"), resp.read()
    except urllib.error.HTTPError as e:
        return e.code, None, e.read()


def answers(url, opener):
    try:
        with opener.open(url, timeout=5) as resp:
            return resp.status == 200
    except (urllib.error.URLError, OSError):
        return False


def until(url, opener, start):
    while time.time() - start < TIMEOUT:
        if answers(url, opener):
            return time.time() - start
        time.sleep(0.01)
    raise SystemExit(f"{url} did not answer within {TIMEOUT} s")


def start_through_manager(mapping_id):
    start = time.time()
    status, location, body = manager("POST", "containers/", {"mapping_id": mapping_id})
    if status != 201:
        raise SystemExit(f"start {mapping_id}: {status} {body[:300]!r}")
    url_id = location.rstrip("/").rsplit("/", 1)[1]
    took = until(f"{public}/user/{user}/containers/{url_id}/env", browser, start)
    return took, url_id


def start_with_docker(_):
    start = time.time()
    out = subprocess.run(["docker", "run", "-d", "--rm", "-p", "127.0.0.1::8888", image],
                         capture_output=True, text=True, check=True)
    cid = out.stdout.strip()
    port = subprocess.run(["docker", "port", cid, "8888"], capture_output=True, text=True,
                          check=True).stdout.split()[0].rsplit(":", 1)[1]
    took = until(f"http://127.0.0.1:{port}/env", urllib.request.build_opener(), start)
    return took, cid


def batch(fn, args):
    start = time.time()
    with ThreadPoolExecutor(len(args)) as pool:
        results = list(pool.map(fn, args))
    return time.time() - start, [r[1] for r in results]


log_in()
results = {}
for label, fn, args, stop in [
    ("manager", start_through_manager, mapping_ids,
     lambda ids: [manager("DELETE", f"containers/{i}/") for i in ids]),
    ("docker", start_with_docker, mapping_ids,
     lambda ids: subprocess.run(["docker", "rm", "-f", *ids], capture_output=True)),
]:
    one, ids = batch(fn, args[:1])
    stop(ids)
    many, ids = batch(fn, args)
    stop(ids)
    results[label] = {"one": round(one, 3), "many": round(many, 3), "n": len(args)}
print(json.dumps(results))
