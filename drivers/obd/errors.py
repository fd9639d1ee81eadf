"""Exception tree of the OBD driver.

Every error carries a German message id plus named parameters (like app/errors.py) and derives
from ``app.errors.WorkshopError``, so the CLI prints it as a domain error (exit code 1) and
``ui/errors.show_error`` shows its translated text without knowing the driver::

    ObdError                    (app.errors.WorkshopError)
     ├── AdapterNotFound        the port does not exist or cannot be opened (unplugged, wrong COM port,
     │                          Wi-Fi adapter not reachable, port busy)
     ├── LinkLost               an open link broke: the port vanished, the TCP peer closed, an I/O error
     │    └── AdapterTimeout    the adapter stopped answering: no ``>`` prompt within our deadline
     ├── NotConnected           the adapter works but the vehicle does not answer (ignition off,
     │                          wrong protocol, UNABLE TO CONNECT); ``adapter`` holds what we learned
     └── ProtocolError          the device answers, but not like an ELM327 (garbage during set-up,
                                missing mandatory AT commands, unsupported protocol number)

``AdapterTimeout`` is a ``LinkLost`` on purpose: a real ELM327 always ends a reply with its prompt
(at worst ``NO DATA`` or ``STOPPED``), so silence means the adapter is gone or hung, and the caller
reacts the same way (close, back off, reconnect). Vehicle-side problems of a single request
(``NO DATA``, ``CAN ERROR``, negative responses) are never exceptions: they are reply states
(see ``drivers.obd.replies.ReplyState``).
"""

from __future__ import annotations

from typing import Any

from app.errors import WorkshopError
from app.i18n import N_


class ObdError(WorkshopError):
    """Root of all OBD driver errors; ``str(err)`` is the translated German message."""


class AdapterNotFound(ObdError):
    """The adapter port does not exist or cannot be opened."""

    def __init__(self, url: str, detail: str = "") -> None:
        super().__init__(N_("Adapter nicht gefunden ({url}) – Anschluss und Kabel prüfen."), url=url)
        self.url = url
        self.detail = detail


class LinkLost(ObdError):
    """The link to the adapter broke while it was open."""

    def __init__(
        self, message_id: str = N_("Verbindung zum Adapter verloren – Stecker prüfen."), **params: Any
    ) -> None:
        super().__init__(message_id, **params)


class AdapterTimeout(LinkLost):
    """The adapter did not finish a reply (no ``>`` prompt) within the deadline."""

    def __init__(self, command: str = "") -> None:
        super().__init__(N_("Adapter antwortet nicht – Stecker und Zündung prüfen."))
        self.command = command


class NotConnected(ObdError):
    """The adapter answers, the vehicle does not (ignition off, no ECU on the chosen protocol).

    ``adapter`` is the partial ``ConnectionInfo`` (adapter id, voltage) when connect() got that far.
    """

    def __init__(
        self,
        detail: str,
        *,
        adapter: Any = None,
        message_id: str = N_("Fahrzeug antwortet nicht ({detail}) – Zündung einschalten und erneut verbinden."),
    ) -> None:
        super().__init__(message_id, detail=detail)
        self.detail = detail
        self.adapter = adapter


class ProtocolError(ObdError):
    """The device does not behave like an ELM327 adapter."""

    def __init__(self, detail: str) -> None:
        super().__init__(N_("Unerwartete Antwort vom Adapter: {detail}"), detail=detail)
        self.detail = detail
