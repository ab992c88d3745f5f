"""The ``conference`` command: run services, declare queues, load the catalog.

    conference run registration [--port 8010]   one service (several: start it again)
    conference dev                              every service, as ``make run`` does
    conference declare-queues                   every consumer queue, before any event
    conference catalog load catalog.yaml        put a changed catalog on sale
    conference watch                            print events as they pass (no personal data)
    conference dead-letters [--replay]          what failed for good; send it round again
    conference pay pi_... [--card 4242...]      pay with a test card, as Stripe.js would
    conference mail-sink [--port 8025]          an SMTP server keeping mail in var/mail/
    conference fonts                            make the fonts every script needs (once)
    conference tokens create "Desk 2" --role desk   a named organiser token (printed once)
    conference tokens revoke "Desk 2" | list    revoke one; list them (names, roles, dates)

This module is the only place that knows every service; the services
themselves know each other only through events and RPC.
"""

import argparse
import importlib
import os
import signal
import socket
import subprocess
import sys
import time
import warnings
from pathlib import Path

# eventlet's notice that it is in maintenance mode, printed by every command
warnings.filterwarnings("ignore", message=r"\s*Eventlet is deprecated")

SERVICES = {
    "registration": "services.registration.service:RegistrationService",
    "payments": "services.payments.service:PaymentsService",
    "badges": "services.badges.service:BadgesService",
    "notifications": "services.notifications.service:NotificationsService",
}
STOP_GRACE_SECONDS = 10


def service_class(name: str):
    module, _, cls = SERVICES[name].partition(":")
    return getattr(importlib.import_module(module), cls)


def declare_all_queues(amqp_uri: str) -> int:
    """Declare every service's consumer queues, so no event is published before its queue
    exists (RabbitMQ drops what no queue is bound for)."""
    from shared.consumer import declare_queues

    queues = [queue for handler in all_handler_queues() for queue in handler]
    declare_queues(amqp_uri, queues)
    return len(queues)


def all_handler_queues():
    from shared.consumer import service_queues

    return [queues for name in SERVICES for queues in service_queues(service_class(name))]


def run_service(name: str, port: int | None) -> None:
    import eventlet

    eventlet.monkey_patch()
    import logging.config

    from nameko.runners import ServiceRunner

    from shared.config import service_config, unsafe_secrets
    from shared.typesetting import fonts

    config = service_config(name, port=port)
    logging.config.dictConfig(config["LOGGING"])
    unsafe = unsafe_secrets(config)
    if unsafe and os.environ.get("ALLOW_LOCAL_SECRETS") != "1":
        raise SystemExit(f"{name} will not start with local or placeholder values of "
                         f"{', '.join(unsafe)}: set them (at least 16 random characters), or "
                         "ALLOW_LOCAL_SECRETS=1 on a machine of your own (make run does)")
    if missing_fonts := fonts.missing_files():
        raise SystemExit(f"{name} will not start without its fonts: "
                         f"{', '.join(map(str, missing_fonts))} (run: conference fonts)")
    fonts.read_coverage()
    declare_all_queues(config["AMQP_URI"])
    runner = ServiceRunner(config)
    runner.add_service(service_class(name))

    def stop(signum, frame):
        def stop_or_kill():
            # Open keep-alive connections can hold a graceful stop forever.
            with eventlet.Timeout(STOP_GRACE_SECONDS, False):
                runner.stop()
                return
            runner.kill()

        eventlet.spawn_n(stop_or_kill)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    runner.start()
    logging.getLogger(__name__).info("%s is up on %s", name, config["WEB_SERVER_ADDRESS"])
    waiter = eventlet.spawn(runner.wait)
    while True:
        try:
            waiter.wait()
            return
        except InterruptedError:
            continue


def watch(amqp_uri: str) -> None:
    """Print every event on the bus: time, source, type, id, order and registration id."""
    from kombu import Connection, Queue
    from nameko.standalone.events import get_event_exchange

    from shared.events import EVENT_TYPES

    def show(body, message):
        data = body.get("data", {})
        print(f"{body.get('occurred_at')}  {body.get('source')}.{body.get('type')} "
              f"v{body.get('version')}  id={body.get('id')}  order={data.get('order_id', '-')}  "
              f"registration={data.get('registration_id', '-')}", flush=True)
        message.ack()

    with Connection(amqp_uri) as connection:
        queues = [Queue(exclusive=True, exchange=get_event_exchange(source, {}), routing_key="#")
                  for source in {event.source for event in EVENT_TYPES.values()}]
        with connection.Consumer(queues, callbacks=[show]):
            print("watching; Ctrl-C stops", flush=True)
            while True:
                connection.drain_events()


TEST_CARDS = {"ok": "4242424242424242", "declined": "4000000000000341",
              "3ds": "4000002500003155"}


def pay_with_test_card(client, intent_id: str, card: str = "ok") -> str:
    """What Stripe.js does with a card form, against localstripe: attach the card to the
    PaymentIntent and confirm it; the intent's status, or why the card was declined."""
    import stripe

    method = client.v1.payment_methods.create(params={"type": "card", "card": {
        "number": TEST_CARDS.get(card, card), "exp_month": 12, "exp_year": 2030,
        "cvc": "123"}})
    client.v1.payment_intents.update(intent_id, params={"payment_method": method.id})
    try:
        return client.v1.payment_intents.confirm(intent_id).status
    except stripe.CardError as declined:
        return f"declined: {declined.code}"


def load_catalog(path: str) -> None:
    from sqlalchemy.orm import Session

    from services.registration.booking import load_catalog, seed
    from services.registration.catalog import load_catalog_file
    from shared.config import service_config
    from shared.db import UnitOfWork, make_engine, migrate, migrations

    config = service_config("registration")
    engine = make_engine(config["DATABASE_URL"])
    migrate(engine, migrations("registration"), seed=seed, config=config)
    with Session(engine) as session:
        version = load_catalog(UnitOfWork(session, "cli", lambda: None),
                               load_catalog_file(path), Path(path).name)
    print(f"catalog version {version} is on sale")


_HANDED_OUT: set[int] = set()


def free_port() -> int:
    """A port nothing listens on, and never one handed out before by this process (for
    the local processes the tests and benchmarks start): a service is often given its
    port a while before it binds it, and eventlet binds with SO_REUSEPORT, so two
    services given the same port would share it silently (a request to one answered by
    the other's 404)."""
    while True:
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            port = sock.getsockname()[1]
        if port not in _HANDED_OUT:
            _HANDED_OUT.add(port)
            return port


def wait_for(url: str, process: subprocess.Popen, seconds: float = 60) -> None:
    import requests

    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"{url} did not come up: its process exited")
        try:
            requests.get(url, timeout=1)
            return
        except requests.ConnectionError:
            time.sleep(0.3)
    raise SystemExit(f"{url} did not come up in {seconds:.0f} s")


def localstripe_command(port: int | str) -> list[str]:
    """How to start localstripe in memory on ``port`` (``conference localstripe``)."""
    return [sys.executable, "-m", "services.cli", "localstripe", "--port", str(port)]


def run_localstripe(port: int) -> None:
    """localstripe, empty and in memory only. As shipped it pickles its whole store to
    one shared file, /tmp/localstripe.pickle, after every write: each write costs more
    than the last, and two localstripes on one machine can corrupt each other's start
    (STACK-NOTES)."""
    import localstripe.resources
    from localstripe.server import start

    localstripe.resources.Store.dump_to_disk = lambda self: None
    sys.argv = ["localstripe", "--port", str(port), "--from-scratch"]
    start()


def start_localstripe(api_base: str, webhook_secret: str) -> subprocess.Popen:
    """localstripe on the port of ``api_base``, with payments' webhook registered."""
    import requests

    from shared.config import SERVICE_PORTS

    port = api_base.rsplit(":", 1)[1].strip("/")
    Path("var").mkdir(exist_ok=True)
    with open("var/localstripe.log", "ab") as log:
        process = subprocess.Popen(localstripe_command(port), stdout=log, stderr=log)
    wait_for(f"{api_base}/v1/", process)
    requests.post(f"{api_base}/_config/webhooks/payments", timeout=5, data={
        "url": f"http://127.0.0.1:{SERVICE_PORTS['payments']}/stripe/webhook",
        "secret": webhook_secret}).raise_for_status()
    return process


def run_mail_sink(port: int, directory: str, refused_domains: list[str]) -> None:
    from services.notifications.sink import serve

    controller = serve("127.0.0.1", port, Path(directory), refused_domains)
    print(f"mail sink on 127.0.0.1:{port}, keeping each message in {directory}/", flush=True)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    try:
        signal.pause()
    finally:
        controller.stop()


def organiser_tokens(command: str, name: str | None, role: str | None) -> None:
    """Named organiser tokens, written to every service's database (migrated first, so
    that this works before a service has ever started)."""
    from sqlalchemy.orm import Session

    from shared import organisers
    from shared.config import service_config
    from shared.db import make_engine, migrate, migrations

    engines = []
    try:
        for service in SERVICES:
            engine = make_engine(service_config(service)["DATABASE_URL"])
            migrate(engine, migrations(service))
            engines.append(engine)
        sessions = [Session(engine) for engine in engines]
        if command == "create":
            token = organisers.issue(sessions, name, role)
            print(f"{role} token for {name!r} (shown once; keep it secret):\n{token}")
        elif command == "revoke":
            found = organisers.revoke(sessions, name)
            print(f"revoked {name!r} in {found} of {len(sessions)} services" if found
                  else f"no token named {name!r}")
        else:
            for token in organisers.listed(sessions[0]):
                state = (f"revoked {token.revoked_at:%Y-%m-%d %H:%M}" if token.revoked_at
                         else "active")
                print(f"{token.name:30} {token.role:8} {token.created_at:%Y-%m-%d}  {state}")
    except ValueError as exc:
        raise SystemExit(str(exc)) from None
    finally:
        for engine in engines:
            engine.dispose()


def make_fonts() -> None:
    from shared.typesetting import fonts

    fonts.prepare()
    if missing := fonts.missing_files():
        raise SystemExit("missing fonts: " + ", ".join(map(str, missing))
                         + " (install Debian's fonts-noto-core and fonts-noto-cjk)")


def run_everything() -> None:
    """All services on the local RabbitMQ, each its own process, with localstripe,
    until Ctrl-C."""
    from shared.config import SERVICE_PORTS, amqp_uri, service_config

    config = service_config("payments")
    os.environ["ALLOW_LOCAL_SECRETS"] = "1"  # this machine's own run: its local values do
    # The desk page (badges) sends colleagues instead through registration, from either
    # name of this machine (http://localhost is a secure context for the camera).
    desk = SERVICE_PORTS["badges"]
    os.environ.setdefault("BADGES_REGISTRATION_PUBLIC_URL", config["PUBLIC_BASE_URL"])
    os.environ.setdefault("REGISTRATION_CORS_ORIGINS",
                          f"http://127.0.0.1:{desk},http://localhost:{desk}")
    print(f"declared {declare_all_queues(amqp_uri())} queues")
    processes = {
        "localstripe": start_localstripe(config["STRIPE_API_BASE"],
                                         config["STRIPE_WEBHOOK_SECRET"]),
        "mail sink": subprocess.Popen([sys.executable, "-m", "services.cli", "mail-sink",
                                       "--port", config["SMTP_PORT"]]),
    }
    commands = {name: [sys.executable, "-m", "services.cli", "run", name] for name in SERVICES}
    processes.update({name: subprocess.Popen(command) for name, command in commands.items()})

    def stop_all(*_):
        for process in processes.values():
            process.terminate()
        for process in processes.values():
            process.wait()
        sys.exit(0)

    signal.signal(signal.SIGTERM, stop_all)
    signal.signal(signal.SIGINT, stop_all)
    print(f"{'localstripe':>14}: {config['STRIPE_API_BASE']}  (log: var/localstripe.log; "
          "pay: conference pay pi_...)")
    print(f"{'mail':>14}: every email lands in var/mail/ as an .eml file")
    for name in SERVICES:
        url = f"http://127.0.0.1:{SERVICE_PORTS[name]}"
        wait_for(f"{url}/health", processes[name])
        print(f"{name:>14}: {url}  (API: {url}/openapi.json)")
    print(f"{'desk page':>14}: http://127.0.0.1:{SERVICE_PORTS['badges']}/desk")
    print(f"Organiser tokens: ADMIN_TOKEN={config['ADMIN_TOKEN']} "
          f"DESK_TOKEN={config['DESK_TOKEN']} FINANCE_TOKEN={config['FINANCE_TOKEN']}")
    print("Ctrl-C stops everything.")
    while True:
        time.sleep(1)
        for name, command in commands.items():
            if processes[name].poll() is not None:
                print(f"{name} exited ({processes[name].returncode}); starting it again",
                      flush=True)
                processes[name] = subprocess.Popen(command)


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(prog="conference", description=__doc__.split("\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    run = commands.add_parser("run", help="run one service")
    run.add_argument("service", choices=sorted(SERVICES))
    run.add_argument("--port", type=int, help="HTTP port, for a second instance on one host")
    commands.add_parser("dev", help="run every service locally")
    local_stripe = commands.add_parser("localstripe", help="localstripe, in memory only")
    local_stripe.add_argument("--port", type=int, default=8420)
    commands.add_parser("declare-queues", help="declare every consumer queue")
    catalog = commands.add_parser("catalog", help="the conference catalog")
    catalog_commands = catalog.add_subparsers(dest="catalog_command", required=True)
    catalog_load = catalog_commands.add_parser("load", help="put a catalog file on sale")
    catalog_load.add_argument("path")
    commands.add_parser("watch", help="print events as they pass")
    sink = commands.add_parser("mail-sink", help="an SMTP server keeping mail as files")
    sink.add_argument("--port", type=int, default=8025)
    sink.add_argument("--dir", default="var/mail")
    sink.add_argument("--refuse", action="append", default=[], metavar="DOMAIN",
                      help="refuse mail to this domain with 550, to rehearse bounces")
    pay = commands.add_parser("pay", help="pay a PaymentIntent with a test card (localstripe)")
    pay.add_argument("payment_intent_id")
    pay.add_argument("--card", default="ok", help="ok, declined, 3ds, or a card number")
    commands.add_parser("fonts", help="make the fonts every script needs (once per machine)")
    tokens = commands.add_parser("tokens", help="named organiser tokens")
    token_commands = tokens.add_subparsers(dest="tokens_command", required=True)
    create = token_commands.add_parser("create", help="a new token, printed once")
    create.add_argument("name")
    create.add_argument("--role", required=True, choices=["admin", "finance", "desk"])
    token_commands.add_parser("revoke", help="revoke a token by name").add_argument("name")
    token_commands.add_parser("list", help="every token's name, role and state")
    dead = commands.add_parser("dead-letters", help="count, or replay, dead-lettered events")
    dead.add_argument("--replay", action="store_true", help="send them to their handler again")
    args = parser.parse_args(argv)

    if args.command == "run":
        run_service(args.service, args.port)
    elif args.command == "dev":
        run_everything()
    elif args.command == "catalog":
        load_catalog(args.path)
    elif args.command == "fonts":
        make_fonts()
    elif args.command == "tokens":
        organiser_tokens(args.tokens_command, getattr(args, "name", None),
                         getattr(args, "role", None))
    elif args.command == "localstripe":
        run_localstripe(args.port)
    elif args.command == "mail-sink":
        run_mail_sink(args.port, args.dir, args.refuse)
    elif args.command == "pay":
        import stripe

        from shared.config import service_config

        config = service_config("payments")
        client = stripe.StripeClient(config["STRIPE_API_KEY"],
                                     base_addresses={"api": config["STRIPE_API_BASE"]})
        print(pay_with_test_card(client, args.payment_intent_id, args.card))
    else:
        from shared.config import amqp_uri

        if args.command == "declare-queues":
            print(f"declared {declare_all_queues(amqp_uri())} queues")
        elif args.command == "watch":
            watch(amqp_uri())
        elif args.command == "dead-letters":
            from shared.consumer import dead_letters

            counts = dead_letters(amqp_uri(), all_handler_queues(), args.replay)
            for queue, count in counts.items():
                print(f"{count:6}  {queue}" + ("  (replayed)" if count and args.replay else ""))


if __name__ == "__main__":
    main()
