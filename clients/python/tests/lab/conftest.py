"""The lab suite: a real Redis server driven through a real netfault, faults toggled between test
cases through the control API with the pytest plugin's ``netfault`` fixture.

Scripts/test-python-client builds the lab (a client and a server network namespace, Redis on
198.18.77.2:6379, netfault applied in the client's namespace with no rules) and runs this suite
in the client's namespace. It takes over the netfault it is given: it replaces its rule file.
"""

from __future__ import annotations

import os
import socket
import time
from typing import Callable, TypeVar

import pytest

import netfault

REDIS_HOST = os.environ.get("REDIS_HOST", "198.18.77.2")
REDIS_PORT = int(os.environ.get("REDIS_PORT", "6379"))
PONG = b"+PONG\r\n"

T = TypeVar("T")


def connect(timeout: float = 5.0) -> socket.socket:
    """A new TCP connection to Redis."""
    return socket.create_connection((REDIS_HOST, REDIS_PORT), timeout=timeout)


def read_line(sock: socket.socket) -> bytes:
    """One reply line of Redis's (``+PONG\\r\\n``); EOFError when the connection ends first."""
    data = b""
    while not data.endswith(b"\r\n"):
        chunk = sock.recv(4096)
        if not chunk:
            raise EOFError(f"the connection ended after {data!r}")
        data += chunk
    return data


def ping(sock: socket.socket) -> bytes:
    sock.sendall(b"PING\r\n")
    return read_line(sock)


def eventually(read: Callable[[], T], holds: Callable[[T], bool], timeout: float = 5.0) -> T:
    """``read()`` again until ``holds`` of it, for at most ``timeout`` seconds; then the last
    reading, for the test's assertion to show. For what the last packets of a connection
    settle (a FIN on its way) when the report is read."""
    deadline = time.monotonic() + timeout
    value = read()
    while not holds(value) and time.monotonic() < deadline:
        time.sleep(0.05)
        value = read()
    return value


@pytest.fixture(scope="session", autouse=True)
def redis_ready() -> None:
    """Redis answers a PING (the runner waited for it already; this says so when it did not)."""
    deadline = time.monotonic() + 15
    while True:
        try:
            with connect(timeout=2) as sock:
                if ping(sock) == PONG:
                    return
        except (OSError, EOFError) as error:
            if time.monotonic() > deadline:
                pytest.fail(f"Redis at {REDIS_HOST}:{REDIS_PORT} does not answer a PING: {error}", pytrace=False)
        time.sleep(0.1)


@pytest.fixture(scope="session", autouse=True)
def observed_redis(netfault_session: netfault.Client, redis_ready: None) -> None:
    """netfault diverts only what some rule could match: with no rules, it would see nothing of a
    connection that no fault touches. Observing Redis's port (PUT: ``observe:`` is a rule file's,
    not a rule's) makes it report every connection to Redis, faulted or not, from its SYN."""
    netfault_session.load(f"rules: []\nobserve:\n  - {{server_port: {REDIS_PORT}}}\n")
