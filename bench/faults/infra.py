"""What the fault suite runs, each as a process it can stop and start again: a PostgreSQL
cluster and a RabbitMQ node of its own (it restarts them, so they must never be the
machine's), localstripe, the mail sink, and every service instance."""

import contextlib
import glob
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import requests

from services.cli import free_port, localstripe_command, wait_for

ROOT = Path(__file__).resolve().parents[2]


def wait_until(predicate, timeout: float, what: str, interval: float = 0.2):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if value := predicate():
            return value
        time.sleep(interval)
    raise RuntimeError(f"timed out after {timeout:.0f} s waiting for {what}")


def listening(port: int) -> bool:
    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", port)) == 0


class Postgres:
    """A throwaway PostgreSQL cluster in ``directory``, on a free port. As root, its
    programs run as the ``postgres`` user (initdb refuses root)."""

    def __init__(self, directory: Path):
        self.directory = directory
        self.data = directory / "data"
        self.port = free_port()
        found = shutil.which("pg_ctl") or max(
            glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"),
            key=lambda path: int(path.split("/")[4]), default=None)
        if found is None:
            raise SystemExit("PostgreSQL's pg_ctl was not found")
        self.bin = Path(found).resolve().parent  # not a symlink's folder
        directory.mkdir()
        if os.geteuid() == 0:
            shutil.chown(directory, "postgres")

    def _run(self, program: str, *args: str) -> None:
        command = [str(self.bin / program), *args]
        if os.geteuid() == 0:
            command = ["runuser", "-u", "postgres", "--", *command]
        subprocess.run(command, check=True, timeout=120, stdout=subprocess.DEVNULL)

    def create(self) -> None:
        self._run("initdb", "-D", str(self.data), "-A", "trust", "-U", "postgres", "-E", "UTF8",
                  "--no-sync")
        self.start()

    def start(self) -> None:
        # 8 instances with up to 30 connections each; fsync off: the suite never crashes
        # the machine, only the server.
        options = (f"-p {self.port} -k {self.directory} -c listen_addresses=127.0.0.1 "
                   "-c max_connections=400 -c fsync=off")
        self._run("pg_ctl", "-D", str(self.data), "-l", str(self.directory / "log"), "-w",
                  "-o", options, "start")

    def stop(self) -> None:
        self._run("pg_ctl", "-D", str(self.data), "-m", "fast", "-w", "stop")

    def url(self, database: str) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{database}"


class RabbitMQ:
    """A RabbitMQ node of its own: its own name, ports, files and Erlang cookie (in a
    home directory of its own: as root, the ``/usr/sbin`` wrappers would switch to the
    ``rabbitmq`` user and the machine node's cookie), no plugins. It shares only epmd,
    which keeps the name and port of every node on the host."""

    def __init__(self, directory: Path):
        self.directory = directory
        self.port, dist_port = free_port(), free_port()
        self.node = f"faults-{os.getpid()}@localhost"
        scripts = Path("/usr/lib/rabbitmq/bin")
        if not scripts.is_dir():
            found = shutil.which("rabbitmq-server")
            if found is None:
                raise SystemExit("rabbitmq-server was not found")
            scripts = Path(found).resolve().parent
        self.scripts = scripts
        directory.mkdir()
        cookie = directory / ".erlang.cookie"
        cookie.write_text(secrets.token_hex(16))
        cookie.chmod(0o400)
        (directory / "enabled_plugins").write_text("[].\n")
        (directory / "rabbitmq.conf").write_text(f"listeners.tcp.local = 127.0.0.1:{self.port}\n")
        (directory / "rabbitmq-env.conf").write_text("")  # not the machine's
        self.env = {
            **os.environ, "HOME": str(directory), "RABBITMQ_NODENAME": self.node,
            "RABBITMQ_NODE_PORT": str(self.port), "RABBITMQ_DIST_PORT": str(dist_port),
            "RABBITMQ_MNESIA_BASE": str(directory / "mnesia"),
            "RABBITMQ_LOG_BASE": str(directory / "log"),
            "RABBITMQ_CONFIG_FILE": str(directory / "rabbitmq.conf"),
            "RABBITMQ_CONF_ENV_FILE": str(directory / "rabbitmq-env.conf"),
            "RABBITMQ_ENABLED_PLUGINS_FILE": str(directory / "enabled_plugins"),
            "ERL_EPMD_ADDRESS": "127.0.0.1",
            "ERL_FLAGS": "-kernel inet_dist_use_interface {127,0,0,1}"}
        self.pid = None

    @property
    def amqp_uri(self) -> str:
        return f"pyamqp://guest:guest@127.0.0.1:{self.port}//"

    def ctl(self, *args: str, check: bool = True) -> str:
        done = subprocess.run([str(self.scripts / "rabbitmqctl"), "-n", self.node, "-q", *args],
                              env=self.env, cwd=self.directory, capture_output=True, text=True,
                              timeout=120)
        if check and done.returncode:
            raise RuntimeError(f"rabbitmqctl {' '.join(args)}: {done.stderr.strip()}")
        return done.stdout.strip()

    def start(self) -> None:
        subprocess.run([str(self.scripts / "rabbitmq-server"), "-detached"], env=self.env,
                       cwd=self.directory, check=True, timeout=60)
        # the node registers with epmd a moment after -detached returns
        wait_until(lambda: subprocess.run(
            [str(self.scripts / "rabbitmqctl"), "-n", self.node, "-q", "await_startup"],
            env=self.env, cwd=self.directory, capture_output=True, timeout=120).returncode == 0,
            90, "the RabbitMQ node", interval=0.5)
        self.pid = int(self.ctl("eval", "os:getpid().").strip('"'))

    def stop(self) -> None:
        self.ctl("stop")

    def kill(self) -> None:
        """Stop the node, by force if it does not answer; for the clean-up."""
        try:
            self.stop()
        except (RuntimeError, subprocess.TimeoutExpired):
            if self.pid:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(self.pid, signal.SIGKILL)


class Process:
    """A program of the suite (a service instance, localstripe, the mail sink), its
    output kept in ``log``; it can be killed, stopped and started again."""

    def __init__(self, name: str, command: list[str], log: Path, env: dict | None = None,
                 port: int | None = None):
        self.name, self.command, self.log, self.env, self.port = name, command, log, env, port
        self.process: subprocess.Popen | None = None
        self.expected_exit = False  # killed or stopped by the suite, not by a fault of its own

    def start(self) -> "Process":
        with open(self.log, "ab") as log:
            self.process = subprocess.Popen(self.command, env=self.env, cwd=ROOT,
                                            stdout=log, stderr=log)
        self.expected_exit = False
        return self

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def signal(self, signum: int) -> None:
        self.process.send_signal(signum)

    def kill(self) -> None:
        self.expected_exit = True
        self.process.kill()
        self.process.wait()

    def stop(self) -> None:
        self.expected_exit = True
        self.process.terminate()
        try:
            self.process.wait(15)
        except subprocess.TimeoutExpired:
            self.kill()

    def last_words(self, lines: int = 30) -> str:
        return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])


class Instance(Process):
    """One process of a service (``conference run``) on a port of its own."""

    def __init__(self, service: str, number: int, env: dict, logs: Path):
        port = free_port()
        super().__init__(f"{service} #{number}",
                         [sys.executable, "-m", "services.cli", "run", service, "--port",
                          str(port)], logs / f"{service}-{number}.log", env, port)
        self.service = service

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def ready(self) -> bool:
        try:
            return requests.get(f"{self.url}/health", timeout=2).status_code == 200
        except requests.RequestException:
            return False


def localstripe(logs: Path) -> Process:
    """localstripe in memory, as the project starts it; ``Process.port`` is its port."""
    port = free_port()
    process = Process("localstripe", localstripe_command(port), logs / "localstripe.log",
                      port=port).start()
    wait_for(f"http://127.0.0.1:{port}/v1/", process.process)
    return process


def mail_sink(logs: Path, mailbox: Path) -> Process:
    port = free_port()
    process = Process("mail sink", [sys.executable, "-m", "services.cli", "mail-sink",
                                    "--port", str(port), "--dir", str(mailbox)],
                      logs / "mail-sink.log", port=port)
    start_mail_sink(process)
    return process


def start_mail_sink(process: Process) -> None:
    process.start()
    wait_until(lambda: listening(process.port), 20, "the mail sink")


class Supervisor:
    """Starts again, within a second, every instance that exits, as ``conference dev``
    does; records each exit the suite did not cause: (when, name, exit code, last
    words)."""

    def __init__(self, instances: list[Instance]):
        self.instances = instances
        self.deaths: list[tuple[float, str, int, str]] = []
        self.restarted_at: dict[str, float] = {}
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._watch, daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stopping.set()
        self._thread.join()

    def _watch(self) -> None:
        while not self._stopping.wait(1):
            for instance in self.instances:
                if instance.alive():
                    continue
                if not instance.expected_exit:
                    self.deaths.append((time.monotonic(), instance.name,
                                        instance.process.returncode, instance.last_words()))
                instance.start()
                self.restarted_at[instance.name] = time.monotonic()
