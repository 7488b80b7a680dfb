"""A stand-in for netfault's control API, for the client's own unit tests only: a stdlib HTTP
server on a Unix socket (or loopback TCP) that records every request and answers from a small
model of the API (rules by name, marks, a canned report). It checks the client, not netfault.
"""

from __future__ import annotations

import json
import re
import socketserver
import threading
import urllib.parse
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Callable, Dict, List, Optional, Tuple

Answer = Tuple[int, Any, str]  # status, body (str, or JSON-able), content type


@dataclass
class Recorded:
    method: str
    path: str  # without the query
    query: Dict[str, List[str]]
    target: str  # the request target as sent
    headers: Dict[str, str]  # lower-cased names
    body: bytes

    @property
    def text(self) -> str:
        return self.body.decode("utf-8")

    def json(self) -> Any:
        return json.loads(self.body)


class FakeNetfault:
    def __init__(self) -> None:
        self.requests: List[Recorded] = []
        self.rules: List[Dict[str, Any]] = []
        self.marks: List[str] = []
        self.report_document: Dict[str, Any] = {"version": 2, "since": None, "stop_reason": "running",
                                                "rules": [], "connections": [], "unlisted_connections": {}}
        self.metrics_text = "# TYPE netfault_injected_total counter\nnetfault_injected_total 0\n"
        #: (method, path) -> an answer, or a function of the request returning one; consulted first.
        self.overrides: Dict[Tuple[str, str], Any] = {}
        self.lock = threading.Lock()
        self.server: Optional[socketserver.BaseServer] = None
        self.thread: Optional[threading.Thread] = None

    # MARK: Serving

    def serve_unix(self, path: str) -> "FakeNetfault":
        fake = self

        class Server(socketserver.ThreadingMixIn, socketserver.UnixStreamServer):
            daemon_threads = True

        self._start(Server(path, self._handler()))
        return self

    def serve_tcp(self, token: Optional[str] = None) -> str:
        handler = self._handler(token=token)
        server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        server.daemon_threads = True
        self._start(server)
        return f"http://127.0.0.1:{server.server_address[1]}"

    def _start(self, server: socketserver.BaseServer) -> None:
        self.server = server
        self.thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self.thread.start()

    def stop(self) -> None:
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()

    def _handler(self, token: Optional[str] = None):
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:  # quiet; a Unix peer has no address anyway
                pass

            def _serve(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                parts = urllib.parse.urlsplit(self.path)
                recorded = Recorded(self.command, parts.path, urllib.parse.parse_qs(parts.query), self.path,
                                    {k.lower(): v for k, v in self.headers.items()}, body)
                with fake.lock:
                    fake.requests.append(recorded)
                    if token is not None and self.headers.get("Authorization") != f"Bearer {token}":
                        answer: Answer = (401, {"error": "missing or wrong token", "details": []}, "application/json")
                    else:
                        answer = fake.answer(recorded)
                status, payload, content_type = answer
                data = payload.encode() if isinstance(payload, str) else (json.dumps(payload) + "\n").encode()
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _serve

        return Handler

    # MARK: The model

    def paths(self) -> List[Tuple[str, str]]:
        """(method, target) of every request so far."""
        return [(request.method, request.target) for request in self.requests]

    def rule_list(self) -> Dict[str, Any]:
        return {"rules": [dict(rule) for rule in self.rules]}

    def answer(self, request: Recorded) -> Answer:
        override = self.overrides.get((request.method, request.path))
        if override is not None:
            return override(request) if callable(override) else override
        route = (request.method, request.path)
        if route == ("GET", "/v1/status"):
            return 200, {"api_version": 1, "pid": 4242, "control": "/fake.sock", "uptime_seconds": 1.5,
                         "queues": [0], "hooks": ["output", "input"], "namespace": None,
                         "rules": self.rule_list()["rules"], "packets": 10, "verdicts": 10, "held": 0,
                         "escaped": 0, "connections_tracked": 1, "rule_changes": 0, "marks": list(self.marks),
                         "a_key_from_the_future": True}, "application/json"
        if route == ("GET", "/v1/rules"):
            if "application/json" in request.headers.get("accept", ""):
                return 200, {"rules": [{"name": r["name"]} for r in self.rules]}, "application/json"
            text = "rules:\n" + "".join(f"  - name: {r['name']}\n" for r in self.rules)
            return 200, text, "application/yaml"
        if route in (("PUT", "/v1/rules"), ("POST", "/v1/rules")):
            names, error = self._names(request.text)
            if error:
                return error
            if request.method == "PUT":
                self.rules = []
            clashes = [name for name in names if any(rule["name"] == name for rule in self.rules)]
            if clashes:
                return 409, {"error": f"'{clashes[0]}' is already in force", "details": []}, "application/json"
            self.rules += [{"name": name, "action": "drop", "enabled": True, "fired": 0, "connections": 0}
                           for name in names]
            return 200, self.rule_list(), "application/json"
        if request.path.startswith("/v1/rules/") and request.method in ("DELETE", "PATCH"):
            name = urllib.parse.unquote(request.path[len("/v1/rules/"):])
            found = [rule for rule in self.rules if rule["name"] == name]
            if not found:
                return 404, {"error": f"no rule is named '{name}'", "details": []}, "application/json"
            if request.method == "DELETE":
                self.rules.remove(found[0])
            else:
                found[0]["enabled"] = request.json()["enabled"]
            return 200, self.rule_list(), "application/json"
        if route == ("POST", "/v1/reset"):
            self.rules = []
            return 200, self.rule_list(), "application/json"
        if route == ("POST", "/v1/marks"):
            name = request.json()["name"]
            if name in self.marks:
                return 409, {"error": f"the mark '{name}' exists already", "details": []}, "application/json"
            self.marks.append(name)
            return 201, {"name": name, "at_ms": 12.5}, "application/json"
        if route == ("GET", "/v1/report"):
            since = request.query.get("since", [None])[0]
            if since is not None and since not in self.marks:
                return 404, {"error": f"no mark is named '{since}'", "details": []}, "application/json"
            fmt = request.query.get("format", ["json"])[0]
            if fmt == "text":
                return 200, f"report since {since}\n", "text/plain; charset=utf-8"
            if fmt == "junit":
                return 200, "<testsuites/>\n", "application/xml"
            return 200, dict(self.report_document, since=since), "application/json"
        if route == ("GET", "/metrics"):
            return 200, self.metrics_text, "text/plain; version=0.0.4"
        return 404, {"error": f"no such path: {request.path}", "details": []}, "application/json"

    INVALID_DETAIL = "request:3:13: rules[0].match.sever_port: unknown key 'sever_port'; did you mean 'server_port'?"

    def _names(self, text: str) -> Tuple[List[str], Optional[Answer]]:
        """The rule names of a body: JSON read as JSON, YAML by a line pattern (enough here)."""
        if "sever_port" in text:
            return [], (400, {"error": "the rule file is invalid (1 problem)", "details": [self.INVALID_DETAIL]},
                        "application/json")
        try:
            document = json.loads(text)
        except ValueError:
            return re.findall(r"name:\s*([A-Za-z0-9._-]+)", text), None
        rules = document.get("rules", []) if isinstance(document, dict) else document
        return [rule["name"] for rule in rules], None
