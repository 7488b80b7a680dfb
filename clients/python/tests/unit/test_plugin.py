"""The pytest plugin, in a pytest of its own (a subprocess) against the fake: options and
environment, marks named after node ids, the report attached to a failure, and a failure, never
a skip, when no netfault answers."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import pytest

from conftest import SOURCE

TESTS = textwrap.dedent('''
    import pytest

    RULES = "rules:\\n  - name: refuse-redis\\n    match: {server_port: 6379, flags: [syn]}\\n    action: {reject: tcp-reset}\\n"

    def test_first(netfault):
        with netfault.faults(RULES) as segment:
            assert segment.mark == "test_inner.py::test_first"
            assert netfault.status().rule("refuse-redis").enabled
        with netfault.segment() as again:
            assert again.mark == "test_inner.py::test_first-2"

    @pytest.mark.parametrize("family", ["ipv4", "ipv6"])
    def test_param(netfault, family):
        with netfault.faults(RULES) as segment:
            assert segment.mark == f"test_inner.py::test_param_{family}"

    def test_session_client(netfault_session, netfault):
        assert netfault_session.address == netfault.address

    def test_fails_inside(netfault):
        with netfault.faults(RULES):
            assert False, "the system under test broke"
''')


def run_pytest(folder, *arguments, environment=None):
    env = dict(os.environ)
    for name in ("NETFAULT_CONTROL", "NETFAULT_URL", "NETFAULT_TOKEN_FILE"):
        env.pop(name, None)
    env.update(environment or {})
    env["PYTHONPATH"] = SOURCE
    env["PYTEST_DISABLE_PLUGIN_AUTOLOAD"] = "1"  # only the source tree's plugin, loaded by -p below
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "netfault.pytest_plugin", "-p", "no:cacheprovider", "-rA",
         f"--rootdir={folder}", *arguments],
        cwd=folder, env=env, capture_output=True, text=True, timeout=120,
    )


@pytest.fixture
def project(tmp_path):
    (tmp_path / "test_inner.py").write_text(TESTS)
    (tmp_path / "pytest.ini").write_text("[pytest]\n")  # the node ids start here
    return tmp_path


def test_the_fixture_names_marks_after_tests_and_cleans_up(project, fake):
    result = run_pytest(project, "--netfault-control", fake.socket_path)
    output = result.stdout + result.stderr
    assert "4 passed" in output and "1 failed" in output, output
    assert f"netfault: {fake.socket_path}" in output  # the report header
    assert fake.marks == [
        "test_inner.py::test_first", "test_inner.py::test_first-2",
        "test_inner.py::test_param_ipv4", "test_inner.py::test_param_ipv6",
        "test_inner.py::test_fails_inside",
    ]
    assert fake.rules == []  # every test's rules removed, the failing one's too
    # The failing test's report carries netfault's report of its segment.
    assert "netfault report since mark test_inner.py::test_fails_inside" in output
    assert "report since test_inner.py::test_fails_inside" in output


def test_the_environment_names_the_socket(project, fake):
    result = run_pytest(project, "-k", "test_first", environment={"NETFAULT_CONTROL": fake.socket_path})
    assert "1 passed" in result.stdout, result.stdout + result.stderr


def test_no_netfault_fails_naming_the_socket_and_never_skips(project, short_tmp):
    absent = os.path.join(short_tmp, "absent.sock")
    result = run_pytest(project, "--netfault-control", absent)
    output = result.stdout + result.stderr
    assert result.returncode == 1, output
    assert f"no netfault answers on {absent}" in output
    assert "skipped" not in output and "5 errors" in output, output


def test_url_without_a_token_file_is_a_usage_error(project):
    result = run_pytest(project, "--netfault-url", "http://127.0.0.1:1")
    output = result.stdout + result.stderr
    assert result.returncode != 0 and "--netfault-url needs --netfault-token-file" in output, output


def test_url_and_token_file_from_the_environment(project, short_tmp):
    from fake_netfault import FakeNetfault

    fake = FakeNetfault()
    url = fake.serve_tcp(token="a-token-of-sixteen-or-more")
    try:
        token_file = os.path.join(short_tmp, "token")
        with open(token_file, "w") as file:
            file.write("a-token-of-sixteen-or-more\n")
        result = run_pytest(project, "-k", "test_first",
                            environment={"NETFAULT_URL": url, "NETFAULT_TOKEN_FILE": token_file})
        assert "1 passed" in result.stdout, result.stdout + result.stderr
        assert {request.headers.get("authorization") for request in fake.requests} == {
            "Bearer a-token-of-sixteen-or-more"}
    finally:
        fake.stop()
