"""The desks' printers: named IPP queues from the configuration, and sending a badge to one.

``DESK_PRINTERS`` (the environment's ``BADGES_DESK_PRINTERS``) names each queue:
``desk-1=ipp://127.0.0.1:631/printers/desk-1,desk-2=ipps://printer.local/ipp/print``.
Each desk picks one by name; nobody outside the service sees the addresses.
"""

import logging
import re
from collections.abc import Callable

from nameko.extensions import DependencyProvider

from services.badges import ipp
from shared.errors import Invalid, Unavailable

log = logging.getLogger(__name__)

PRINTER_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,39}$")
PRINTER_URI = re.compile(r"^(ipp|ipps|http|https)://[^\s/]+(/\S*)?$")
JOB_USER = "badges"  # the requesting-user-name the queues see


def parse_printers(setting: str | None) -> dict[str, str]:
    """``name=uri`` pairs, comma separated; a malformed one stops the service at start."""
    printers: dict[str, str] = {}
    for entry in filter(None, (part.strip() for part in (setting or "").split(","))):
        name, _, uri = (s.strip() for s in entry.partition("="))
        if not PRINTER_NAME.match(name) or not PRINTER_URI.match(uri):
            raise ValueError(f"DESK_PRINTERS: {entry!r} is not name=ipp://host[:port]/queue")
        if name in printers:
            raise ValueError(f"DESK_PRINTERS: {name!r} is named twice")
        printers[name] = uri
    return printers


class Printers:
    """The configured queues; ``send`` is how a document reaches one (IPP Print-Job)."""

    def __init__(self, queues: dict[str, str], send: Callable[..., int] = ipp.print_job):
        self.queues, self._send = queues, send

    def names(self) -> list[str]:
        return list(self.queues)

    def check(self, name: str) -> None:
        if name not in self.queues:
            raise Invalid(f"No desk printer is called {name!r}.", "printer",
                          code="unknown_printer")

    def send(self, name: str, pdf: bytes, job_name: str) -> int:
        """The job id the printer gave; Unavailable (503) when it is away or refuses."""
        self.check(name)
        try:
            return self._send(self.queues[name], pdf, job_name=job_name, user=JOB_USER)
        except ipp.PrinterError as exc:
            log.warning("desk printer %s: %s", name, exc)
            raise Unavailable(f"The printer {name} {exc}; try again, or print from the "
                              "browser.", "printer", code="printer_unavailable") from None


class DeskPrinters(DependencyProvider):
    """The desks' printers, read from the configuration when the service starts."""

    def setup(self):
        self.printers = Printers(parse_printers(self.container.config.get("DESK_PRINTERS")))

    def get_dependency(self, worker_ctx):
        return self.printers
