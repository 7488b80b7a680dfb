"""Reading reports: endpoints of both families, each side's error, lookups and their messages."""

from __future__ import annotations

import ipaddress

import pytest

import netfault
from netfault import Report, parse_endpoint


def connection(client, server, outcome="closed", protocol="tcp", errno=None, winsock=None, code=None,
               faults=(), reset_by=None, **extra):
    errno = errno or {"client": None, "server": None}
    return dict({
        "protocol": protocol, "client": client, "server": server, "seen_from_start": True, "outcome": outcome,
        "errno": errno, "winsock": winsock or {"client": None, "server": None},
        "winsock_code": code or {"client": None, "server": None}, "reset_by": reset_by, "aborted_side": None,
        "start_ms": 1.25, "handshake_ms": 0.1, "duration_ms": 3.5,
        "packets": {"client": 1, "server": 0}, "bytes": {"client": 0, "server": 0},
        "retransmissions": {"client": 0, "server": 0}, "largest_retransmission_gap_ms": {"client": 0, "server": 0},
        "dropped": {"client": 0, "server": 0}, "faults": list(faults), "fault_to_end_ms": None,
    }, **extra)


REPORT = {
    "version": 2, "rule_file": "(no rule file: rules from the control API)", "seed": "9041446306003824013",
    "started_at": "2025-01-01T00:00:00Z", "duration_ms": 1234.5, "stop_reason": "running",
    "since": "tests/test_redis.py::test_refused", "command": None,
    "queue": {"number": 0, "packets": 3},
    "rules": [
        {"name": "refuse-redis", "action": "reject", "fired": 1, "connections": 1, "expect": None,
         "passed": True, "failure": None, "new_key": 1},
        {"name": "never", "action": "drop", "fired": 0, "connections": 0,
         "expect": {"fired": ">=1", "outcome": None}, "passed": False, "failure": "never fired"},
    ],
    "connections": [
        connection("198.18.77.1:40000", "198.18.77.2:6379", outcome="refused",
                   errno={"client": "ECONNREFUSED", "server": None},
                   winsock={"client": "WSAECONNREFUSED", "server": None},
                   code={"client": 10061, "server": None},
                   faults=[{"rule": "refuse-redis", "action": "reject", "count": 1, "first_ms": 0.0}],
                   reset_by={"sender": "netfault", "rule": "refuse-redis", "toward": "client"}),
        connection("[2001:db8::1]:41000", "[2001:db8::2]:6379", outcome="reset",
                   errno={"client": "ECONNRESET", "server": "EPIPE"},
                   winsock={"client": "WSAECONNRESET", "server": "WSAECONNABORTED"},
                   code={"client": 10054, "server": 10053}, a_key_from_the_future=[1, 2]),
        connection("198.18.77.1:40002", "198.18.77.2:8080",
                   closed_by={"sender": "netfault", "rule": "proxy-close", "toward": "both"}),
        connection("198.18.77.1:5353", "198.18.77.2:53", protocol="udp", outcome="open"),
    ],
    "unlisted_connections": {"closed": 3},
    "flows": {"max_tracked": 262144},
}


@pytest.fixture
def report():
    return Report.from_json(REPORT)


@pytest.mark.parametrize("text, expected", [
    ("198.18.0.1:40000", ("198.18.0.1", 40000)),
    ("[2001:db8::1]:40000", ("2001:db8::1", 40000)),
    ("[::ffff:198.18.0.1]:1", ("::ffff:198.18.0.1", 1)),
    ("198.18.0.1", ("198.18.0.1", None)),
    ("2001:db8::1", ("2001:db8::1", None)),
    ("[2001:db8::1]", ("2001:db8::1", None)),
    ("", (None, None)),
    (None, (None, None)),
])
def test_endpoints(text, expected):
    assert parse_endpoint(text) == expected


def test_the_whole_document(report):
    assert (report.version, report.since, report.stop_reason, report.seed) == (
        2, "tests/test_redis.py::test_refused", "running", "9041446306003824013")
    assert report.unlisted_connections == {"closed": 3}
    assert report.raw["flows"] == {"max_tracked": 262144}
    assert [rule.name for rule in report.failed_rules] == ["never"]
    assert report.rule("refuse-redis") == netfault.RuleResult("refuse-redis", "reject", 1, 1, True, None)
    assert report.rule("never").expect == {"fired": ">=1", "outcome": None}


def test_an_ipv4_connection_and_its_client_side_error(report):
    refused = report.connections[0]
    assert (refused.protocol, refused.client, refused.server) == ("tcp", "198.18.77.1:40000", "198.18.77.2:6379")
    assert (refused.client_address, refused.client_port) == ("198.18.77.1", 40000)
    assert (refused.server_address, refused.server_port) == ("198.18.77.2", 6379)
    assert (refused.outcome, refused.errno, refused.winsock, refused.winsock_code) == (
        "refused", "ECONNREFUSED", "WSAECONNREFUSED", 10061)
    assert (refused.server_errno, refused.server_winsock, refused.server_winsock_code) == (None, None, None)
    assert refused.faults == [netfault.Fault("refuse-redis", "reject", 1, 0.0)]
    assert refused.rules == ["refuse-redis"]
    assert refused.reset_by == {"sender": "netfault", "rule": "refuse-redis", "toward": "client"}
    assert refused.seen_from_start is True and refused.start_ms == 1.25 and refused.duration_ms == 3.5
    assert refused.raw["packets"] == {"client": 1, "server": 0}
    assert str(refused) == ("tcp 198.18.77.1:40000 → 198.18.77.2:6379 refused "
                            "(client ECONNREFUSED / WSAECONNREFUSED 10061) faults: refuse-redis ×1")


def test_a_connection_a_close_rule_ended_names_it(report):
    closed = report.connections[2]
    assert closed.outcome == "closed"
    assert closed.closed_by == {"sender": "netfault", "rule": "proxy-close", "toward": "both"}
    assert report.connections[0].closed_by is None and report.connections[1].closed_by is None


def test_an_ipv6_connection_and_both_sides_errors(report):
    reset = report.connections[1]
    assert (reset.client_address, reset.client_port) == ("2001:db8::1", 41000)
    assert (reset.server_address, reset.server_port) == ("2001:db8::2", 6379)
    assert (reset.errno, reset.winsock, reset.winsock_code) == ("ECONNRESET", "WSAECONNRESET", 10054)
    assert (reset.server_errno, reset.server_winsock, reset.server_winsock_code) == ("EPIPE", "WSAECONNABORTED", 10053)
    assert reset.faults == [] and reset.reset_by is None
    assert reset.raw["a_key_from_the_future"] == [1, 2]


def test_lookups_by_port_address_protocol_outcome_and_rule(report):
    assert report.connection(server_port=6379, outcome="refused").client_port == 40000
    assert report.connection(server="2001:db8::2").outcome == "reset"
    assert report.connection(server="2001:0db8:0::2").outcome == "reset"  # another spelling, same address
    assert report.connection(server="[2001:db8::2]:6379").outcome == "reset"
    assert report.connection(server=ipaddress.ip_address("2001:db8::2")).outcome == "reset"
    assert report.where(server="[2001:db8::2]:80") == []
    assert report.connection(client="198.18.77.1:40002").server_port == 8080
    assert report.connection(protocol="udp").server_port == 53
    assert report.connection(rule="refuse-redis").outcome == "refused"
    assert report.connection(client_port=41000).client == "[2001:db8::1]:41000"
    assert report.connection(outcome=lambda outcome: outcome == "open").protocol == "udp"
    assert [c.server_port for c in report.where(server="198.18.77.2")] == [6379, 8080, 53]
    assert len(report.where()) == 4
    assert report.connection(errno="ECONNRESET").client_port == 41000  # any attribute


def test_a_lookup_that_finds_none_or_many_says_what_the_report_holds(report):
    with pytest.raises(LookupError) as none:
        report.connection(server_port=5432)
    message = str(none.value)
    assert "no connection in the report since mark 'tests/test_redis.py::test_refused' match server_port=5432" in message
    assert "tcp 198.18.77.1:40000 → 198.18.77.2:6379 refused" in message
    assert "[2001:db8::1]:41000 → [2001:db8::2]:6379 reset" in message
    with pytest.raises(LookupError) as many:
        report.connection(server_port=6379)
    assert "2 connections in the report" in str(many.value)
    with pytest.raises(LookupError) as empty:
        Report.from_json({"version": 2, "connections": []}).connection(server_port=6379)
    assert "The report holds no connection" in str(empty.value)
    with pytest.raises(LookupError) as rule:
        report.rule("absent")
    assert "refuse-redis, never" in str(rule.value)


def test_an_unknown_filter_is_a_type_error(report):
    with pytest.raises(TypeError) as raised:
        report.where(port=6379)
    assert "server_port" in str(raised.value)


def test_a_version_1_report_and_missing_keys_are_read_leniently():
    old = Report.from_json({
        "version": 1,
        "connections": [{"protocol": "tcp", "client": "10.0.0.1:1", "server": "10.0.0.2:2", "outcome": "refused",
                         "errno": "ECONNREFUSED", "winsock": "WSAECONNREFUSED", "winsock_code": 10061}],
    })
    refused = old.connection(server_port=2)
    assert (refused.errno, refused.winsock, refused.winsock_code, refused.server_errno) == (
        "ECONNREFUSED", "WSAECONNREFUSED", 10061, None)
    assert refused.faults == [] and refused.reset_by is None and old.rules == [] and old.since is None
    bare = Report.from_json({})
    assert bare.connections == [] and bare.unlisted_connections == {} and bare.seed is None


def test_status_rule_lookup():
    status = netfault.Status.from_json({"rules": [{"name": "a", "action": "drop", "enabled": False, "fired": 2,
                                                   "connections": 1}]})
    assert status.rule("a") == netfault.RuleStatus("a", "drop", False, 2, 1)
    with pytest.raises(LookupError) as raised:
        status.rule("b")
    assert "the rules in force: a" in str(raised.value)
