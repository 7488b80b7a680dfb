"""Faults switched on and off between test cases of a real Redis client session, through a real
netfault's control API, and each test's own report read back.

Run in file order: test_ping_works_again_after_the_fault checks that the previous test's refused
connection is not in its segment.
"""

from __future__ import annotations

import re
import shutil
import subprocess

import pytest

import netfault as nf  # the tests' parameter `netfault` is the fixture, a client
from conftest import PONG, REDIS_HOST, REDIS_PORT, connect, eventually, ping

#: Outcomes of a connection both sides closed with a FIN (the contract lists "completed"; the
#: report's table and netfault's ConnectionOutcome call it "closed").
CLOSED = ("closed", "completed")

#: What the previous tests left for the next ones to check.
seen = {}


def rules(name: str, match: str, action: str) -> str:
    return f"rules:\n  - name: {name}\n    match: {match}\n    action: {action}\n"


def refuse(name: str) -> str:
    """A firewall that rejects connections to Redis with an RST."""
    return rules(name, f"{{protocol: tcp, server_port: {REDIS_PORT}, flags: [syn]}}", "{reject: tcp-reset}")


def not_open(port: int):
    """The connection from ``port`` ended (its last FIN or RST reached netfault)."""
    def holds(report: nf.Report) -> bool:
        return any(c.outcome != "open" for c in report.where(server_port=REDIS_PORT, client_port=port))
    return holds


def test_ping_without_faults(netfault):
    with netfault.segment() as segment:
        with connect() as sock:
            port = sock.getsockname()[1]
            assert ping(sock) == PONG
    report = eventually(segment.report, not_open(port))
    assert report.since == segment.mark and report.stop_reason == "running"
    connection = report.connection(server_port=REDIS_PORT)
    assert connection.client_port == port and connection.server_address == REDIS_HOST
    assert connection.outcome in CLOSED, connection
    assert connection.faults == [] and connection.errno is None and connection.winsock_code is None
    assert connection.seen_from_start is True and connection.reset_by is None
    assert report.rules == []


def test_refused_by_a_firewall_that_rejects(netfault):
    with netfault.faults(refuse("refuse-redis")) as segment:
        assert segment.rules == ["refuse-redis"]
        with pytest.raises(ConnectionRefusedError):
            connect()
        report = segment.report()
    connection = report.connection(server_port=REDIS_PORT)
    assert connection.outcome == "refused", connection
    assert (connection.errno, connection.winsock, connection.winsock_code) == (
        "ECONNREFUSED", "WSAECONNREFUSED", 10061)
    assert connection.server_errno is None
    assert connection.rules == ["refuse-redis"] and connection.faults[0].action == "reject"
    assert connection.reset_by == {"sender": "netfault", "rule": "refuse-redis", "toward": "client"}
    assert report.rule("refuse-redis").fired == 1 and report.rule("refuse-redis").connections == 1
    assert report.rule("refuse-redis").passed is True
    seen["refused_client_port"] = connection.client_port
    seen["refused_mark"] = segment.mark
    # Gone with the block.
    assert "refuse-redis" not in [rule.name for rule in netfault.status().rules]


def test_ping_works_again_after_the_fault(netfault):
    with netfault.segment() as segment:
        with connect() as sock:
            port = sock.getsockname()[1]
            assert ping(sock) == PONG
    report = eventually(segment.report, not_open(port))
    # Only this test's connection: the previous test's refused one began before this mark.
    assert [c.client_port for c in report.where(server_port=REDIS_PORT)] == [port]
    assert report.where(outcome="refused") == []
    assert report.connection(server_port=REDIS_PORT).outcome in CLOSED
    assert all(rule.name != "refuse-redis" for rule in report.rules)
    if "refused_client_port" in seen and seen["refused_client_port"] != port:
        assert report.where(client_port=seen["refused_client_port"]) == []
        # ... and it is still in the previous test's segment.
        earlier = netfault.report(since=seen["refused_mark"])
        assert earlier.connection(client_port=seen["refused_client_port"]).outcome == "refused"


def test_a_fault_added_while_a_connection_is_open_applies_to_it(netfault):
    name = "reset-on-ping"
    with netfault.segment() as segment:
        sock = connect()
        try:
            port = sock.getsockname()[1]
            assert ping(sock) == PONG  # before the fault: answered
            with netfault.faults(rules(name, f'{{server_port: {REDIS_PORT}, from: client, payload: "PING"}}',
                                       "{reset: both}")) as fault:
                with pytest.raises((ConnectionResetError, EOFError)):
                    ping(sock)
                during = fault.report()
        finally:
            sock.close()
    report = eventually(segment.report, lambda r: any(c.outcome == "reset" for c in r.where(client_port=port)))
    connection = report.connection(server_port=REDIS_PORT, client_port=port)
    assert connection.outcome == "reset", connection
    assert (connection.errno, connection.winsock, connection.winsock_code) == ("ECONNRESET", "WSAECONNRESET", 10054)
    assert connection.reset_by == {"sender": "netfault", "rule": name, "toward": "both"}
    assert connection.rules == [name] and connection.faults[0].count == 1
    # The fault's own segment began after the connection did: it counts the rule's work, and
    # lists no connection (a segment lists the connections first seen after its mark).
    assert during.rule(name).fired == 1
    assert during.where(client_port=port) == []


def test_redis_cli_times_out_when_a_firewall_drops_the_syns(netfault):
    assert shutil.which("redis-cli"), "redis-cli is needed (Debian: redis-server's package, or redis-tools)"
    name = "drop-redis-syn"
    with netfault.faults(rules(name, f"{{server_port: {REDIS_PORT}, flags: [syn]}}", "drop")) as segment:
        # redis-cli 7.0 has no connect timeout of its own: `timeout` ends it after 3 s, while the
        # kernel still retransmits the SYN (after 1 s, then 2 s more).
        command = ["redis-cli", "-h", REDIS_HOST, "-p", str(REDIS_PORT), "PING"]
        result = subprocess.run(["timeout", "-k", "2", "3"] + command, stdin=subprocess.DEVNULL,
                                capture_output=True, text=True, timeout=30)
        report = segment.report()
    assert result.returncode != 0 and "PONG" not in result.stdout, (result.returncode, result.stdout, result.stderr)
    connection = report.connection(server_port=REDIS_PORT)
    # No SYN-ACK ever reached the client: what its connect() gets when it gives up.
    assert connection.outcome == "connect-timeout", connection
    assert (connection.errno, connection.winsock, connection.winsock_code) == ("ETIMEDOUT", "WSAETIMEDOUT", 10060)
    assert connection.rules == [name] and connection.faults[0].count >= 2  # the SYN and its retransmission(s)
    assert report.rule(name).fired == connection.faults[0].count and report.rule(name).connections == 1


def test_disable_lifts_a_fault_and_enable_brings_it_back(netfault):
    name = "refuse-redis-toggled"
    with netfault.faults(refuse(name)) as segment:
        with pytest.raises(ConnectionRefusedError):
            connect()

        assert [rule.enabled for rule in netfault.disable(name) if rule.name == name] == [False]
        assert netfault.status().rule(name).enabled is False
        with connect() as sock:
            port = sock.getsockname()[1]
            assert ping(sock) == PONG

        assert [rule.enabled for rule in netfault.enable(name) if rule.name == name] == [True]
        with pytest.raises(ConnectionRefusedError):
            connect()
        report = eventually(segment.report, not_open(port))
    outcomes = [(c.outcome, c.rules) for c in report.where(server_port=REDIS_PORT)]
    assert [outcome for outcome, _ in outcomes] in (["refused", o, "refused"] for o in CLOSED), outcomes
    assert [rules for _, rules in outcomes] == [[name], [], [name]]
    assert report.connection(client_port=port).faults == []
    assert report.rule(name).fired == 2 and report.rule(name).connections == 2


def test_status_counts_what_each_rule_did(netfault):
    name = "refuse-redis-counted"
    with netfault.faults(refuse(name)) as segment:
        status = netfault.status()
        rule = status.rule(name)
        assert (rule.action, rule.enabled, rule.fired, rule.connections) == ("reject", True, 0, 0)
        assert status.api_version == 1 and segment.mark in status.marks
        assert name in netfault.rules() and name in str(netfault.rules_json())
        for _ in range(3):
            with pytest.raises(ConnectionRefusedError):
                connect()
        status = eventually(netfault.status, lambda s: s.rule(name).fired >= 3)
        assert (status.rule(name).fired, status.rule(name).connections) == (3, 3)
        assert status.packets and status.packets > 0
        metrics = netfault.metrics()
        fired = re.search(r'^netfault_rule_fired_total\{rule="%s"\} ([0-9.e+]+)$' % re.escape(name), metrics, re.M)
        assert fired and float(fired.group(1)) == 3, metrics
        assert re.search(r"^netfault_packets_total\{", metrics, re.M), metrics
    assert name not in [rule.name for rule in netfault.status().rules]


def test_an_invalid_rule_file_is_refused_with_where_and_why(netfault):
    before = [rule.name for rule in netfault.status().rules]
    bad = rules("misspelt", f"{{sever_port: {REDIS_PORT}}}", "drop")
    with pytest.raises(nf.InvalidRules) as raised:
        netfault.add(bad)
    error = raised.value
    assert error.status == 400 and error.details, error
    # As `netfault check` prints it, the request's body standing for the file: line 3, `match:`.
    assert re.match(r"^request:3:\d+: rules\[0\]\.match\.sever_port: ", error.details[0]), error.details
    assert "server_port" in error.details[0]
    with pytest.raises(nf.InvalidRules):
        with netfault.faults(bad):
            pytest.fail("the block must not run")
    assert [rule.name for rule in netfault.status().rules] == before


def test_other_refusals_name_their_cause(netfault):
    name = "refuse-redis-twice"
    with netfault.faults(refuse(name)) as segment:
        with pytest.raises(nf.Conflict):
            netfault.add(refuse(name))  # a name already in force
        with pytest.raises(nf.Conflict):
            netfault.mark(segment.mark)  # a mark name used before
    with pytest.raises(nf.NotFound):
        netfault.remove(name)  # removed with the block
    with pytest.raises(nf.NotFound):
        netfault.report(since="no-such-mark-was-made")

