"""A client of netfault's control API (api/CONTRACT.md), standard library only.

It speaks HTTP/1.1 over the Unix socket a running ``netfault apply`` / ``netfault run`` serves
(``/run/netfault/<queue>.sock`` by default, ``--control PATH``), or over its loopback TCP port
(``--listen 127.0.0.1:PORT --token-file F``) with the bearer token. One connection per request.
"""

from __future__ import annotations

import copy
import http.client
import itertools
import json
import os
import re
import secrets
import socket
import urllib.parse
from typing import Any, Dict, Iterable, List, Optional, Tuple, Union

from .errors import Conflict, InvalidRules, NetfaultError, NotFound, NotRunning, Unauthorized
from .report import Mark, Report, RuleStatus, Status

__all__ = ["Client", "Segment", "default_control_path", "mark_name"]

__version__ = "0.1.0"

#: What a rule file may be given as: YAML or JSON text (str or bytes), or the parsed document
#: (a mapping with ``rules:``, or a list of rules), which is sent as JSON.
Rules = Union[str, bytes, Dict[str, Any], List[Any]]

_MARK_NAME = re.compile(r"^[A-Za-z0-9_.:/-]{1,200}$")
_NOT_MARK_CHARACTER = re.compile(r"[^A-Za-z0-9_.:/-]+")
#: Room left under the 200-character limit for the suffixes that keep automatic names unique.
_MARK_BASE_LENGTH = 180
_REPORT_FORMATS = ("json", "text", "junit")


def default_control_path(queue: int = 0) -> str:
    """Where the client looks by default: ``$NETFAULT_CONTROL``, else netfault's default socket
    ``/run/netfault/<queue>.sock``."""
    return os.environ.get("NETFAULT_CONTROL") or f"/run/netfault/{int(queue)}.sock"


def mark_name(text: str) -> str:
    """``text`` made a valid mark name (1-200 of ``[A-Za-z0-9_.:/-]``): other characters become
    ``_`` (a pytest node id's ``[param]`` ...) and it is cut to fit."""
    name = _NOT_MARK_CHARACTER.sub("_", text).strip("_") or "segment"
    return name[:_MARK_BASE_LENGTH]


class _UnixHTTPConnection(http.client.HTTPConnection):
    """An HTTP/1.1 connection over a Unix stream socket."""

    def __init__(self, path: str, timeout: float) -> None:
        super().__init__("localhost", timeout=timeout)
        self.socket_path = path

    def connect(self) -> None:
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            sock.settimeout(self.timeout)
            sock.connect(self.socket_path)
        except BaseException:
            sock.close()
            raise
        self.sock = sock


class Client:
    """A running netfault's control API.

    ``Client()`` talks to ``$NETFAULT_CONTROL`` or ``/run/netfault/<queue>.sock``;
    ``Client("/tmp/nf.sock")`` to that socket; ``Client(url="http://127.0.0.1:9090",
    token_file="token")`` to netfault's ``--listen`` port. ``timeout`` bounds each request.
    """

    def __init__(
        self,
        control: Optional[str] = None,
        *,
        queue: int = 0,
        url: Optional[str] = None,
        token: Optional[str] = None,
        token_file: Optional[str] = None,
        timeout: float = 10.0,
    ) -> None:
        if control is not None and url is not None:
            raise ValueError("give control (a Unix socket) or url (netfault's --listen address), not both")
        if token is not None and token_file is not None:
            raise ValueError("give token or token_file, not both")
        if token_file is not None:
            with open(token_file, encoding="utf-8") as file:
                token = file.read()
        self.token: Optional[str] = token.strip() if token is not None else None
        self.timeout = float(timeout)
        self.url: Optional[str] = None
        self.control: Optional[str] = None
        if url is not None:
            parts = urllib.parse.urlsplit(url)
            if parts.scheme not in ("http", "https") or not parts.hostname:
                raise ValueError(f"url {url!r}: give http://127.0.0.1:PORT, netfault's --listen address")
            if not self.token:
                raise ValueError("url needs token or token_file: netfault serves TCP only with a token (--token-file)")
            self.url = url.rstrip("/")
            self._scheme = parts.scheme
            self._host = parts.hostname
            self._port = parts.port
            self._prefix = parts.path.rstrip("/")
        else:
            self.control = os.fspath(control) if control is not None else default_control_path(queue)
            self._prefix = ""
        # Automatic mark names: `_mark_base` (a pytest node id) and a counter, else `segment-N-XXXXXX`.
        self._mark_base: Optional[str] = None
        self._mark_counter = itertools.count(1)
        #: The marks this client made, oldest first.
        self.marks_made: List[str] = []

    # MARK: Transport

    @property
    def address(self) -> str:
        """The socket path or URL this client talks to."""
        return self.url if self.url is not None else str(self.control)

    def __repr__(self) -> str:
        return f"netfault.Client({self.address!r})"

    def _connection(self) -> http.client.HTTPConnection:
        if self.url is None:
            return _UnixHTTPConnection(str(self.control), self.timeout)
        if self._scheme == "https":
            return http.client.HTTPSConnection(self._host, self._port, timeout=self.timeout)
        return http.client.HTTPConnection(self._host, self._port, timeout=self.timeout)

    def _not_running(self, error: BaseException) -> NotRunning:
        if isinstance(error, FileNotFoundError):
            reason = "the socket does not exist (is netfault running? `netfault apply --control PATH` names its socket)"
        elif isinstance(error, ConnectionRefusedError):
            reason = "nothing listens there (a netfault that stopped?)"
        elif isinstance(error, PermissionError):
            reason = ("permission denied: the control socket is root's (run as root, or start netfault "
                      "with --control-group GROUP)")
        elif isinstance(error, socket.timeout):
            reason = f"no answer within {self.timeout:g} s"
        elif isinstance(error, http.client.HTTPException):
            reason = f"not an HTTP answer ({type(error).__name__}: {error})"
        else:
            reason = str(error) or type(error).__name__
        return NotRunning(self.address, reason)

    def request(
        self,
        method: str,
        path: str,
        body: Optional[Union[str, bytes]] = None,
        *,
        content_type: Optional[str] = None,
        accept: str = "application/json",
        rule_body: bool = False,
    ) -> Tuple[int, Dict[str, str], str]:
        """Sends one request; returns ``(status, headers, text)`` of a 2xx answer and raises the
        :class:`NetfaultError` of any other (:class:`NotRunning` when nothing answers)."""
        headers = {"Accept": accept, "User-Agent": f"netfault-python/{__version__}"}
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        data: Optional[bytes] = None
        if body is not None:
            data = body.encode("utf-8") if isinstance(body, str) else bytes(body)
            headers["Content-Type"] = content_type or "application/yaml"
        elif method in ("POST", "PUT", "PATCH"):
            data = b""
        connection = self._connection()
        try:
            connection.request(method, self._prefix + path, body=data, headers=headers)
            response = connection.getresponse()
            payload = response.read()
            status = response.status
            answer_headers = {key.lower(): value for key, value in response.getheaders()}
            reason = response.reason
        except (OSError, http.client.HTTPException) as error:
            raise self._not_running(error) from error
        finally:
            connection.close()
        text = payload.decode("utf-8", errors="replace")
        if 200 <= status < 300:
            return status, answer_headers, text
        raise self._error(status, reason, text, rule_body=rule_body)

    @staticmethod
    def _error(status: int, reason: str, text: str, *, rule_body: bool) -> NetfaultError:
        details: List[str] = []
        try:
            document = json.loads(text)
        except ValueError:
            document = None
        if isinstance(document, dict) and "error" in document:
            error = str(document.get("error"))
            raw_details = document.get("details") or []
            details = [str(detail) for detail in raw_details] if isinstance(raw_details, list) else [str(raw_details)]
        else:
            error = text.strip() or reason or f"HTTP {status}"
        if status == 400 and rule_body:
            kind = InvalidRules
        else:
            kind = {401: Unauthorized, 404: NotFound, 409: Conflict}.get(status, NetfaultError)
        return kind(status, error, details)

    def _json(self, method: str, path: str, body: Optional[Union[str, bytes]] = None, **options: Any) -> Any:
        _, _, text = self.request(method, path, body, **options)
        try:
            return json.loads(text)
        except ValueError as error:
            raise NetfaultError(None, f"{method} {path}: the answer is not JSON ({error}): {text[:200]!r}") from error

    # MARK: Status and rules

    def status(self) -> Status:
        """``GET /v1/status``: the rules in force with their counters, queues, marks..."""
        return Status.from_json(self._json("GET", "/v1/status"))

    def rules(self) -> str:
        """``GET /v1/rules``: the rule file in force, as YAML."""
        return self.request("GET", "/v1/rules", accept="application/yaml")[2]

    def rules_json(self) -> Dict[str, Any]:
        """``GET /v1/rules``: the rule file in force, as JSON."""
        return self._json("GET", "/v1/rules", accept="application/json")

    def load(self, rules: Rules) -> List[RuleStatus]:
        """``PUT /v1/rules``: a whole rule file in place of the rules (and ``observe:``) in force.
        :class:`InvalidRules` when it is invalid, :class:`Conflict` when it sets a fixed
        setting (``queue``, ``queues``, ``hooks``...) to another value than the running one."""
        text, content_type, _ = _rule_body(rules)
        return RuleStatus.list_from_json(
            self._json("PUT", "/v1/rules", text, content_type=content_type, rule_body=True))

    def add(self, rules: Rules) -> List[RuleStatus]:
        """``POST /v1/rules``: rules added after those in force (a rule file with only ``rules:``,
        or a list of rules). :class:`Conflict` when a name is already in force."""
        text, content_type, _ = _rule_body(rules)
        return RuleStatus.list_from_json(
            self._json("POST", "/v1/rules", text, content_type=content_type, rule_body=True))

    def remove(self, *names: str) -> List[RuleStatus]:
        """``DELETE /v1/rules/{name}`` for each name; returns the rules in force after the last.
        :class:`NotFound` for an unknown name (those before it are removed)."""
        if not names:
            raise TypeError("remove() takes the names of the rules to remove")
        rules: List[RuleStatus] = []
        for name in names:
            rules = RuleStatus.list_from_json(self._json("DELETE", f"/v1/rules/{_quote(name)}"))
        return rules

    def enable(self, name: str) -> List[RuleStatus]:
        """``PATCH /v1/rules/{name}`` ``{"enabled": true}``."""
        return self._set_enabled(name, True)

    def disable(self, name: str) -> List[RuleStatus]:
        """``PATCH /v1/rules/{name}`` ``{"enabled": false}``: the rule stays listed, inactive."""
        return self._set_enabled(name, False)

    def _set_enabled(self, name: str, enabled: bool) -> List[RuleStatus]:
        body = json.dumps({"enabled": enabled})
        return RuleStatus.list_from_json(
            self._json("PATCH", f"/v1/rules/{_quote(name)}", body, content_type="application/json"))

    def reset(self) -> List[RuleStatus]:
        """``POST /v1/reset``: every rule (and ``observe:``) removed."""
        return RuleStatus.list_from_json(self._json("POST", "/v1/reset"))

    # MARK: Marks and reports

    def mark(self, name: str) -> Mark:
        """``POST /v1/marks``: a mark ``report(since=name)`` starts from. :class:`Conflict` when
        the name was used before in this run."""
        if not isinstance(name, str) or not _MARK_NAME.match(name):
            raise ValueError(f"{name!r} is not a mark name: 1-200 letters, digits, '_', '.', ':', '/' or '-' "
                             "(netfault.mark_name() makes one of any text)")
        made = Mark.from_json(self._json("POST", "/v1/marks", json.dumps({"name": name}),
                                         content_type="application/json"))
        self.marks_made.append(made.name or name)
        return made

    def report(self, since: Optional[str] = None) -> Report:
        """``GET /v1/report``: the run so far, or the segment since the mark ``since``."""
        return Report.from_json(self._json("GET", _report_path(since, "json")))

    def report_text(self, since: Optional[str] = None, format: str = "text") -> str:
        """``GET /v1/report`` as ``text``, ``json`` or ``junit`` (XML), unparsed."""
        if format not in _REPORT_FORMATS:
            raise ValueError(f"format {format!r}: give text, json or junit")
        accept = {"json": "application/json", "junit": "application/xml"}.get(format, "text/plain")
        return self.request("GET", _report_path(since, format), accept=accept)[2]

    def metrics(self) -> str:
        """``GET /metrics``: the Prometheus text exposition."""
        return self.request("GET", "/metrics", accept="text/plain")[2]

    # MARK: Segments

    def segment(self, name: Optional[str] = None) -> "_SegmentContext":
        """A context manager that posts a mark and yields its :class:`Segment`, whose
        ``report()`` covers what happened since; it changes no rule."""
        return _SegmentContext(self, None, name)

    def faults(self, rules: Rules, name: Optional[str] = None) -> "_SegmentContext":
        """A context manager for faults on during a block::

            with client.faults(RULES) as segment:
                ...                        # the faults are in force
            segment.report()               # what they did

        On entry it posts a mark (``name``, or a unique one: the pytest test's id with the
        plugin's ``netfault`` fixture, else ``segment-N-XXXXXX``) and adds the rules; on exit,
        also on an exception, it removes exactly the rules it added. An invalid rule file raises
        :class:`InvalidRules` on entry and changes nothing."""
        return _SegmentContext(self, rules, name)

    def for_test(self, test_id: str) -> "Client":
        """A client like this one whose automatic mark names come from ``test_id`` (a pytest
        node id): ``test_id``, then ``test_id-2``, ``test_id-3`` ..."""
        bound = copy.copy(self)
        bound._mark_base = mark_name(test_id)
        bound._mark_counter = itertools.count(1)
        bound.marks_made = []
        return bound

    def _new_mark(self, name: Optional[str]) -> Mark:
        """Posts the mark ``name``, or an automatic one, renamed if the run used it already."""
        if name is not None:
            return self.mark(name)
        for attempt in range(8):
            number = next(self._mark_counter)
            if self._mark_base is None:
                candidate = f"segment-{number}-{secrets.token_hex(3)}"
            elif attempt == 0 and number == 1:
                candidate = self._mark_base
            elif attempt == 0:
                candidate = f"{self._mark_base}-{number}"
            else:  # taken: this test ran before in this netfault's life (a rerun, another session)
                candidate = f"{self._mark_base}-{number}-{secrets.token_hex(3)}"
            try:
                return self.mark(candidate)
            except Conflict:
                continue
        raise Conflict(409, f"could not find an unused mark name for {self._mark_base or 'segment'}", [])

    def _added_rules(self, rules: Rules) -> List[str]:
        """Adds ``rules``; returns the names of the rules it added."""
        text, content_type, names = _rule_body(rules)
        before = None if names is not None else {rule.name for rule in self.status().rules}
        in_force = RuleStatus.list_from_json(
            self._json("POST", "/v1/rules", text, content_type=content_type, rule_body=True))
        if names is not None:
            return names
        # Text whose names the client cannot read without a YAML parser: the names in force now
        # that were not before (names are unique, so each of them is one of these rules).
        return [rule.name for rule in in_force if rule.name not in (before or set())]


class Segment:
    """A stretch of the run since a mark: ``mark`` (its name), ``rules`` (the names of the
    rules its ``faults()`` added), ``report()`` (the report since the mark)."""

    def __init__(self, client: Client, mark: str, at_ms: Optional[float] = None,
                 rules: Iterable[str] = ()) -> None:
        self.client = client
        self.mark = mark
        self.at_ms = at_ms
        self.rules: List[str] = list(rules)

    def report(self) -> Report:
        """The report since the mark: the connections first seen after it, and each rule's
        counts since."""
        return self.client.report(since=self.mark)

    def report_text(self, format: str = "text") -> str:
        return self.client.report_text(since=self.mark, format=format)

    def __str__(self) -> str:
        return self.mark

    def __repr__(self) -> str:
        return f"netfault.Segment(mark={self.mark!r}, rules={self.rules!r})"


class _SegmentContext:
    """What ``Client.faults()`` and ``Client.segment()`` return."""

    def __init__(self, client: Client, rules: Optional[Rules], name: Optional[str]) -> None:
        self._client = client
        self._rules = rules
        self._name = name
        self._segment: Optional[Segment] = None
        if rules is not None:
            _rule_body(rules)  # refuse a wrong type at once, not on entry

    def __enter__(self) -> Segment:
        # The mark first, then the rules: the segment misses nothing they do.
        mark = self._client._new_mark(self._name)
        added = self._client._added_rules(self._rules) if self._rules is not None else []
        self._segment = Segment(self._client, mark.name, mark.at_ms, added)
        return self._segment

    def __exit__(self, kind, error, traceback) -> bool:
        segment = self._segment
        if segment is None or not segment.rules:
            return False
        failures: List[NetfaultError] = []
        for name in segment.rules:  # each one tried, whatever became of the others
            try:
                self._client.remove(name)
            except NotFound:
                pass  # removed already (by the test, a reset, a PUT)
            except NetfaultError as failure:
                failures.append(failure)
        if failures:
            if kind is None:
                raise failures[0]
            # The block's own exception is what the test needs to see; this one rides on it.
            if error is not None and hasattr(error, "add_note"):
                error.add_note(f"netfault: the rules {', '.join(segment.rules)} could not all be removed: {failures[0]}")
        return False


def _quote(name: str) -> str:
    return urllib.parse.quote(str(name), safe="")


def _report_path(since: Optional[str], format: str) -> str:
    query = []
    if since is not None:
        query.append(("since", str(since)))
    query.append(("format", format))
    return "/v1/report?" + urllib.parse.urlencode(query, quote_via=urllib.parse.quote)


def _rule_body(rules: Rules) -> Tuple[str, str, Optional[List[str]]]:
    """A rule body as text, its content type, and the names of its rules when the client can
    read them (a parsed document, or JSON text), else None."""
    if isinstance(rules, bytes):
        rules = rules.decode("utf-8")
    if isinstance(rules, str):
        stripped = rules.lstrip()
        if stripped.startswith(("{", "[")):
            try:
                document = json.loads(rules)
            except ValueError:
                return rules, "application/yaml", None  # YAML flow style
            return rules, "application/json", _rule_names(document)
        return rules, "application/yaml", None
    if isinstance(rules, (dict, list)):
        return json.dumps(rules), "application/json", _rule_names(rules)
    raise TypeError(f"rules must be YAML or JSON text, a mapping with 'rules', or a list of rules; not {type(rules).__name__}")


def _rule_names(document: Any) -> Optional[List[str]]:
    rules = document.get("rules") if isinstance(document, dict) else document
    if rules is None and isinstance(document, dict):
        return []
    if not isinstance(rules, list):
        return None
    names = [rule.get("name") for rule in rules if isinstance(rule, dict)]
    if len(names) != len(rules) or not all(isinstance(name, str) for name in names):
        return None  # netfault will say what is wrong
    return names
