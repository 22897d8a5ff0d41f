"""Call ferrohub's REST API and check every response against JupyterHub's OpenAPI document.

Usage: validate.py SPEC.yml API_URL ADMIN_TOKEN

JupyterHub itself answers `null` for optional fields that have no value (`server`,
`pending`, `last_activity`, `expires_at`, ...) although the document types them as plain
strings; so, as for JupyterHub, `null` is accepted for any property a schema does not list
as required. Everything else is checked strictly by jsonschema.
Prints one line per check and exits non-zero if any response does not match.
"""

import copy
import json
import sys
import urllib.error
import urllib.request

import jsonschema
import yaml

spec_path, api, admin = sys.argv[1:4]
spec = yaml.safe_load(open(spec_path))


def resolve(node):
    """Inline every local `$ref`, and let optional properties be null."""
    if isinstance(node, dict):
        if "$ref" in node:
            target = spec
            for part in node["$ref"].lstrip("#/").split("/"):
                target = target[part]
            return resolve(copy.deepcopy(target))
        node = {k: resolve(v) for k, v in node.items()}
        if node.get("type") == "object" and "properties" in node:
            required = set(node.get("required", []))
            for name, prop in node["properties"].items():
                if name not in required and isinstance(prop, dict):
                    node["properties"][name] = {"anyOf": [prop, {"type": "null"}]}
        return node
    if isinstance(node, list):
        return [resolve(v) for v in node]
    return node


def schema_for(path, method, status):
    """The response schema, or None for an operation JupyterHub serves but does not
    document (e.g. `POST /groups`); only the status is checked then."""
    op = spec["paths"][path].get(method)
    if op is None:
        return None
    responses = op["responses"]
    response = responses.get(status) or responses.get(str(status))
    if response is None:
        raise AssertionError(f"{method.upper()} {path}: the document has no {status} response")
    response = resolve(response)
    content = response.get("content", {})
    media = content.get("application/json") or next(iter(content.values()), None)
    return None if media is None else media.get("schema")


def call(method, url_path, token=admin, body=None, accept=None):
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(api + url_path, data=data, method=method.upper())
    req.add_header("Authorization", f"token {token}")
    if accept:
        req.add_header("Accept", accept)
    try:
        with urllib.request.urlopen(req) as resp:
            status, raw = resp.status, resp.read()
    except urllib.error.HTTPError as e:
        status, raw = e.code, e.read()
    return status, (json.loads(raw) if raw else None)


failures = 0


def check(method, spec_path, url_path, expect, body=None, accept=None, schema_override=None):
    global failures
    status, payload = call(method, url_path, body=body, accept=accept)
    label = f"{method.upper()} {url_path} -> {status}"
    try:
        if status != expect:
            raise AssertionError(f"expected {expect}, body {payload}")
        schema = schema_override or schema_for(spec_path, method, status)
        if schema is not None:
            jsonschema.validate(payload, schema)
        print(f"ok   {label}")
    except (AssertionError, jsonschema.ValidationError) as e:
        failures += 1
        message = e.message if isinstance(e, jsonschema.ValidationError) else str(e)
        print(f"FAIL {label}: {message}")
    return payload


paged = "application/jupyterhub-pagination+json"
check("get", "/", "/", 200)
check("get", "/info", "/info", 200)
check("get", "/user", "/user", 200)
check("post", "/users/{name}", "/users/oa-alice", 201, body={"admin": False})
check("post", "/users", "/users", 201, body={"usernames": ["oa-bob", "oa-carol"]})
check("get", "/users", "/users", 200)
check("get", "/users", "/users?limit=1", 200, accept=paged,
      schema_override=resolve({"$ref": "#/components/schemas/PaginatedList"}))
check("get", "/users/{name}", "/users/oa-alice", 200)
check("patch", "/users/{name}", "/users/oa-carol", 200, body={"admin": True})
check("post", "/users/{name}/activity", "/users/oa-alice/activity", 200,
      body={"last_activity": "2026-01-01T00:00:00.000000Z"})
tok = check("post", "/users/{name}/tokens", "/users/oa-alice/tokens", 201, body={"note": "openapi"})
check("get", "/users/{name}/tokens", "/users/oa-alice/tokens", 200)
if tok and "id" in tok:
    check("get", "/users/{name}/tokens/{token_id}", f"/users/oa-alice/tokens/{tok['id']}", 200)
    check("get", "/authorizations/token/{token}", f"/authorizations/token/{tok['token']}", 200,
          schema_override=resolve({"$ref": "#/components/schemas/User"}))
    check("delete", "/users/{name}/tokens/{token_id}", f"/users/oa-alice/tokens/{tok['id']}", 204)
check("post", "/groups/{name}", "/groups/oa-staff", 201, body={"users": ["oa-alice"]})
check("post", "/groups", "/groups", 201, body={"groups": ["oa-a", "oa-b"]})
check("get", "/groups", "/groups", 200)
check("get", "/groups/{name}", "/groups/oa-staff", 200)
check("post", "/groups/{name}/users", "/groups/oa-staff/users", 200, body={"users": ["oa-bob"]})
check("delete", "/groups/{name}/users", "/groups/oa-staff/users", 200, body={"users": ["oa-bob"]})
check("put", "/groups/{name}/properties", "/groups/oa-staff/properties", 200, body={"k": "v"})
check("delete", "/groups/{name}", "/groups/oa-a", 204)
# JupyterHub answers an object keyed by service name, although its document says a list.
check("get", "/services", "/services", 200, schema_override={
    "type": "object",
    "additionalProperties": resolve({"$ref": "#/components/schemas/Service"}),
})
# Servers (the hub spawns a tiny real server for these).
check("put", "/users/{name}/servers/{server_name}", "/users/oa-alice/servers/lab", 201,
      body={"user_options": {"size": "s"}})
check("get", "/users/{name}/servers/{server_name}", "/users/oa-alice/servers/lab", 200)
check("patch", "/users/{name}/servers/{server_name}", "/users/oa-alice/servers/lab", 200,
      body={"display_name": "The lab"})
check("post", "/users/{name}/server", "/users/oa-alice/server", 201)
check("get", "/users/{name}", "/users/oa-alice", 200)
check("get", "/users", "/users?state=ready", 200)
check("post", "/users/{name}/servers/{server_name}", "/users/oa-alice/servers/lab", 201)
check("delete", "/users/{name}/servers/{server_name}", "/users/oa-alice/servers/lab", 204,
      body={"remove": True})
check("delete", "/users/{name}/server", "/users/oa-alice/server", 204)
# Shares of oa-alice's default server (its path ends with a slash).
check("post", "/shares/{owner}/{server_name}", "/shares/oa-alice/", 200, body={"user": "oa-carol"})
check("post", "/shares/{owner}/{server_name}", "/shares/oa-alice/", 200, body={"group": "oa-staff"})
check("get", "/shares/{owner}", "/shares/oa-alice", 200, accept=paged)
check("get", "/shares/{owner}/{server_name}", "/shares/oa-alice/", 200, accept=paged)
check("get", "/users/{name}/shared", "/users/oa-carol/shared", 200, accept=paged)
check("get", "/users/{name}/shared/{owner}/{server_name}", "/users/oa-carol/shared/oa-alice/", 200)
check("get", "/groups/{name}/shared", "/groups/oa-staff/shared", 200, accept=paged)
check("patch", "/shares/{owner}/{server_name}", "/shares/oa-alice/", 200, body={"group": "oa-staff"})
check("delete", "/users/{name}/shared/{owner}/{server_name}", "/users/oa-carol/shared/oa-alice/", 204)
check("delete", "/shares/{owner}/{server_name}", "/shares/oa-alice/", 204)
code = check("post", "/share-codes/{owner}/{server_name}", "/share-codes/oa-alice/", 200,
             body={"expires_in": 3600})
check("get", "/share-codes/{owner}", "/share-codes/oa-alice", 200, accept=paged)
check("get", "/share-codes/{owner}/{server_name}", "/share-codes/oa-alice/", 200, accept=paged)
if code and "id" in code:
    check("delete", "/share-codes/{owner}/{server_name}", f"/share-codes/oa-alice/?id={code['id']}", 204)
check("delete", "/users/{name}", "/users/oa-bob", 204)

print(f"{failures} failed")
sys.exit(1 if failures else 0)
