"""pytest plugin: a ``netfault`` fixture, a client of the running netfault's control API.

Installed with the package (entry point ``pytest11``: ``netfault``). Options (and environment):

    --netfault-control PATH     the control socket   (NETFAULT_CONTROL; default /run/netfault/0.sock)
    --netfault-url URL          netfault's --listen address instead, http://127.0.0.1:PORT (NETFAULT_URL)
    --netfault-token-file FILE  with --netfault-url: the token (NETFAULT_TOKEN_FILE)

``netfault.faults(rules)`` in a test names its mark after the test's node id, so the report of
each test's faults is its own; when a test fails, the report of each of its segments is
attached to the failure. When no netfault answers, a test that uses the fixture fails (it never
skips): a chaos test that did not run proved nothing.
"""

from __future__ import annotations

import os
from typing import Iterator, Optional

import pytest

from .client import Client
from .errors import NetfaultError, NotRunning

_CLIENT_OF_TEST = "_netfault_client"


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("netfault", "netfault control API (the netfault fixture)")
    group.addoption("--netfault-control", metavar="PATH", default=None,
                    help="netfault's control socket (default: $NETFAULT_CONTROL, else /run/netfault/0.sock).")
    group.addoption("--netfault-url", metavar="URL", default=None,
                    help="netfault's --listen address instead, http://127.0.0.1:PORT (default: $NETFAULT_URL).")
    group.addoption("--netfault-token-file", metavar="FILE", default=None,
                    help="with --netfault-url: the file holding the token (default: $NETFAULT_TOKEN_FILE).")


def _settings(config: pytest.Config):
    """(control, url, token_file): the command line first, then the environment."""
    control = config.getoption("netfault_control")
    url = config.getoption("netfault_url")
    token_file = config.getoption("netfault_token_file") or os.environ.get("NETFAULT_TOKEN_FILE") or None
    if control and url:
        raise pytest.UsageError("give --netfault-control or --netfault-url, not both")
    if not control and not url:
        environment_control = os.environ.get("NETFAULT_CONTROL") or None
        environment_url = os.environ.get("NETFAULT_URL") or None
        if environment_control and environment_url:
            raise pytest.UsageError("NETFAULT_CONTROL and NETFAULT_URL are both set; set one "
                                    "(or give --netfault-control or --netfault-url)")
        control, url = environment_control, environment_url
    return control, url, token_file


def _make_client(config: pytest.Config) -> Client:
    control, url, token_file = _settings(config)
    if url:
        if not token_file:
            raise pytest.UsageError("--netfault-url needs --netfault-token-file (or NETFAULT_TOKEN_FILE)")
        return Client(url=url, token_file=token_file)
    return Client(control)


def pytest_report_header(config: pytest.Config) -> Optional[str]:
    try:
        control, url, _ = _settings(config)
    except pytest.UsageError:
        return None
    return f"netfault: {url or Client(control).address}"


@pytest.fixture(scope="session")
def netfault_session(pytestconfig: pytest.Config) -> Client:
    """The session's client of the running netfault. Fails (never skips) when none answers."""
    try:
        client = _make_client(pytestconfig)
    except (OSError, ValueError) as error:
        pytest.fail(f"netfault: {error}", pytrace=False)
    try:
        client.status()
    except NotRunning as error:
        pytest.fail(f"netfault: {error}; pytest looks where --netfault-control PATH (or NETFAULT_CONTROL, "
                    "or --netfault-url with --netfault-token-file) says", pytrace=False)
    except NetfaultError as error:
        pytest.fail(f"netfault at {client.address}: {error}", pytrace=False)
    return client


@pytest.fixture
def netfault(netfault_session: Client, request: pytest.FixtureRequest) -> Iterator[Client]:
    """A client of the running netfault for this test: ``netfault.faults(rules)`` and
    ``netfault.segment()`` name their marks after the test's node id."""
    client = netfault_session.for_test(request.node.nodeid)
    setattr(request.node, _CLIENT_OF_TEST, client)
    yield client


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo) -> Iterator[None]:
    outcome = yield
    report = outcome.get_result()
    if report.when != "call" or not report.failed:
        return
    client = getattr(item, _CLIENT_OF_TEST, None)
    if client is None:
        return
    for mark in client.marks_made:
        try:
            text = client.report_text(since=mark)
        except Exception as error:  # the test's failure matters more than its report
            text = f"(the report could not be read: {error})"
        report.sections.append((f"netfault report since mark {mark}", text))
