"""The registration opening rush: 1,200 registrations from 50 concurrent clients against
one registration instance (or several) on PostgreSQL, then every delegate paying.

Runs all four services (each its own process and PostgreSQL database), localstripe (in
memory: its disk dump would make it the slowest part) and the mail sink, and prints:
- the latency of POST /api/registrations (one local transaction: the PaymentIntent is
  made by payments when it hears ``order_placed``) beside GET /health on the same
  server in the same run: the floor set by this machine, nameko's HTTP server and this
  Python client;
- from each 201 to its PaymentIntent being payable (registration has heard
  ``payment_ready``): p50/p95/max;
- that no limit was exceeded;
- how long the card payments took at localstripe, and from the last payment to every
  order confirmed, every badge made and every confirmation email delivered;
- each service's resident memory.

    .venv/bin/python bench/registration_rush.py [--requests 1200] [--clients 50]
                                                [--profile rush.txt] [--stop-payments 60]
                                                [--instances 2]

``--profile`` records the (first) registration instance with py-spy during the rush.
``--background-nice N`` runs badges and notifications at CPU niceness N (default 10).
``--stop-payments S`` stops payments just before the rush and starts it again S seconds
later: every order must still be taken, and be payable soon after payments' return.
``--instances N`` runs N processes of each service, sharing its database and queues; the
load generator sends each request to the next registration instance in turn. localstripe
sends its webhooks to the first payments instance only (one URL per webhook).
``BENCH_POSTGRES_URL``, ``BENCH_AMQP_URL`` (no vhost: each run makes its own) and
``BENCH_RABBIT_API`` (the management API) point it at another PostgreSQL or RabbitMQ.
"""

import argparse
import itertools
import os
import shutil
import signal
import statistics
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from pathlib import Path

import requests
import stripe
import yaml
from sqlalchemy import create_engine, func, select, text

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from services.badges.models import Badge  # noqa: E402
from services.cli import localstripe_command, pay_with_test_card, wait_for  # noqa: E402
from services.notifications.models import Message  # noqa: E402
from services.registration.models import Order, Registration  # noqa: E402

PG_ADMIN_URL = os.environ.get("BENCH_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
RABBIT_API = os.environ.get("BENCH_RABBIT_API", "http://guest:guest@127.0.0.1:15672/api")
AMQP_URL = os.environ.get("BENCH_AMQP_URL", "pyamqp://guest:guest@127.0.0.1:5672")  # no vhost
PORTS = {"registration": 8090, "payments": 8091, "badges": 8093, "notifications": 8094,
         "localstripe": 8092, "smtp": 8095}
SERVICES = ("payments", "registration", "badges", "notifications")
INSTANCE_PORT_STEP = 100  # a service's second instance listens on its port + 100, and so on
# Work that may lag a rush by seconds (badges, emails): in production on machines of
# their own; here, on the rush's two cores, at a lower CPU priority.
BACKGROUND = ("badges", "notifications")
BIN = Path(sys.executable).parent
# How 1,200 delegates spread over the seeded catalog's ticket types and workshops.
TICKET_MIX = [("full", 850), ("day-thursday", 120), ("day-friday", 120), ("day-saturday", 80),
              ("young-professional", 30)]
WORKSHOPS = [("ws-inclusive-tinkering", 30), ("ws-evaluation", 30), ("ws-climate-dialogue", 25)]


def bodies(count: int) -> list[dict]:
    tickets = [code for code, n in TICKET_MIX for _ in range(n)]
    workshops = [code for code, n in WORKSHOPS for _ in range(n)]
    result = []
    for i in range(count):
        add_ons = (["gala-dinner"] if i % 2 else []) + ([workshops[i]] if i < len(workshops)
                                                        else [])
        result.append({
            "given_name": ["Łukasz", "Αλέξανδρος", "Søren", "Борис", "Çağlar"][i % 5],
            "family_name": f"Żółć-{i}", "organisation": "Copernicus Science Centre",
            "country": ["PL", "GR", "DK", "UA", "TR"][i % 5], "email": f"d{i}@example.org",
            "ticket_type": tickets[i % len(tickets)], "add_ons": add_ons,
            "member_code": "ECSITE-MEMBER-2027" if i % 3 == 0 else None,
        })
    return result


def timed(work, items: list, clients: int):
    """``work(item)`` for every item on ``clients`` threads: (seconds, [(latency, result)])."""

    def one(item):
        started = time.perf_counter()
        result = work(item)
        return time.perf_counter() - started, result

    started = time.perf_counter()
    with ThreadPoolExecutor(clients) as pool:
        results = list(pool.map(one, items))
    return time.perf_counter() - started, results


def http_client(port: int | Sequence[int]):
    """A function sending one request on this thread's keep-alive connections; given
    several ports (instances of one service), each request goes to the next in turn."""
    local = threading.local()
    ports = itertools.cycle([port] if isinstance(port, int) else port)
    turn = threading.Lock()

    def send(method: str, path: str, body=None, headers=None):
        if not hasattr(local, "session"):
            local.session = requests.Session()
        with turn:
            to = next(ports)
        return local.session.request(method, f"http://127.0.0.1:{to}{path}", json=body,
                                     headers=headers, timeout=60)

    return send


def instance_port(service: str, instance: int) -> int:
    return PORTS[service] + INSTANCE_PORT_STEP * instance


def percentiles(latencies: list[float]) -> dict:
    ordered = sorted(latencies)
    cut = statistics.quantiles(ordered, n=100, method="inclusive")
    return {"p50": cut[49] * 1000, "p95": cut[94] * 1000, "p99": cut[98] * 1000,
            "max": ordered[-1] * 1000}


def proc_status(pid: int) -> dict:
    return dict(line.split(":", 1) for line in Path(f"/proc/{pid}/status").read_text()
                .splitlines() if ":" in line)


def memory_mb(pid: int) -> tuple[float, float]:
    fields = proc_status(pid)
    return int(fields["VmRSS"].split()[0]) / 1024, int(fields["VmHWM"].split()[0]) / 1024


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def cpu_by_program() -> dict:
    """CPU seconds used so far by every process on the machine, by program (a service
    by its name)."""
    used: dict = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            head, _, rest = stat.read_text().rpartition(")")
            command = stat.with_name("cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        fields = rest.split()
        name = head.split("(", 1)[1]
        if b"run" in command:
            name = command[command.index(b"run") + 1].decode()
        elif any(b"localstripe" in part for part in command):
            name = "localstripe"
        elif any(part.endswith(b"registration_rush.py") for part in command):
            name = "load generator"
        used[name] = used.get(name, 0.0) + (int(fields[11]) + int(fields[12])) / os.sysconf(
            "SC_CLK_TCK")
    return used


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--requests", type=int, default=1200)
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--profile", help="write py-spy's collapsed stacks of the rush here")
    parser.add_argument("--background-nice", type=int, default=10, metavar="N",
                        help="CPU niceness of badges and notifications (0: none); on one "
                             "small machine they would otherwise take the rush's cores")
    parser.add_argument("--stop-payments", type=float, metavar="SECONDS",
                        help="stop payments from just before the rush for this long")
    parser.add_argument("--instances", type=int, default=1, metavar="N",
                        help="processes of each service (default 1)")
    args = parser.parse_args()
    if args.instances < 1:
        parser.error("--instances is at least 1")

    name = f"bench_{uuid.uuid4().hex[:8]}"
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    databases = {service: f"{name}_{service}" for service in SERVICES}
    with admin.connect() as connection:
        for database in databases.values():
            connection.execute(text(f'CREATE DATABASE "{database}"'))
    url_of = {s: PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{d}" for s, d in databases.items()}
    requests.put(f"{RABBIT_API}/vhosts/{name}").raise_for_status()
    requests.put(f"{RABBIT_API}/permissions/{name}/guest",
                 json={"configure": ".*", "write": ".*", "read": ".*"}).raise_for_status()
    catalog = yaml.safe_load((ROOT / "services/registration/catalog.yaml").read_text())
    catalog["ticket_types"][0]["early_bird"]["until"] = "2099-01-01"
    catalog_file = ROOT / "var" / f"{name}-catalog.yaml"
    catalog_file.parent.mkdir(exist_ok=True)
    catalog_file.write_text(yaml.safe_dump(catalog, allow_unicode=True))
    stripe_base = f"http://127.0.0.1:{PORTS['localstripe']}"
    env = {**os.environ, "AMQP_URI": f"{AMQP_URL}/{name}",
           "LOG_LEVEL": "WARNING", "STRIPE_API_BASE": stripe_base, "ALLOW_LOCAL_SECRETS": "1",
           "RATE_LIMITS": "off",
           "STRIPE_WEBHOOK_SECRET": "whsec_bench", "STRIPE_API_KEY": "sk_test_bench",
           "REGISTRATION_CATALOG_FILE": str(catalog_file), "SMTP_PORT": str(PORTS["smtp"]),
           **{f"{s.upper()}_DATABASE_URL": url_of[s] for s in SERVICES}}
    processes = {}  # localstripe and the mail sink
    instances: dict[str, list[subprocess.Popen]] = {}  # each service's processes
    with ExitStack() as cleanup:
        cleanup.callback(lambda: (catalog_file.unlink(missing_ok=True),
                                  requests.delete(f"{RABBIT_API}/vhosts/{name}")))

        @cleanup.callback
        def drop_databases():
            with admin.connect() as connection:
                for database in databases.values():
                    connection.execute(text(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)'))

        mailbox = ROOT / "var" / f"{name}-mail"
        cleanup.callback(shutil.rmtree, mailbox, ignore_errors=True)

        @cleanup.callback
        def stop_processes():
            everything = [*processes.values(), *itertools.chain(*instances.values())]
            for process in everything:
                process.terminate()
            for process in everything:
                process.wait(30)

        processes["localstripe"] = subprocess.Popen(
            localstripe_command(PORTS["localstripe"]),
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_for(f"{stripe_base}/v1/", processes["localstripe"])
        requests.post(f"{stripe_base}/_config/webhooks/bench", data={
            "url": f"http://127.0.0.1:{PORTS['payments']}/stripe/webhook",
            "secret": "whsec_bench"}).raise_for_status()
        processes["mail sink"] = subprocess.Popen(
            [sys.executable, "-m", "services.cli", "mail-sink", "--port", str(PORTS["smtp"]),
             "--dir", str(mailbox)], cwd=ROOT, stdout=subprocess.DEVNULL)
        def start(service):
            nice = ["nice", "-n", str(args.background_nice)] if service in BACKGROUND else []
            ports = [instance_port(service, i) for i in range(args.instances)]
            instances[service] = [subprocess.Popen(
                [*nice, sys.executable, "-m", "services.cli", "run", service, "--port",
                 str(port)], env=env, cwd=ROOT) for port in ports]
            for port, process in zip(ports, instances[service], strict=True):
                wait_for(f"http://127.0.0.1:{port}/health", process)

        def stop(service):
            for process in instances.pop(service):
                process.terminate()
                process.wait(30)

        def service_cpu(service) -> float:
            return sum(cpu_seconds(process.pid) for process in instances[service])

        for service in SERVICES:
            start(service)

        send = http_client([instance_port("registration", i) for i in range(args.instances)])
        timed(lambda _: send("GET", "/api/catalog"), [None] * 50, 10)
        cpu_before = service_cpu("registration")
        health_seconds, health = timed(lambda _: send("GET", "/health").status_code,
                                       [None] * args.requests, args.clients)
        cpu_health = service_cpu("registration") - cpu_before

        stripe_client = stripe.StripeClient("sk_test_bench", base_addresses={"api": stripe_base})
        intents_seconds, intents = timed(
            lambda _: stripe_client.v1.payment_intents.create(
                params={"amount": 1000, "currency": "eur"}).id,
            [None] * (args.requests // 4), args.clients)

        profiler = args.profile and subprocess.Popen(
            [str(BIN / "py-spy"), "record", "--pid", str(instances["registration"][0].pid),
             "--rate", "500", "--format", "raw", "--output", args.profile, "--nonblocking"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        client_cpu = time.process_time()
        payments_cpu = service_cpu("payments")
        if args.stop_payments:
            stop("payments")
            stopped_at = time.perf_counter()
        rush_started = time.perf_counter()
        machine_before = cpu_by_program()
        rush_seconds, rush = timed(lambda body: send("POST", "/api/registrations", body),
                                   bodies(args.requests), args.clients)
        client_cpu = time.process_time() - client_cpu
        machine = {name: used - machine_before.get(name, 0.0)
                   for name, used in cpu_by_program().items()}
        payments_cpu = (0.0 if args.stop_payments
                        else service_cpu("payments") - payments_cpu)
        cpu_rush = service_cpu("registration") - cpu_before - cpu_health
        if profiler:
            profiler.send_signal(signal.SIGINT)
            profiler.wait(30)
        _, late = timed(lambda body: send("POST", "/api/registrations", body).status_code,
                        bodies(100 + args.requests)[args.requests:], args.clients)

        created = [response.json() for _, response in rush if response.status_code == 201]
        engine = create_engine(url_of["registration"])

        def payable() -> list:
            """(seconds from the order's 201 to payable, when) of each payable order."""
            with engine.connect() as connection:
                return connection.execute(select(Order.created_at, Order.updated_at).where(
                    Order.client_secret.is_not(None))).all()

        if args.stop_payments:
            time.sleep(max(0.0, args.stop_payments - (time.perf_counter() - stopped_at)))
            start("payments")
            returned_at = time.perf_counter()
        due = sum(1 for c in created if c["amount_due"])
        while len(payable()) < due and time.perf_counter() - rush_started < 600:
            time.sleep(0.1)
        ready_seconds = time.perf_counter() - (returned_at if args.stop_payments
                                               else rush_started)
        to_payable = [(updated - made).total_seconds() for made, updated in payable()]
        with_payment = [{**c, "payment": p} for c in created if c["amount_due"] and (
            p := send("GET", f"/api/registrations/{c['id']}/payment",
                      headers={"X-Registration-Token": c["token"]}).json())]
        engines = {s: create_engine(url_of[s]) for s in ("badges", "notifications")}

        def count(engine, query) -> int:
            with engine.connect() as connection:
                return connection.scalar(query)

        def confirmed() -> int:
            return count(engine, select(func.count()).where(Registration.status == "confirmed"))

        def badges_made() -> int:
            return count(engines["badges"], select(func.count()).where(Badge.version > 0))

        def confirmation_emails() -> int:
            return count(engines["notifications"], select(func.count()).where(
                Message.kind == "payment_confirmed", Message.status == "sent"))

        paying_started = time.perf_counter()
        timed(lambda c: pay_with_test_card(stripe_client, c["payment"]["payment_intent_id"]),
              with_payment, 10)
        last_paid = time.perf_counter()
        paid_seconds = last_paid - paying_started
        while confirmed() < len(with_payment) and time.perf_counter() - last_paid < 300:
            time.sleep(0.1)
        confirmed_seconds = time.perf_counter() - last_paid
        while (badges_made() < len(with_payment) or confirmation_emails() < len(with_payment)
               ) and time.perf_counter() - last_paid < 600:
            time.sleep(0.1)
        end_to_end = time.perf_counter() - last_paid
        made, mailed = badges_made(), confirmation_emails()
        for other in engines.values():
            other.dispose()
        with engine.connect() as connection:
            held = connection.scalar(select(func.count()).select_from(Registration))
        engine.dispose()
        remaining = send("GET", "/api/catalog").json()["remaining"]

        each = "one instance" if args.instances == 1 else f"{args.instances} instances"
        print(f"\nRegistration rush: {args.requests} registrations with payment, "
              f"{args.clients} clients, {each} of each service, PostgreSQL, "
              f"{os.cpu_count()} cores")
        print(f"{'(milliseconds)':30}{'p50':>8}{'p95':>8}{'p99':>8}{'max':>8}{'req/s':>8}"
              f"{'CPU/req':>9}")
        for label, seconds, cpu, results in [
                ("GET /health (baseline)", health_seconds, cpu_health, health),
                ("localstripe intent (baseline)", intents_seconds, None, intents),
                ("POST /api/registrations", rush_seconds, cpu_rush, rush)]:
            figures = percentiles([latency for latency, _ in results])
            cpu_figure = f"{cpu * 1000 / len(results):9.2f}" if cpu is not None else f"{'':9}"
            print(f"{label:30}" + "".join(f"{figures[k]:8.1f}" for k in figures)
                  + f"{len(results) / seconds:8.0f}{cpu_figure}")
        ready = percentiles(to_payable)
        if args.stop_payments:
            print(f"payments stopped {args.stop_payments:.0f} s from just before the rush; "
                  f"all {len(to_payable)} orders payable {ready_seconds:.1f} s after its return")
        else:
            print(f"201 -> payable PaymentIntent (ms): p50 {ready['p50']:.0f}, "
                  f"p95 {ready['p95']:.0f}, max {ready['max']:.0f}; all {len(to_payable)} "
                  f"payable {ready_seconds:.1f} s after the rush began")
        print(f"created {len(created)}/{args.requests}, {len(with_payment)} with a "
              f"PaymentIntent; then {len(late)} more: "
              f"{sum(1 for _, s in late if s == 409)} refused (409); stored: {held}; "
              f"seats left: {remaining}")
        print(f"CPU per registration: payments {payments_cpu * 1000 / args.requests:.2f} ms, "
              f"load generator {client_cpu * 1000 / args.requests:.2f} ms")
        busiest = sorted(machine.items(), key=lambda item: -item[1])[:6]
        print(f"machine during the rush ({rush_seconds:.1f} s, {os.cpu_count()} cores): "
              f"{sum(machine.values()) / rush_seconds:.2f} cores busy; per registration: "
              + ", ".join(f"{name} {used * 1000 / args.requests:.2f} ms"
                          for name, used in busiest))
        print(f"{len(with_payment)} card payments made at localstripe in {paid_seconds:.1f} s "
              f"(10 clients); all {confirmed()} confirmed {confirmed_seconds:.1f} s after the "
              f"last")
        print(f"end to end: {made} badges made and {mailed} confirmation emails (receipt "
              f"attached) delivered {end_to_end:.1f} s after the last payment")
        for label in SERVICES:
            for number, process in enumerate(instances[label], 1):
                rss, peak = memory_mb(process.pid)
                which = f"{label} {number}" if args.instances > 1 else label
                print(f"{which} memory: {rss:.0f} MB resident, peak {peak:.0f} MB")
        if len(created) != args.requests or held != args.requests or remaining != 0:
            sys.exit("a limit was exceeded or a registration was lost")


if __name__ == "__main__":
    main()
