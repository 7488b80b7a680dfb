"""netfault's Python client: turn fault rules on and off between test cases, and read what they
did to each connection.

    import netfault

    client = netfault.Client()                      # /run/netfault/0.sock, or $NETFAULT_CONTROL
    with client.faults('''
    rules:
      - name: refuse-redis
        match: {server_port: 6379, flags: [syn]}
        action: {reject: tcp-reset}
    ''') as segment:
        ...                                         # connections to 6379 are refused
    connection = segment.report().connection(server_port=6379)
    assert connection.outcome == "refused" and connection.winsock_code == 10061

With pytest, the ``netfault`` fixture is such a client (``--netfault-control PATH``).
"""

from .client import Client, Segment, __version__, default_control_path, mark_name
from .errors import Conflict, InvalidRules, NetfaultError, NotFound, NotRunning, Unauthorized
from .report import Connection, Fault, Mark, Report, RuleResult, RuleStatus, Status, parse_endpoint

__all__ = [
    "Client",
    "Segment",
    "Report",
    "Connection",
    "Fault",
    "RuleResult",
    "RuleStatus",
    "Status",
    "Mark",
    "NetfaultError",
    "InvalidRules",
    "Conflict",
    "NotFound",
    "Unauthorized",
    "NotRunning",
    "default_control_path",
    "mark_name",
    "parse_endpoint",
    "__version__",
]
