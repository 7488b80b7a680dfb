"""The errors a netfault client raises.

Every refusal of the control API is a 4xx whose JSON body is ``{"error": "one line", "details":
[...]}``; the client raises it as a :class:`NetfaultError` (or the subclass of its status) with
``status``, ``error`` and ``details``. :class:`NotRunning` means no netfault answered at all.
"""

from __future__ import annotations

from typing import Iterable, List, Optional

__all__ = ["NetfaultError", "InvalidRules", "Conflict", "NotFound", "Unauthorized", "NotRunning"]


class NetfaultError(Exception):
    """netfault refused a request: ``status`` (the HTTP status), ``error`` (its one-line
    message) and ``details`` (a list of strings, maybe empty)."""

    def __init__(self, status: Optional[int], error: str, details: Iterable[str] = ()) -> None:
        self.status = status
        self.error = error
        self.details: List[str] = [str(detail) for detail in details]
        super().__init__(status, error, self.details)

    def __str__(self) -> str:
        text = self.error if self.status is None else f"{self.error} (HTTP {self.status})"
        if self.details:
            text += "".join(f"\n  {detail}" for detail in self.details)
        return text

    def __repr__(self) -> str:
        return f"{type(self).__name__}(status={self.status!r}, error={self.error!r}, details={self.details!r})"


class InvalidRules(NetfaultError):
    """A rule file was refused (400): ``details`` lists every problem as ``netfault check`` prints
    them, the request's body standing for the file: ``request:LINE:COL: path: message``."""


class Conflict(NetfaultError):
    """409: a rule name already in force, a mark name already used, or a rule file that sets a
    setting fixed for the life of the process (``queue``, ``queues``, ``hooks``...)."""


class NotFound(NetfaultError):
    """404: no rule of that name, no mark of that name, or no such path."""


class Unauthorized(NetfaultError):
    """401: the TCP API's bearer token is missing or wrong."""


class NotRunning(NetfaultError, ConnectionError):
    """No netfault answers where the client looked: ``address`` (the socket path or URL tried)
    and ``reason``. Also a :class:`ConnectionError`."""

    def __init__(self, address: str, reason: str) -> None:
        self.address = address
        self.reason = reason
        NetfaultError.__init__(self, None, f"no netfault answers on {address}: {reason}")

    def __reduce__(self):  # picklable (pytest-xdist sends exceptions between processes)
        return (type(self), (self.address, self.reason))
