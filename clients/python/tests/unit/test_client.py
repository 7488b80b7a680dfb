"""What the client sends (methods, paths, bodies, headers) and how it reads the answers and errors."""

from __future__ import annotations

import json
import os
import socket

import pytest

import netfault
from fake_netfault import FakeNetfault


def test_status_is_a_GET_with_json_accepted_and_parsed(client, fake):
    status = client.status()
    assert fake.paths() == [("GET", "/v1/status")]
    request = fake.requests[0]
    assert request.headers["accept"] == "application/json"
    assert request.headers["host"] == "localhost"
    assert "authorization" not in request.headers
    assert request.body == b""
    assert status.api_version == 1 and status.pid == 4242 and status.hooks == ["output", "input"]
    assert status.rules == [] and status.marks == [] and status.escaped == 0 and status.namespace is None
    assert status.raw["a_key_from_the_future"] is True


def test_rules_as_yaml_and_as_json(client, fake):
    client.add("rules:\n  - name: a\n    match: {server_port: 1}\n    action: drop\n")
    assert client.rules() == "rules:\n  - name: a\n"
    assert client.rules_json() == {"rules": [{"name": "a"}]}
    gets = [request for request in fake.requests if request.method == "GET"]
    assert [request.headers["accept"] for request in gets] == ["application/yaml", "application/json"]


def test_load_puts_the_file_as_yaml_and_a_document_as_json(client, fake):
    text = "rules:\n  - name: one\n    match: {server_port: 6379}\n    action: drop\n"
    rules = client.load(text)
    assert [rule.name for rule in rules] == ["one"] and rules[0].enabled and rules[0].action == "drop"
    put = fake.requests[-1]
    assert (put.method, put.path, put.text) == ("PUT", "/v1/rules", text)
    assert put.headers["content-type"] == "application/yaml"
    client.load({"rules": [{"name": "two", "match": {"server_port": 1}, "action": "drop"}]})
    put = fake.requests[-1]
    assert put.headers["content-type"] == "application/json"
    assert put.json() == {"rules": [{"name": "two", "match": {"server_port": 1}, "action": "drop"}]}
    assert [rule["name"] for rule in fake.rules] == ["two"]


def test_add_posts_and_remove_deletes_each_name_escaped(client, fake):
    client.add([{"name": "a.b", "match": {"server_port": 1}, "action": "drop"},
                {"name": "c_d-e", "match": {"server_port": 1}, "action": "drop"}])
    assert fake.requests[-1].method == "POST" and fake.requests[-1].path == "/v1/rules"
    assert fake.requests[-1].json()[0]["name"] == "a.b"
    left = client.remove("a.b", "c_d-e")
    assert left == []
    assert fake.paths()[-2:] == [("DELETE", "/v1/rules/a.b"), ("DELETE", "/v1/rules/c_d-e")]
    with pytest.raises(netfault.NotFound):
        client.remove("odd name/with slash")
    assert fake.paths()[-1] == ("DELETE", "/v1/rules/odd%20name%2Fwith%20slash")
    with pytest.raises(TypeError):
        client.remove()


def test_enable_and_disable_patch_exactly_the_enabled_flag(client, fake):
    client.add("rules:\n  - name: r\n    match: {server_port: 1}\n    action: drop\n")
    rules = client.disable("r")
    assert rules[0].enabled is False
    patch = fake.requests[-1]
    assert (patch.method, patch.path) == ("PATCH", "/v1/rules/r")
    assert patch.json() == {"enabled": False} and patch.headers["content-type"] == "application/json"
    assert client.enable("r")[0].enabled is True
    assert fake.requests[-1].json() == {"enabled": True}


def test_reset_posts_an_empty_body(client, fake):
    client.add("rules:\n  - name: r\n")
    assert client.reset() == []
    request = fake.requests[-1]
    assert (request.method, request.path, request.body) == ("POST", "/v1/reset", b"")
    assert request.headers["content-length"] == "0"


def test_mark_posts_its_name_and_refuses_a_bad_name_itself(client, fake):
    mark = client.mark("tests/test_x.py::test_y")
    assert mark == netfault.Mark("tests/test_x.py::test_y", 12.5)
    request = fake.requests[-1]
    assert (request.method, request.path) == ("POST", "/v1/marks")
    assert request.json() == {"name": "tests/test_x.py::test_y"}
    assert request.headers["content-type"] == "application/json"
    with pytest.raises(netfault.Conflict) as conflict:
        client.mark("tests/test_x.py::test_y")
    assert conflict.value.status == 409
    count = len(fake.requests)
    for bad in ("", "has space", "x" * 201, "test[param]"):
        with pytest.raises(ValueError):
            client.mark(bad)
    assert len(fake.requests) == count


def test_report_since_a_mark_is_escaped_in_the_query(client, fake):
    client.mark("tests/a.py::test_b")
    report = client.report(since="tests/a.py::test_b")
    request = fake.requests[-1]
    assert request.target == "/v1/report?since=tests%2Fa.py%3A%3Atest_b&format=json"
    assert request.query == {"since": ["tests/a.py::test_b"], "format": ["json"]}
    assert report.since == "tests/a.py::test_b"
    client.report()
    assert fake.requests[-1].target == "/v1/report?format=json"
    assert client.report_text(since="tests/a.py::test_b") == "report since tests/a.py::test_b\n"
    assert fake.requests[-1].query["format"] == ["text"]
    assert client.report_text(format="junit") == "<testsuites/>\n"
    assert fake.requests[-1].headers["accept"] == "application/xml"
    with pytest.raises(ValueError):
        client.report_text(format="html")
    with pytest.raises(netfault.NotFound):
        client.report(since="never-made")


def test_metrics(client, fake):
    assert client.metrics() == fake.metrics_text
    assert fake.paths()[-1] == ("GET", "/metrics")


@pytest.mark.parametrize(
    "status, error_class",
    [(400, netfault.InvalidRules), (401, netfault.Unauthorized), (404, netfault.NotFound),
     (409, netfault.Conflict), (413, netfault.NetfaultError), (405, netfault.NetfaultError)],
)
def test_errors_of_rule_bodies_map_to_their_class(client, fake, status, error_class):
    fake.overrides[("POST", "/v1/rules")] = (status, {"error": "one line", "details": ["a", "b"]}, "application/json")
    with pytest.raises(netfault.NetfaultError) as raised:
        client.add("rules: []")
    assert type(raised.value) is error_class
    assert (raised.value.status, raised.value.error, raised.value.details) == (status, "one line", ["a", "b"])
    assert str(raised.value) == f"one line (HTTP {status})\n  a\n  b"


def test_invalid_rules_carry_the_checkers_details(client, fake):
    with pytest.raises(netfault.InvalidRules) as raised:
        client.add("rules:\n  - name: x\n    match: {sever_port: 1}\n    action: drop\n")
    assert raised.value.details == [FakeNetfault.INVALID_DETAIL]
    with pytest.raises(netfault.InvalidRules):
        client.load("rules:\n  - name: x\n    match: {sever_port: 1}\n    action: drop\n")


def test_a_400_outside_rule_bodies_is_not_invalid_rules(client, fake):
    fake.overrides[("PATCH", "/v1/rules/r")] = (400, {"error": "the body must be {\"enabled\": true}", "details": []},
                                                "application/json")
    with pytest.raises(netfault.NetfaultError) as raised:
        client.enable("r")
    assert type(raised.value) is netfault.NetfaultError and raised.value.status == 400


def test_an_answer_that_is_not_json_is_still_an_error(client, fake):
    fake.overrides[("GET", "/v1/status")] = (500, "internal trouble\n", "text/plain")
    with pytest.raises(netfault.NetfaultError) as raised:
        client.status()
    assert (raised.value.status, raised.value.error, raised.value.details) == (500, "internal trouble", [])


def test_no_socket_is_not_running_naming_the_path(short_tmp):
    path = os.path.join(short_tmp, "absent.sock")
    with pytest.raises(netfault.NotRunning) as raised:
        netfault.Client(path).status()
    assert isinstance(raised.value, ConnectionError) and isinstance(raised.value, netfault.NetfaultError)
    assert raised.value.address == path
    assert path in str(raised.value) and "does not exist" in str(raised.value)


def test_a_socket_nobody_listens_on_is_not_running(short_tmp):
    path = os.path.join(short_tmp, "dead.sock")
    dead = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    dead.bind(path)  # bound, never listening: what a killed netfault leaves
    try:
        with pytest.raises(netfault.NotRunning) as raised:
            netfault.Client(path).status()
        assert path in str(raised.value) and "nothing listens" in str(raised.value)
    finally:
        dead.close()


def test_a_server_that_hangs_is_not_running_after_the_timeout(short_tmp):
    path = os.path.join(short_tmp, "mute.sock")
    mute = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    mute.bind(path)
    mute.listen(1)  # accepts (in the backlog) and never answers
    try:
        with pytest.raises(netfault.NotRunning) as raised:
            netfault.Client(path, timeout=0.3).status()
        assert "no answer within 0.3 s" in str(raised.value)
    finally:
        mute.close()


def test_default_path_follows_the_queue_and_the_environment(monkeypatch):
    monkeypatch.delenv("NETFAULT_CONTROL", raising=False)
    assert netfault.Client().address == "/run/netfault/0.sock"
    assert netfault.Client(queue=3).address == "/run/netfault/3.sock"
    monkeypatch.setenv("NETFAULT_CONTROL", "/tmp/elsewhere.sock")
    assert netfault.Client().address == "/tmp/elsewhere.sock"
    assert netfault.Client("/tmp/given.sock").address == "/tmp/given.sock"


def test_tcp_with_a_bearer_token_from_a_file(short_tmp):
    fake = FakeNetfault()
    url = fake.serve_tcp(token="s3cret-token-0123456789")
    try:
        token_file = os.path.join(short_tmp, "token")
        with open(token_file, "w") as file:
            file.write("  s3cret-token-0123456789\n")
        client = netfault.Client(url=url + "/", token_file=token_file)
        assert client.status().api_version == 1
        assert fake.requests[-1].headers["authorization"] == "Bearer s3cret-token-0123456789"
        assert fake.requests[-1].path == "/v1/status"
        with pytest.raises(netfault.Unauthorized) as raised:
            netfault.Client(url=url, token="wrong").status()
        assert raised.value.status == 401
    finally:
        fake.stop()


def test_tcp_nobody_listening_is_not_running_naming_the_url():
    probe = socket.socket()
    probe.bind(("127.0.0.1", 0))
    port = probe.getsockname()[1]
    probe.close()
    url = f"http://127.0.0.1:{port}"
    with pytest.raises(netfault.NotRunning) as raised:
        netfault.Client(url=url, token="t").status()
    assert url in str(raised.value)


def test_arguments_that_do_not_go_together():
    with pytest.raises(ValueError):
        netfault.Client("/tmp/x.sock", url="http://127.0.0.1:1")
    with pytest.raises(ValueError):
        netfault.Client(url="http://127.0.0.1:1")  # no token
    with pytest.raises(ValueError):
        netfault.Client(url="ftp://127.0.0.1:1", token="t")
    with pytest.raises(TypeError):
        netfault.Client("/tmp/x.sock").faults(42)


def test_json_rule_text_is_sent_as_json(client, fake):
    client.add(json.dumps({"rules": [{"name": "j", "match": {"server_port": 1}, "action": "drop"}]}))
    assert fake.requests[-1].headers["content-type"] == "application/json"
    client.add("[{name: k, match: {server_port: 1}, action: drop}]")  # YAML flow style, not JSON
    assert fake.requests[-1].headers["content-type"] == "application/yaml"
