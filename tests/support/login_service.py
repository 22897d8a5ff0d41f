"""A login service speaking ferrohub's `rest` authenticator protocol, for tests: POST JSON
{"username", "password"}; 200 with {"name", "admin"?, "groups"?} for a right password, 401 for
a wrong one. It listens on 127.0.0.1 (a free port, printed as "listening on PORT").

Usage: python login_service.py USERS_JSON HUB_TOKEN MAINTENANCE_FILE

USERS_JSON maps user names to {"password": ..., "answer": <the 200 body>}; an "answer" that
is a string is sent as is (for malformed answers). A request without
"Authorization: Bearer HUB_TOKEN" gets 500. While MAINTENANCE_FILE exists, every login gets
503.
"""

import json
import os
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

USERS = json.loads(sys.argv[1])
HUB_TOKEN = sys.argv[2]
MAINTENANCE = sys.argv[3]


class Handler(BaseHTTPRequestHandler):
    def answer(self, status, body):
        data = body.encode() if isinstance(body, str) else json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_POST(self):
        length = int(self.headers.get("Content-Length", 0))
        try:
            creds = json.loads(self.rfile.read(length))
        except ValueError:
            return self.answer(400, {"error": "not JSON"})
        if self.headers.get("Authorization") != f"Bearer {HUB_TOKEN}":
            return self.answer(500, {"error": "the hub did not send its token"})
        if os.path.exists(MAINTENANCE):
            return self.answer(503, {"error": "down for maintenance"})
        user = USERS.get(creds.get("username"))
        if user is None or creds.get("password") != user["password"]:
            return self.answer(401, {"error": "wrong username or password"})
        return self.answer(200, user["answer"])


server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
print("listening on", server.server_address[1], flush=True)
server.serve_forever()
