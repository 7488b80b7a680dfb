"""Typed views of what the control API answers: the report (``GET /v1/report``), the status
(``GET /v1/status``), rule lists and marks.

Each object keeps the JSON it was read from in ``raw``; keys this version does not know are
ignored (the report only ever gains keys), and absent ones read as ``None`` or empty.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field, fields
from typing import Any, Dict, List, Optional, Tuple

__all__ = [
    "Report",
    "Connection",
    "Fault",
    "RuleResult",
    "Status",
    "RuleStatus",
    "Mark",
    "parse_endpoint",
]


def parse_endpoint(text: Optional[str]) -> Tuple[Optional[str], Optional[int]]:
    """``"198.18.0.1:40000"`` -> ``("198.18.0.1", 40000)``; ``"[2001:db8::1]:40000"`` ->
    ``("2001:db8::1", 40000)``; an address without a port gives ``(address, None)``."""
    if not text:
        return None, None
    if text.startswith("["):
        close = text.find("]")
        if close < 0:
            return text, None
        address, rest = text[1:close], text[close + 1:]
        return address, _port(rest[1:]) if rest.startswith(":") else None
    if text.count(":") == 1:
        address, _, port = text.partition(":")
        return address, _port(port)
    return text, None  # IPv4 without a port, or a bare IPv6 address


def _port(text: str) -> Optional[int]:
    try:
        return int(text)
    except ValueError:
        return None


def _sides(value: Any) -> Tuple[Any, Any]:
    """A ``{"client": ..., "server": ...}`` pair; a version-1 report's single value is the client's."""
    if isinstance(value, dict):
        return value.get("client"), value.get("server")
    return value, None


def _number(value: Any, default: Any = None) -> Any:
    return value if isinstance(value, (int, float)) and not isinstance(value, bool) else default


@dataclass
class RuleStatus:
    """A rule in force, as ``GET /v1/status`` and every rule change list them."""

    name: str
    action: str
    enabled: bool
    fired: int
    connections: int
    raw: Dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_json(cls, data: Dict[str, Any]) -> "RuleStatus":
        return cls(
            name=str(data.get("name", "")),
            action=str(data.get("action", "")),
            enabled=bool(data.get("enabled", True)),
            fired=_number(data.get("fired"), 0),
            connections=_number(data.get("connections"), 0),
            raw=dict(data),
        )

    @classmethod
    def list_from_json(cls, data: Any) -> List["RuleStatus"]:
        """A ``RuleList`` (``{"rules": [...]}``) or a bare list."""
        if isinstance(data, dict):
            data = data.get("rules") or []
        return [cls.from_json(rule) for rule in data or [] if isinstance(rule, dict)]


@dataclass
class Mark:
    """A mark made by ``POST /v1/marks``: ``at_ms`` is milliseconds since the run began."""

    name: str
    at_ms: Optional[float] = None
    raw: Dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_json(cls, data: Dict[str, Any]) -> "Mark":
        return cls(name=str(data.get("name", "")), at_ms=_number(data.get("at_ms")), raw=dict(data))


@dataclass
class Status:
    """``GET /v1/status``."""

    api_version: Optional[int]
    pid: Optional[int]
    uptime_seconds: Optional[float]
    queues: List[int]
    hooks: List[str]
    namespace: Optional[str]
    rules: List[RuleStatus]
    packets: Optional[int]
    verdicts: Optional[int]
    held: Optional[int]
    escaped: Optional[int]
    connections_tracked: Optional[int]
    rule_changes: Optional[int]
    marks: List[str]
    raw: Dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_json(cls, data: Dict[str, Any]) -> "Status":
        return cls(
            api_version=_number(data.get("api_version")),
            pid=_number(data.get("pid")),
            uptime_seconds=_number(data.get("uptime_seconds")),
            queues=list(data.get("queues") or []),
            hooks=list(data.get("hooks") or []),
            namespace=data.get("namespace"),
            rules=RuleStatus.list_from_json(data.get("rules") or []),
            packets=_number(data.get("packets")),
            verdicts=_number(data.get("verdicts")),
            held=_number(data.get("held")),
            escaped=_number(data.get("escaped")),
            connections_tracked=_number(data.get("connections_tracked")),
            rule_changes=_number(data.get("rule_changes")),
            marks=list(data.get("marks") or []),
            raw=dict(data),
        )

    def rule(self, name: str) -> RuleStatus:
        """The rule in force named ``name``; :class:`LookupError` naming those in force otherwise."""
        for rule in self.rules:
            if rule.name == name:
                return rule
        names = ", ".join(rule.name for rule in self.rules) or "none"
        raise LookupError(f"no rule named {name!r} is in force; the rules in force: {names}")


@dataclass
class Fault:
    """A rule that acted on a connection: how many of its packets, and when it first did
    (milliseconds after the connection's first packet)."""

    rule: str
    action: str
    count: int
    first_ms: Optional[float]
    raw: Dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_json(cls, data: Dict[str, Any]) -> "Fault":
        return cls(
            rule=str(data.get("rule", "")),
            action=str(data.get("action", "")),
            count=_number(data.get("count"), 0),
            first_ms=_number(data.get("first_ms")),
            raw=dict(data),
        )


@dataclass
class RuleResult:
    """A rule in a report: what it did in the run (or the segment) and whether its expectation held."""

    name: str
    action: str
    fired: int
    connections: int
    passed: Optional[bool]
    failure: Optional[str]
    expect: Optional[Dict[str, Any]] = None
    raw: Dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_json(cls, data: Dict[str, Any]) -> "RuleResult":
        passed = data.get("passed")
        return cls(
            name=str(data.get("name", "")),
            action=str(data.get("action", "")),
            fired=_number(data.get("fired"), 0),
            connections=_number(data.get("connections"), 0),
            passed=passed if isinstance(passed, bool) else None,
            failure=data.get("failure"),
            expect=data.get("expect"),
            raw=dict(data),
        )


@dataclass
class Connection:
    """One connection netfault saw. ``errno``, ``winsock`` and ``winsock_code`` are what the
    client's application got (``None``: no error); ``server_*`` the server's."""

    protocol: str
    client: str
    server: str
    client_address: Optional[str]
    client_port: Optional[int]
    server_address: Optional[str]
    server_port: Optional[int]
    outcome: str
    errno: Optional[str]
    winsock: Optional[str]
    winsock_code: Optional[int]
    server_errno: Optional[str]
    server_winsock: Optional[str]
    server_winsock_code: Optional[int]
    faults: List[Fault]
    reset_by: Optional[Dict[str, Any]]
    #: For a connection a ``close`` rule ended: netfault's FINs in the peers' names
    #: (``{"sender": "netfault", "rule": ..., "toward": "client" | "server" | "both"}``).
    closed_by: Optional[Dict[str, Any]] = None
    seen_from_start: Optional[bool] = None
    aborted_side: Optional[str] = None
    start_ms: Optional[float] = None
    handshake_ms: Optional[float] = None
    duration_ms: Optional[float] = None
    raw: Dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_json(cls, data: Dict[str, Any]) -> "Connection":
        client = str(data.get("client", ""))
        server = str(data.get("server", ""))
        client_address, client_port = parse_endpoint(client)
        server_address, server_port = parse_endpoint(server)
        errno, server_errno = _sides(data.get("errno"))
        winsock, server_winsock = _sides(data.get("winsock"))
        winsock_code, server_winsock_code = _sides(data.get("winsock_code"))
        reset_by, closed_by = data.get("reset_by"), data.get("closed_by")
        seen = data.get("seen_from_start")
        return cls(
            protocol=str(data.get("protocol", "")),
            client=client,
            server=server,
            client_address=client_address,
            client_port=client_port,
            server_address=server_address,
            server_port=server_port,
            outcome=str(data.get("outcome", "")),
            errno=errno,
            winsock=winsock,
            winsock_code=_number(winsock_code),
            server_errno=server_errno,
            server_winsock=server_winsock,
            server_winsock_code=_number(server_winsock_code),
            faults=[Fault.from_json(fault) for fault in data.get("faults") or [] if isinstance(fault, dict)],
            reset_by=dict(reset_by) if isinstance(reset_by, dict) else None,
            closed_by=dict(closed_by) if isinstance(closed_by, dict) else None,
            seen_from_start=seen if isinstance(seen, bool) else None,
            aborted_side=data.get("aborted_side"),
            start_ms=_number(data.get("start_ms")),
            handshake_ms=_number(data.get("handshake_ms")),
            duration_ms=_number(data.get("duration_ms")),
            raw=dict(data),
        )

    @property
    def rules(self) -> List[str]:
        """The names of the rules that acted on this connection, in the order they first did."""
        return [fault.rule for fault in self.faults]

    def __str__(self) -> str:
        text = f"{self.protocol} {self.client} → {self.server} {self.outcome}"
        if self.errno:
            text += f" (client {self.errno}"
            text += f" / {self.winsock} {self.winsock_code})" if self.winsock else ")"
        if self.faults:
            text += " faults: " + ", ".join(f"{fault.rule} ×{fault.count}" for fault in self.faults)
        return text


#: The filters :meth:`Report.connection` and :meth:`Report.where` take, besides any other
#: attribute of :class:`Connection` compared for equality.
CONNECTION_FILTERS = ("server_port", "client_port", "server", "client", "protocol", "outcome", "rule")


def _same_address(wanted: Any, address: Optional[str], endpoint: str) -> bool:
    """``wanted`` (an address, ``addr:port``, ``[v6]:port`` or an ``ipaddress`` object) names
    this side: the endpoint's full text, or its address, IPv6 spellings compared as addresses."""
    if isinstance(wanted, (ipaddress.IPv4Address, ipaddress.IPv6Address)):
        wanted = str(wanted)
    wanted = str(wanted)
    if wanted == endpoint or wanted == address:
        return True
    wanted_address, wanted_port = parse_endpoint(wanted)
    if wanted_port is not None and wanted_port != parse_endpoint(endpoint)[1]:
        return False
    try:
        return ipaddress.ip_address(wanted_address or "") == ipaddress.ip_address(address or "")
    except ValueError:
        return False


def _matches(connection: Connection, filters: Dict[str, Any]) -> bool:
    for key, wanted in filters.items():
        if key in ("server", "client"):
            value_address = connection.server_address if key == "server" else connection.client_address
            endpoint = connection.server if key == "server" else connection.client
            if callable(wanted):
                if not wanted(endpoint):
                    return False
            elif not _same_address(wanted, value_address, endpoint):
                return False
            continue
        value = connection.rules if key == "rule" else getattr(connection, key)
        if callable(wanted):
            if not wanted(value):
                return False
        elif key == "rule":
            if wanted not in value:
                return False
        elif value != wanted:
            return False
    return True


_CONNECTION_FIELDS = frozenset(f.name for f in fields(Connection)) - {"raw"}


def _check_filters(filters: Dict[str, Any]) -> None:
    unknown = sorted(set(filters) - _CONNECTION_FIELDS - {"rule"})
    if unknown:
        raise TypeError(
            f"unknown connection filter {', '.join(unknown)}; filters: {', '.join(CONNECTION_FILTERS)}"
            " (or any attribute of Connection)"
        )


def _describe(filters: Dict[str, Any]) -> str:
    return ", ".join(f"{key}={value!r}" for key, value in filters.items()) or "no filter"


@dataclass
class Report:
    """A report (``GET /v1/report``, format json): of the whole run, or of the segment since
    the mark ``since``: the connections first seen after it and each rule's counts since."""

    version: Optional[int]
    since: Optional[str]
    stop_reason: Optional[str]
    seed: Optional[str]
    connections: List[Connection]
    rules: List[RuleResult]
    unlisted_connections: Dict[str, int]
    raw: Dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_json(cls, data: Dict[str, Any]) -> "Report":
        seed = data.get("seed")
        return cls(
            version=_number(data.get("version")),
            since=data.get("since"),
            stop_reason=data.get("stop_reason"),
            seed=None if seed is None else str(seed),
            connections=[Connection.from_json(c) for c in data.get("connections") or [] if isinstance(c, dict)],
            rules=[RuleResult.from_json(r) for r in data.get("rules") or [] if isinstance(r, dict)],
            unlisted_connections=dict(data.get("unlisted_connections") or {}),
            raw=dict(data),
        )

    def where(self, **filters: Any) -> List[Connection]:
        """The connections matching every filter: ``server_port``, ``client_port``, ``server``
        and ``client`` (an address, or ``addr:port``), ``protocol``, ``outcome``, ``rule`` (a
        rule that acted on it), or any other attribute of :class:`Connection`; a value may also
        be a predicate (``outcome=lambda o: o != "open"``)."""
        _check_filters(filters)
        return [connection for connection in self.connections if _matches(connection, filters)]

    def connection(self, **filters: Any) -> Connection:
        """The one connection matching ``filters`` (see :meth:`where`); :class:`LookupError`,
        listing the connections the report holds, when none or more than one does."""
        found = self.where(**filters)
        if len(found) == 1:
            return found[0]
        segment = f" since mark {self.since!r}" if self.since else ""
        if not self.connections:
            seen = " The report holds no connection."
        else:
            seen = f" The report's {len(self.connections)} connection(s):" + "".join(
                f"\n  {connection}" for connection in self.connections
            )
        many = "no connection" if not found else f"{len(found)} connections"
        raise LookupError(f"{many} in the report{segment} match {_describe(filters)}; expected exactly one.{seen}")

    def rule(self, name: str) -> RuleResult:
        """The report's entry for the rule ``name``; :class:`LookupError` listing the others."""
        for rule in self.rules:
            if rule.name == name:
                return rule
        names = ", ".join(rule.name for rule in self.rules) or "none"
        raise LookupError(f"the report has no rule named {name!r}; its rules: {names}")

    @property
    def failed_rules(self) -> List[RuleResult]:
        """Rules whose expectation (stated, or "fires at least once") did not hold."""
        return [rule for rule in self.rules if rule.passed is False]

