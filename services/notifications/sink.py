"""A local SMTP server that keeps every message as a file: the mailbox of ``make run``
(and of the tests). It refuses addresses under the reserved ``.invalid`` domain, and
under any domain it is told to refuse, with a permanent error, as a real server
refuses a mailbox that does not exist: a way to rehearse bounces."""

import time
import uuid
from pathlib import Path

from aiosmtpd.controller import Controller


class MailSink:
    def __init__(self, directory: Path, refused_domains: tuple[str, ...] = ()):
        self.directory = Path(directory)
        self.directory.mkdir(parents=True, exist_ok=True)
        self.refused = tuple(f".{d.lower()}" for d in ("invalid", *refused_domains))

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):  # noqa: N802
        if f".{address.lower().rpartition('@')[2]}".endswith(self.refused):
            return "550 5.1.1 No such mailbox"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):  # noqa: N802
        # Named by arrival to the nanosecond, so that sorting the names orders the mail.
        now = time.time_ns()
        arrived = time.strftime("%Y%m%dT%H%M%S", time.localtime(now // 10**9))
        name = f"{arrived}.{now % 10**9:09d}-{uuid.uuid4().hex[:8]}.eml"
        (self.directory / f".{name}").write_bytes(envelope.original_content)
        (self.directory / f".{name}").rename(self.directory / name)  # readers see it whole
        return "250 Message accepted for delivery"


def serve(host: str, port: int, directory: Path, refused_domains=()) -> Controller:
    controller = Controller(MailSink(directory, tuple(refused_domains)), hostname=host,
                            port=port, enable_SMTPUTF8=True)
    controller.start()
    return controller
