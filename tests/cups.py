"""A private CUPS for the tests: its own cupsd (configuration, spool, state and logs in a
temporary directory, its own port) with a PDF printer queue (cups-pdf) writing into a
temporary directory, and a queue that refuses every job.

cups-pdf reads its configuration from /etc/cups only (its path is compiled in), but a
queue whose device URI is ``cups-pdf:/<instance>`` reads ``/etc/cups/cups-pdf-<instance>.conf``
instead of the shared ``cups-pdf.conf``: the tests write one such file, unique to the run,
and remove it afterwards. cups-pdf is a root-only CUPS backend (mode 0700), so this needs
root, like cupsd itself; elsewhere the tests that print are skipped, saying why.
"""

import os
import shutil
import subprocess
import tempfile
import uuid
from pathlib import Path

import requests

from tests.conftest import free_port, wait_until

CUPSD = "/usr/sbin/cupsd"
LPADMIN = "/usr/sbin/lpadmin"
CUPS_PDF_BACKEND = Path("/usr/lib/cups/backend/cups-pdf")
CUPS_PDF_PPD = Path("/usr/share/ppd/cups-pdf/CUPS-PDF_opt.ppd")
CUPS_PDF_CONFIG_DIR = Path("/etc/cups")


def why_cups_cannot_run() -> str | None:
    """Why a private cupsd with a cups-pdf queue cannot run here, or None if it can."""
    missing = [str(p) for p in (Path(CUPSD), Path(LPADMIN), CUPS_PDF_BACKEND, CUPS_PDF_PPD)
               if not p.exists()]
    if missing:
        return f"CUPS or cups-pdf is not installed ({', '.join(missing)}): " \
               "scripts/system-packages.sh installs them"
    if os.geteuid() != 0:
        return "cups-pdf runs as a root-only CUPS backend and reads its configuration " \
               "from /etc/cups: the printing tests need root"
    return None


class PrivateCups:
    """cupsd on a free port of 127.0.0.1 with two queues: ``desk-pdf`` (cups-pdf, its PDFs
    in ``output``) and ``desk-refusing`` (accepts no jobs)."""

    PDF_QUEUE, REFUSING_QUEUE = "desk-pdf", "desk-refusing"

    def __init__(self):
        # Not pytest's tmp_path: the filters run as lp and cups-pdf writes as nobody, and
        # pytest's directories are private to the user running the tests.
        self.root = Path(tempfile.mkdtemp(prefix="conference-cups-"))
        self.port = free_port()
        self.instance = f"conference-test-{uuid.uuid4().hex[:10]}"
        self.output = self.root / "output"
        self.process = None

    def uri(self, queue: str) -> str:
        return f"ipp://127.0.0.1:{self.port}/printers/{queue}"

    def start(self) -> "PrivateCups":
        server_root, log = self.root / "etc", self.root / "log"
        for directory in (server_root, log, self.root / "spool", self.root / "cache",
                          self.root / "state", self.root / "cups-pdf-spool"):
            directory.mkdir()
        for directory in (self.root / "tmp", self.output):
            directory.mkdir()
            directory.chmod(0o1777)
        self.root.chmod(0o755)
        (server_root / "cupsd.conf").write_text(f"""\
Listen 127.0.0.1:{self.port}
Browsing No
DefaultAuthType None
WebInterface No
LogLevel info
<Location />
  Order allow,deny
  Allow all
</Location>
<Policy default>
  JobPrivateAccess all
  JobPrivateValues none
  SubscriptionPrivateAccess all
  SubscriptionPrivateValues none
  <Limit All>
    Order deny,allow
  </Limit>
</Policy>
""")
        (server_root / "cups-files.conf").write_text(f"""\
ServerRoot {server_root}
RequestRoot {self.root / 'spool'}
TempDir {self.root / 'tmp'}
CacheDir {self.root / 'cache'}
StateDir {self.root / 'state'}
AccessLog {log / 'access_log'}
ErrorLog {log / 'error_log'}
PageLog {log / 'page_log'}
Printcap {self.root / 'printcap'}
SystemGroup root
FileDevice No
""")
        # cups-pdf turns the job into PostScript and that into PDF with Ghostscript, as
        # nobody (the job's user is not a local account): its spool must not be cupsd's.
        self.instance_config().write_text(f"""\
Out {self.output}
AnonDirName {self.output}
Spool {self.root / 'cups-pdf-spool'}
Log {log}
""")
        self.process = subprocess.Popen(
            [CUPSD, "-f", "-c", str(server_root / "cupsd.conf"),
             "-s", str(server_root / "cups-files.conf")],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_until(self._answers, timeout=20, message="cupsd")
        self._lpadmin("-p", self.PDF_QUEUE, "-E", "-v", f"cups-pdf:/{self.instance}",
                      "-P", str(CUPS_PDF_PPD))
        self._lpadmin("-p", self.REFUSING_QUEUE, "-E", "-v", f"cups-pdf:/{self.instance}",
                      "-P", str(CUPS_PDF_PPD))
        subprocess.run(["/usr/sbin/cupsreject", "-h", f"127.0.0.1:{self.port}", "-r",
                        "closed for the test", self.REFUSING_QUEUE],
                       check=True, capture_output=True, timeout=30)
        return self

    def instance_config(self) -> Path:
        return CUPS_PDF_CONFIG_DIR / f"cups-pdf-{self.instance}.conf"

    def _answers(self) -> bool:
        assert self.process.poll() is None, self.log()
        try:
            return requests.get(f"http://127.0.0.1:{self.port}/", timeout=1) is not None
        except requests.ConnectionError:
            return False

    def _lpadmin(self, *args: str) -> None:
        subprocess.run([LPADMIN, "-h", f"127.0.0.1:{self.port}", *args], check=True,
                       capture_output=True, timeout=30)

    def printed(self, job_id: int, timeout: float = 60) -> Path:
        """The PDF the cups-pdf queue wrote for a job, once it is written whole."""
        def written():
            found = list(self.output.glob(f"*job_{job_id}.pdf"))
            return found and found[0].read_bytes().rstrip().endswith(b"%%EOF") and found[0]

        return wait_until(written, timeout, 0.2, f"print job {job_id} in {self.output}")

    def log(self) -> str:
        path = self.root / "log" / "error_log"
        return path.read_text(errors="replace")[-3000:] if path.exists() else ""

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(20)
        self.instance_config().unlink(missing_ok=True)
        shutil.rmtree(self.root, ignore_errors=True)
