"""``Client.faults()`` and ``Client.segment()``: a mark, the rules in force during the block, and
exactly those rules removed after it, also when it raises."""

from __future__ import annotations

import re

import pytest

import netfault

REFUSE = """\
rules:
  - name: refuse-redis
    match: {protocol: tcp, server_port: 6379, flags: [syn]}
    action: {reject: tcp-reset}
  - name: drop-http
    match: {server_port: 80}
    action: drop
"""


def test_faults_marks_adds_and_removes_exactly_its_rules(client, fake):
    client.add("rules:\n  - name: already-there\n    match: {server_port: 1}\n    action: drop\n")
    start = len(fake.requests)
    with client.faults(REFUSE, name="my-segment") as segment:
        assert segment.mark == "my-segment" and segment.at_ms == 12.5
        assert segment.rules == ["refuse-redis", "drop-http"]
        assert [rule["name"] for rule in fake.rules] == ["already-there", "refuse-redis", "drop-http"]
        inside = fake.paths()[start:]
    # The mark first, then (YAML text: names read from the answer) the status, then the rules.
    assert inside == [("POST", "/v1/marks"), ("GET", "/v1/status"), ("POST", "/v1/rules")]
    assert fake.requests[start].json() == {"name": "my-segment"}
    assert fake.requests[start + 2].text == REFUSE
    assert fake.paths()[start + 3:] == [("DELETE", "/v1/rules/refuse-redis"), ("DELETE", "/v1/rules/drop-http")]
    assert [rule["name"] for rule in fake.rules] == ["already-there"]


def test_a_parsed_document_needs_no_status_to_know_its_names(client, fake):
    rules = [{"name": "a", "match": {"server_port": 1}, "action": "drop"}]
    with client.faults(rules) as segment:
        assert segment.rules == ["a"]
    assert [method for method, _ in fake.paths()] == ["POST", "POST", "DELETE"]
    assert fake.requests[1].json() == rules
    with client.faults({"rules": rules}) as segment:
        assert segment.rules == ["a"]


def test_the_rules_are_removed_when_the_block_raises(client, fake):
    with pytest.raises(ZeroDivisionError):
        with client.faults(REFUSE):
            assert len(fake.rules) == 2
            1 / 0
    assert fake.rules == []
    assert [path for method, path in fake.paths() if method == "DELETE"] == [
        "/v1/rules/refuse-redis", "/v1/rules/drop-http"]


def test_a_rule_removed_meanwhile_is_no_error(client, fake):
    with client.faults(REFUSE):
        client.remove("refuse-redis")
    assert fake.rules == []


def test_a_failing_cleanup_does_not_hide_the_blocks_error(client, fake):
    fake.overrides[("DELETE", "/v1/rules/refuse-redis")] = (
        409, {"error": "the firewall refused the new diversion", "details": []}, "application/json")
    with pytest.raises(KeyError) as raised:
        with client.faults(REFUSE):
            raise KeyError("the test's own failure")
    notes = getattr(raised.value, "__notes__", None)
    if notes is not None:  # Python 3.11+
        assert notes == ["netfault: the rules refuse-redis, drop-http could not all be removed: "
                         "the firewall refused the new diversion (HTTP 409)"]
    assert [rule["name"] for rule in fake.rules] == ["refuse-redis"]  # the other one was removed
    # Without an error of its own, the block sees the cleanup's.
    fake.rules = []
    with pytest.raises(netfault.Conflict):
        with client.faults(REFUSE):
            pass


def test_invalid_rules_raise_on_entry_and_leave_nothing_to_remove(client, fake):
    with pytest.raises(netfault.InvalidRules) as raised:
        with client.faults("rules:\n  - name: bad\n    match: {sever_port: 6379}\n    action: drop\n"):
            pytest.fail("the block must not run")
    assert raised.value.details[0].startswith("request:3:13: rules[0].match.sever_port:")
    assert not any(method == "DELETE" for method, _ in fake.paths())


def test_the_segments_report_is_the_report_since_its_mark(client, fake):
    with client.faults(REFUSE) as segment:
        pass
    report = segment.report()
    assert report.since == segment.mark
    assert fake.requests[-1].query == {"since": [segment.mark], "format": ["json"]}
    assert segment.report_text() == f"report since {segment.mark}\n"


def test_automatic_mark_names_are_unique(client, fake):
    names = []
    for _ in range(3):
        with client.segment() as segment:
            names.append(segment.mark)
    assert len(set(names)) == 3
    assert all(re.fullmatch(r"segment-\d+-[0-9a-f]{6}", name) for name in names), names
    assert client.marks_made == names


def test_a_tests_marks_are_named_after_its_node_id(client, fake):
    test = client.for_test("tests/lab/test_redis.py::test_refused[ipv4]")
    with test.faults(REFUSE) as first:
        pass
    with test.segment() as second:
        pass
    assert first.mark == "tests/lab/test_redis.py::test_refused_ipv4"
    assert second.mark == "tests/lab/test_redis.py::test_refused_ipv4-2"
    assert test.marks_made == [first.mark, second.mark]
    assert client.marks_made == []  # the session's client is unchanged
    # The same test again in this netfault's life (a rerun): the name is taken, another is found.
    again = client.for_test("tests/lab/test_redis.py::test_refused[ipv4]")
    with again.segment() as third:
        pass
    assert re.fullmatch(r"tests/lab/test_redis\.py::test_refused_ipv4-2-[0-9a-f]{6}", third.mark), third.mark


def test_an_explicit_mark_name_that_is_taken_is_a_conflict(client, fake):
    with client.segment("once"):
        pass
    with pytest.raises(netfault.Conflict):
        with client.segment("once"):
            pass


def test_a_segment_changes_no_rule(client, fake):
    with client.segment() as segment:
        assert segment.rules == []
    assert [method for method, _ in fake.paths()] == ["POST"]


def test_mark_name_of_any_text():
    assert netfault.mark_name("tests/x.py::T::test_y[a b-1]") == "tests/x.py::T::test_y_a_b-1"
    assert netfault.mark_name("[]") == "segment"
    assert len(netfault.mark_name("x" * 500)) == 180
