"""The project's SMTP sink (``conference mail-sink``) in its own process, for tests that
read the mail the services send."""

import email
import email.policy
import socket
import subprocess
import sys

from tests.conftest import ROOT, free_port, wait_until

BOUNCING_DOMAIN = "bounce.example.org"


class MailSink:
    """The SMTP sink in its own process; it can be stopped and started again."""

    def __init__(self, directory):
        self.directory = directory
        self.port = free_port()
        self.process = None

    def start(self):
        self.process = subprocess.Popen(
            [sys.executable, "-m", "services.cli", "mail-sink", "--port", str(self.port),
             "--dir", str(self.directory), "--refuse", BOUNCING_DOMAIN],
            cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

        def listening():
            with socket.socket() as sock:
                return sock.connect_ex(("127.0.0.1", self.port)) == 0

        wait_until(listening, timeout=20, message="the mail sink")
        return self

    def stop(self):
        self.process.terminate()
        self.process.wait(10)

    def messages(self) -> list:
        """The emails received so far (not one the sink is still writing: a dot file)."""
        return [email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
                for path in sorted(self.directory.glob("[!.]*.eml"))]

    def wait_for(self, count: int, timeout: float = 20) -> list:
        return wait_until(lambda: len(found := self.messages()) >= count and found, timeout,
                          message=f"{count} email(s)")
