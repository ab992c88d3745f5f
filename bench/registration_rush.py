"""The registration opening rush: 1,200 registrations from 50 concurrent clients
against one registration instance on PostgreSQL.

Prints the latency of POST /api/registrations beside GET /health on the same
server in the same run (the floor this machine, nameko's HTTP server and this
Python client set), how long the outbox took to publish every event, that no
limit was exceeded, and the service's resident memory.

    .venv/bin/python bench/registration_rush.py [--requests 1200] [--clients 50]
                                                [--profile rush.txt]

``--profile`` records the service with py-spy during the rush (collapsed stacks).
"""

import argparse
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import requests
import yaml
from sqlalchemy import create_engine, func, select, text

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from services.registration.models import Registration  # noqa: E402
from shared.db import OutboxEvent  # noqa: E402

PG_ADMIN_URL = os.environ.get("BENCH_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
RABBIT_API = os.environ.get("BENCH_RABBIT_API", "http://guest:guest@127.0.0.1:15672/api")
PORT = 8090
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


def timed_requests(method: str, path: str, payloads: list, clients: int):
    """Send every payload with ``clients`` concurrent keep-alive connections."""
    sessions: dict = {}

    def one(payload):
        import threading

        session = sessions.setdefault(threading.get_ident(), requests.Session())
        started = time.perf_counter()
        response = session.request(method, f"http://127.0.0.1:{PORT}{path}", json=payload,
                                   timeout=60)
        return time.perf_counter() - started, response.status_code

    started = time.perf_counter()
    with ThreadPoolExecutor(clients) as pool:
        results = list(pool.map(one, payloads))
    return time.perf_counter() - started, results


def percentiles(latencies: list[float]) -> dict:
    ordered = sorted(latencies)
    cut = statistics.quantiles(ordered, n=100, method="inclusive")
    return {"p50": cut[49] * 1000, "p95": cut[94] * 1000, "p99": cut[98] * 1000,
            "max": ordered[-1] * 1000}


def memory_mb(pid: int) -> tuple[float, float]:
    fields = dict(line.split(":", 1) for line in Path(f"/proc/{pid}/status").read_text()
                  .splitlines() if ":" in line)
    return int(fields["VmRSS"].split()[0]) / 1024, int(fields["VmHWM"].split()[0]) / 1024


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--requests", type=int, default=1200)
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--profile", help="write py-spy's collapsed stacks of the rush here")
    args = parser.parse_args()

    name = f"bench_{uuid.uuid4().hex[:8]}"
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    database_url = PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    requests.put(f"{RABBIT_API}/vhosts/{name}").raise_for_status()
    requests.put(f"{RABBIT_API}/permissions/{name}/guest",
                 json={"configure": ".*", "write": ".*", "read": ".*"}).raise_for_status()
    catalog = yaml.safe_load((ROOT / "services/registration/catalog.yaml").read_text())
    catalog["ticket_types"][0]["early_bird"]["until"] = "2099-01-01"
    catalog_file = Path(tempfile.mkdtemp()) / "catalog.yaml"
    catalog_file.write_text(yaml.safe_dump(catalog, allow_unicode=True))
    env = {**os.environ, "AMQP_URI": f"pyamqp://guest:guest@127.0.0.1:5672/{name}",
           "REGISTRATION_DATABASE_URL": database_url,
           "REGISTRATION_CATALOG_FILE": str(catalog_file), "LOG_LEVEL": "WARNING"}
    service = subprocess.Popen([sys.executable, "-m", "services.cli", "run", "registration",
                                "--port", str(PORT)], env=env, cwd=ROOT)
    engine = create_engine(database_url)
    try:
        for _ in range(100):
            try:
                requests.get(f"http://127.0.0.1:{PORT}/health", timeout=1).raise_for_status()
                break
            except requests.RequestException:
                time.sleep(0.2)
        timed_requests("GET", "/api/catalog", [None] * 50, 10)

        cpu_before = cpu_seconds(service.pid)
        health_seconds, health = timed_requests("GET", "/health", [None] * args.requests,
                                                args.clients)
        cpu_health = cpu_seconds(service.pid) - cpu_before
        profiler = args.profile and subprocess.Popen(
            [str(Path(sys.executable).with_name("py-spy")), "record", "--pid", str(service.pid),
             "--rate", "500", "--format", "raw", "--output", args.profile, "--nonblocking"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        rush_started = time.perf_counter()
        client_cpu = time.process_time()
        rush_seconds, rush = timed_requests("POST", "/api/registrations",
                                            bodies(args.requests), args.clients)
        if profiler:
            profiler.send_signal(signal.SIGINT)
            profiler.wait(30)
        with engine.connect() as connection:
            while connection.scalar(select(func.count()).where(
                    OutboxEvent.published_at.is_(None))):
                time.sleep(0.05)
        client_cpu = time.process_time() - client_cpu
        relayed_seconds = time.perf_counter() - rush_started
        cpu_rush = cpu_seconds(service.pid) - cpu_before - cpu_health
        rss, peak = memory_mb(service.pid)
        _, late = timed_requests("POST", "/api/registrations",
                                 bodies(100 + args.requests)[args.requests:], args.clients)

        created = sum(1 for _, status in rush if status == 201)
        with engine.connect() as connection:
            held = connection.scalar(select(func.count()).select_from(Registration))
        remaining = requests.get(f"http://127.0.0.1:{PORT}/api/catalog").json()["remaining"]
        print(f"\nRegistration rush: {args.requests} requests, {args.clients} clients, "
              f"one instance, PostgreSQL, {os.cpu_count()} cores")
        print(f"{'(milliseconds)':28}{'p50':>8}{'p95':>8}{'p99':>8}{'max':>8}{'req/s':>8}"
              f"{'CPU/req':>9}")
        for label, seconds, cpu, results in [
                ("GET /health (baseline)", health_seconds, cpu_health, health),
                ("POST /api/registrations", rush_seconds, cpu_rush, rush)]:
            figures = percentiles([latency for latency, _ in results])
            print(f"{label:28}" + "".join(f"{figures[k]:8.1f}" for k in figures)
                  + f"{len(results) / seconds:8.0f}{cpu * 1000 / len(results):9.2f}")
        print(f"created {created}/{args.requests}; then {len(late)} more: "
              f"{sum(1 for _, s in late if s == 409)} refused (409); registrations stored: "
              f"{held}; seats left: {remaining}")
        print(f"load generator CPU: {client_cpu * 1000 / args.requests:.2f} ms per registration")
        print(f"every event published {relayed_seconds:.1f} s after the rush began")
        print(f"service memory after the rush: {rss:.0f} MB resident, peak {peak:.0f} MB")
        if created != args.requests or held != args.requests or remaining != 0:
            sys.exit("a limit was exceeded or a registration was lost")
    finally:
        service.terminate()
        service.wait(30)
        engine.dispose()
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE "{name}" WITH (FORCE)'))
        requests.delete(f"{RABBIT_API}/vhosts/{name}")


if __name__ == "__main__":
    main()
