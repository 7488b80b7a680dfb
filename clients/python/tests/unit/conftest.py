"""The unit tests test the source tree (src/), whatever is installed; they need no root and no
netfault: a fake of the control API (fake_netfault.py) answers on a Unix socket in a temporary
folder."""

from __future__ import annotations

import os
import sys
import tempfile

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
SOURCE = os.path.abspath(os.path.join(HERE, "..", "..", "src"))
if "netfault" in sys.modules and not sys.modules["netfault"].__file__.startswith(SOURCE + os.sep):
    raise pytest.UsageError(
        f"an installed netfault ({sys.modules['netfault'].__file__}) was loaded as a pytest plugin before the unit "
        "tests could load the source tree's; run them with PYTEST_DISABLE_PLUGIN_AUTOLOAD=1 (or -p no:netfault)")
sys.path.insert(0, SOURCE)
sys.path.insert(0, HERE)

from fake_netfault import FakeNetfault  # noqa: E402

import netfault  # noqa: E402


@pytest.fixture
def short_tmp():
    """A temporary folder with a short path: a Unix socket's path is at most 107 bytes."""
    with tempfile.TemporaryDirectory(prefix="nf-") as path:
        yield path


@pytest.fixture
def fake(short_tmp):
    server = FakeNetfault().serve_unix(os.path.join(short_tmp, "nf.sock"))
    server.socket_path = os.path.join(short_tmp, "nf.sock")
    yield server
    server.stop()


@pytest.fixture
def client(fake):
    return netfault.Client(fake.socket_path)
