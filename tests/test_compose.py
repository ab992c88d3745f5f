"""docker-compose.yml, its scale and cluster overrides, the load balancer's nginx.conf and
the Dockerfile, checked without Docker."""

import json
import re
import tomllib
from pathlib import Path
from typing import NamedTuple
from urllib.parse import urlsplit

import pytest
import yaml

from services.cli import SERVICES
from services.payments.money_desk import MAX_STATEMENT_BYTES
from services.payments.service import MAX_WEBHOOK_BYTES
from shared.config import LOCAL_DEFAULTS, SERVICE_PORTS
from shared.http import MAX_BODY_BYTES

ROOT = Path(__file__).resolve().parent.parent
APP_SERVICES = sorted(SERVICES)  # every service the `conference` command can run
INFRA_SERVICES = ["rabbitmq", "postgres", "mailcatcher"]
# The configuration the brief lists ("The interface the outside world relies on").
BRIEF_VARIABLES = [
    "AMQP_URI",
    "STRIPE_API_KEY",
    "STRIPE_API_BASE",
    "STRIPE_PUBLISHABLE_KEY",
    "STRIPE_WEBHOOK_SECRET",
    "SMTP_HOST",
    "SMTP_PORT",
    "MAIL_FROM",
    "ADMIN_TOKEN",
    "DESK_TOKEN",
    "SECRET_KEY",
]
OPTIONAL_VARIABLES = {"VAR_DIR", "PUBLIC_BASE_URL"}


class Reset:
    """What `!reset` (Docker Compose's "drop the inherited value") loads as."""


class ComposeLoader(yaml.SafeLoader):
    pass


ComposeLoader.add_constructor("!reset", lambda loader, node: Reset())


def load(name: str) -> dict:
    with open(ROOT / name) as f:
        return yaml.load(f, Loader=ComposeLoader)


@pytest.fixture(scope="module")
def compose() -> dict:
    return load("docker-compose.yml")


@pytest.fixture(scope="module")
def services(compose) -> dict:
    return compose["services"]


def interpolate(value) -> str:
    """A Compose value with `${VAR:-default}` replaced by the default, as with no .env file."""
    return re.sub(r"\$\{\w+(?::?[-?]([^}]*))?\}", lambda m: m.group(1) or "", str(value))


def environment(service: dict) -> dict:
    env = service.get("environment", {})
    if isinstance(env, list):
        env = dict(item.split("=", 1) for item in env)
    return {key: interpolate(value) for key, value in env.items()}


def published(service: dict) -> set[tuple[int, int]]:
    """(host port, container port) pairs of a service's `ports`."""
    pairs = set()
    for port in service.get("ports", []):
        if isinstance(port, dict):
            pairs.add((int(port["published"]), int(port["target"])))
        else:
            *_, host, container = str(port).split(":")
            pairs.add((int(host), int(container.split("/")[0])))
    return pairs


def depends_on(service: dict) -> dict:
    deps = service.get("depends_on", {})
    if isinstance(deps, list):
        return {name: "service_started" for name in deps}
    return {name: (spec or {}).get("condition", "service_started") for name, spec in deps.items()}


def test_every_service_is_defined(services):
    for name in APP_SERVICES + INFRA_SERVICES:
        assert name in services, name
    built = {name for name, service in services.items() if "build" in service}
    assert built == set(APP_SERVICES), "a container for a service that cannot run yet"


@pytest.mark.parametrize("name", APP_SERVICES)
def test_app_service_runs_itself_from_the_one_image(services, name):
    service = services[name]
    assert service["build"] in (".", {"context": "."})
    assert service["command"] == ["run", name]
    assert service["restart"] == "unless-stopped"


@pytest.mark.parametrize("name", APP_SERVICES)
def test_app_service_has_the_configuration_of_the_brief(services, name):
    env = environment(services[name])
    for variable in [*BRIEF_VARIABLES, f"{name.upper()}_DATABASE_URL"]:
        assert variable in env, variable
        assert env[variable], variable


@pytest.mark.parametrize("name", APP_SERVICES)
def test_app_service_has_every_variable_the_config_reads(services, name):
    read = (set(LOCAL_DEFAULTS) - OPTIONAL_VARIABLES) | {f"{name.upper()}_DATABASE_URL"}
    assert read <= set(environment(services[name]))


@pytest.mark.parametrize("name", APP_SERVICES)
def test_app_service_has_its_own_database(services, name):
    url = urlsplit(environment(services[name])[f"{name.upper()}_DATABASE_URL"])
    assert url.scheme.startswith("postgresql")
    assert url.hostname == "postgres"
    assert url.path == f"/{name}"


def test_every_database_is_created(services):
    init = services["postgres-init"]
    script = " ".join(init["command"])
    assert "CREATE DATABASE" in script
    for name in APP_SERVICES:
        assert re.search(rf"\b{name}\b", script), name
    assert depends_on(init) == {"postgres": "service_healthy"}
    assert "pg_isready" in " ".join(services["postgres"]["healthcheck"]["test"])


@pytest.mark.parametrize("name", APP_SERVICES)
def test_app_service_talks_to_the_compose_rabbitmq_and_mail_catcher(services, name):
    env = environment(services[name])
    assert urlsplit(env["AMQP_URI"]).hostname == "rabbitmq"
    assert env["SMTP_HOST"] == "mailcatcher"
    mail_ports = {container for _, container in published(services["mailcatcher"])}
    assert int(env["SMTP_PORT"]) in mail_ports


@pytest.mark.parametrize("name", APP_SERVICES)
def test_app_service_publishes_its_port(services, name):
    port = SERVICE_PORTS[name]
    assert (port, port) in published(services[name])


@pytest.mark.parametrize("name", APP_SERVICES)
def test_app_service_health_is_checked_on_its_port(services, name):
    check = services[name]["healthcheck"]
    assert f"http://127.0.0.1:{SERVICE_PORTS[name]}/health" in " ".join(check["test"])


@pytest.mark.parametrize("name", APP_SERVICES)
def test_app_service_waits_for_rabbitmq_and_its_database(services, name):
    deps = depends_on(services[name])
    assert deps["rabbitmq"] == "service_healthy"
    assert deps["postgres-init"] == "service_completed_successfully"
    assert "healthcheck" in services["rabbitmq"]


def test_scale_override_drops_the_host_ports():
    override = load("docker-compose.scale.yml")["services"]
    for name in APP_SERVICES:
        assert isinstance(override[name]["ports"], Reset), name
        assert [int(p) for p in override[name]["expose"]] == [SERVICE_PORTS[name]]


def test_dockerfile_installs_the_package_and_runs_conference():
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert re.search(r"^FROM python:3\.11-slim\b", dockerfile, re.M)
    assert re.search(r"pip install --no-cache-dir \.(\s|$)", dockerfile)
    assert "[dev]" not in dockerfile
    users = re.findall(r"^USER\s+(\S+)", dockerfile, re.M)
    assert users and users[-1] not in ("root", "0")
    entrypoint = re.findall(r"^ENTRYPOINT\s+(.+)$", dockerfile, re.M)
    assert [json.loads(e) for e in entrypoint] == [["conference"]]
    scripts = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["scripts"]
    assert "conference" in scripts


def test_the_image_carries_the_pages_scripts_and_styles():
    data = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    shipped = data["package-data"]["*"]
    for pattern in ("*.html", "*.js", "*.css", "*.yaml", "*.txt"):
        assert pattern in shipped, pattern


def test_dockerignore_keeps_local_state_out_but_not_the_sources():
    ignored = (ROOT / ".dockerignore").read_text().split()
    for pattern in (".venv", "var", ".git", "tests"):
        assert pattern in ignored, pattern
    for needed in ("pyproject.toml", "README.md", "shared", "services"):
        assert needed not in ignored, needed


# Several machines: docker-compose.scale.yml (no host ports, nginx in front) and
# docker-compose.cluster.yml (three RabbitMQ nodes), checked as `docker compose -f ... -f
# ... config` would merge them.

SCALED = ("docker-compose.yml", "docker-compose.scale.yml")
CLUSTERED = ("docker-compose.yml", "docker-compose.cluster.yml")
EVERYTHING = (*SCALED, "docker-compose.cluster.yml")
REPLACED = {"command", "entrypoint", "test"}  # sequences an override replaces, not extends


def merge(base, override):
    """Compose's merge of an override file into what came before: mappings key by key,
    `!reset` drops, a few sequences are replaced and the others extended."""
    if isinstance(override, Reset):
        return type(base)() if base is not None else None
    if isinstance(base, dict) and isinstance(override, dict):
        result = dict(base)
        for key, value in override.items():
            if key in REPLACED:
                result[key] = value
            else:
                result[key] = merge(base.get(key), value)
        return result
    if isinstance(base, list) and isinstance(override, list):
        return base + [item for item in override if item not in base]
    return override


def merged(*names: str) -> dict:
    config: dict = {}
    for name in names:
        config = merge(config, load(name))
    return config


def rabbitmq_nodes(services: dict) -> dict:
    return {name: service for name, service in services.items()
            if str(service.get("image", "")).startswith("rabbitmq:")}


def rabbitmq_conf() -> dict:
    lines = (ROOT / "deploy/rabbitmq.conf").read_text().splitlines()
    pairs = [line.split("=", 1) for line in lines if line.strip() and not line.startswith("#")]
    return {key.strip(): value.strip() for key, value in pairs}


def mounts(service: dict) -> dict:
    """Container path -> host path or volume, of a service's `volumes`."""
    found = {}
    for volume in service.get("volumes", []):
        source, target, *_ = str(volume).split(":")
        found[target] = source
    return found


@pytest.mark.parametrize("files", [CLUSTERED, EVERYTHING])
def test_cluster_has_three_rabbitmq_nodes_with_one_cookie(files):
    config = merged(*files)
    nodes = rabbitmq_nodes(config["services"])
    assert len(nodes) == 3
    assert {node["image"] for node in nodes.values()} == {
        load("docker-compose.yml")["services"]["rabbitmq"]["image"]}
    cookies = {environment(node).get("RABBITMQ_ERLANG_COOKIE") for node in nodes.values()}
    assert len(cookies) == 1 and all(cookies)
    hostnames = [node["hostname"] for node in nodes.values()]
    assert len(set(hostnames)) == 3
    data = [mounts(node)["/var/lib/rabbitmq"] for node in nodes.values()]
    assert len(set(data)) == 3, "each node keeps its own data"
    assert set(data) <= set(config["volumes"])
    for node in nodes.values():
        assert mounts(node)["/etc/rabbitmq/conf.d/20-cluster.conf"] == "./deploy/rabbitmq.conf"
        assert "check_running" in node["healthcheck"]["test"]


def test_cluster_config_names_every_node_and_nothing_else():
    nodes = rabbitmq_nodes(merged(*CLUSTERED)["services"])
    conf = rabbitmq_conf()
    assert conf["cluster_formation.peer_discovery_backend"] == "classic_config"
    listed = {value for key, value in conf.items()
              if key.startswith("cluster_formation.classic_config.nodes.")}
    assert listed == {f"rabbit@{node['hostname']}" for node in nodes.values()}
    assert conf["cluster_partition_handling"] == "pause_minority"


def test_cluster_nodes_join_the_first_once_it_is_up():
    services = merged(*CLUSTERED)["services"]
    for name in rabbitmq_nodes(services):
        if name != "rabbitmq":
            assert depends_on(services[name]) == {"rabbitmq": "service_healthy"}, name


@pytest.mark.parametrize("files", [CLUSTERED, EVERYTHING])
@pytest.mark.parametrize("name", APP_SERVICES)
def test_every_service_reaches_every_node_of_the_cluster(files, name):
    services = merged(*files)["services"]
    nodes = rabbitmq_nodes(services)
    urls = [urlsplit(url) for url in environment(services[name])["AMQP_URI"].split(";")]
    assert sorted(url.hostname for url in urls) == sorted(n["hostname"] for n in nodes.values())
    assert {(url.scheme, url.port, url.path) for url in urls} == {("pyamqp", 5672, "//")}
    deps = depends_on(services[name])
    for node in nodes:
        assert deps[node] == "service_healthy", node


def test_services_start_from_different_nodes():
    services = merged(*CLUSTERED)["services"]
    first = {urlsplit(environment(services[name])["AMQP_URI"]).hostname for name in APP_SERVICES}
    assert len(first) == 3


@pytest.mark.parametrize("files", [SCALED, EVERYTHING])
def test_scaled_services_publish_no_host_port(files):
    services = merged(*files)["services"]
    for name in APP_SERVICES:
        assert published(services[name]) == set(), name
        assert [int(port) for port in services[name]["expose"]] == [SERVICE_PORTS[name]]


@pytest.mark.parametrize("files", [SCALED, EVERYTHING])
def test_load_balancer_exposes_every_service_and_waits_for_them(files):
    services = merged(*files)["services"]
    balancer = services["loadbalancer"]
    assert re.fullmatch(r"nginx:\d+\.\d+\.\d+(-alpine)?", balancer["image"]), "pin a version"
    assert published(balancer) == {(port, port) for port in SERVICE_PORTS.values()}
    assert depends_on(balancer) == {name: "service_healthy" for name in APP_SERVICES}
    assert mounts(balancer)["/etc/nginx/nginx.conf"] == "./deploy/nginx.conf"
    assert str(balancer["volumes"][0]).endswith(":ro")
    assert balancer["restart"] == "unless-stopped"
    check = " ".join(balancer["healthcheck"]["test"])
    port, path = re.search(r"http://127\.0\.0\.1:(\d+)(/\S*)", check).groups()
    server = nginx_server(nginx_config(), int(port))
    location = next(d for d in server.block if d.name == "location" and d.args == ["=", path])
    assert directive(location, "return").args[0] == "200"
    assert int(port) not in {published_port for published_port, _ in published(balancer)}


@pytest.mark.parametrize("files", [SCALED, EVERYTHING])
@pytest.mark.parametrize("name", APP_SERVICES)
def test_services_behind_the_load_balancer_believe_its_forwarded_for(files, name):
    assert environment(merged(*files)["services"][name])["TRUSTED_PROXY_HOPS"] == "1"
    assert environment(load("docker-compose.yml")["services"][name])["TRUSTED_PROXY_HOPS"] == "0"


class Directive(NamedTuple):
    name: str
    args: list[str]
    block: list | None  # the directives inside its braces, if it has any


def parse_nginx(text: str) -> list[Directive]:
    """nginx's configuration syntax: directives ended by `;` or holding a `{ }` block;
    quotes and comments as nginx reads them. Refuses unbalanced braces and unended
    directives."""
    tokens = re.findall(r'"(?:\\.|[^"\\])*"|\'(?:\\.|[^\'\\])*\'|#[^\n]*|[{};]|[^\s{};"\'#]+',
                        text)
    stack: list[list[Directive]] = [[]]
    words: list[str] = []
    for token in tokens:
        if token.startswith("#"):
            continue
        if token == ";":
            assert words, "an empty directive"
            stack[-1].append(Directive(words[0], words[1:], None))
            words = []
        elif token == "{":
            assert words, "a block without a directive"
            block: list[Directive] = []
            stack[-1].append(Directive(words[0], words[1:], block))
            stack.append(block)
            words = []
        elif token == "}":
            assert not words and len(stack) > 1, "an unended directive or a stray }"
            stack.pop()
        else:
            words.append(token[1:-1] if token[0] in "\"'" else token)
    assert len(stack) == 1 and not words, "unbalanced braces or an unended directive"
    return stack[0]


def nginx_config() -> list[Directive]:
    return parse_nginx((ROOT / "deploy/nginx.conf").read_text())


def directives(scope: list[Directive] | Directive, name: str) -> list[Directive]:
    block = scope.block if isinstance(scope, Directive) else scope
    return [d for d in block if d.name == name]


def directive(scope, name: str) -> Directive:
    (found,) = directives(scope, name)
    return found


def http_block(config: list[Directive]) -> Directive:
    return directive(config, "http")


def nginx_server(config: list[Directive], port: int) -> Directive:
    (server,) = [s for s in directives(http_block(config), "server")
                 if [d.args for d in directives(s, "listen")] == [[str(port)]]]
    return server


def in_force(name: str, *scopes) -> list[Directive]:
    """A directive as nginx applies it in the innermost scope: from the innermost scope
    that has it (an inner `proxy_set_header` hides every outer one)."""
    for scope in reversed(scopes):
        if found := directives(scope, name):
            return found
    return []


def size(value: str) -> int:
    units = {"k": 1024, "m": 1024 ** 2, "g": 1024 ** 3}
    return int(value[:-1]) * units[value[-1].lower()] if value[-1].isalpha() else int(value)


def test_nginx_resolves_service_names_again_through_dockers_dns():
    http = http_block(nginx_config())
    resolver = directive(http, "resolver")
    assert resolver.args[0] == "127.0.0.11"
    assert any(re.fullmatch(r"valid=\d+s", arg) for arg in resolver.args)


@pytest.mark.parametrize("name", APP_SERVICES)
def test_nginx_sends_each_port_to_its_service(name):
    config = nginx_config()
    http, port = http_block(config), SERVICE_PORTS[name]
    server = nginx_server(config, port)
    locations = directives(server, "location")
    assert [d.args for d in locations if d.args == ["/"]] == [["/"]]
    for location in locations:
        (proxy_pass,) = in_force("proxy_pass", http, server, location)
        # A variable, so that the name is looked up again and every container is found.
        variable = re.fullmatch(r"http://\$(\w+)", proxy_pass.args[0]).group(1)
        values = [d.args[1] for d in in_force("set", http, server, location)
                  if d.args[0] == f"${variable}"]
        assert values == [f"{name}:{port}"]
        headers = {d.args[0].lower(): d.args[1]
                   for d in in_force("proxy_set_header", http, server, location)}
        assert headers["x-forwarded-for"] == "$proxy_add_x_forwarded_for"


def test_nginx_passes_x_forwarded_for_nowhere_else():
    """Nothing but nginx's own appending may set X-Forwarded-For: TRUSTED_PROXY_HOPS=1
    believes exactly one hop."""
    found = []

    def walk(block):
        for d in block:
            if d.name == "proxy_set_header" and d.args[0].lower() == "x-forwarded-for":
                found.append(d.args[1])
            if d.block:
                walk(d.block)

    walk(nginx_config())
    assert found == ["$proxy_add_x_forwarded_for"]


def largest_body(name: str, path: str) -> int:
    """The most a service reads of a request body at ``path`` (any other path: its
    largest anywhere but the paths with one of their own)."""
    if name == "payments":
        return MAX_STATEMENT_BYTES if path == "/api/admin/statements" else MAX_WEBHOOK_BYTES
    return MAX_BODY_BYTES


@pytest.mark.parametrize("name", APP_SERVICES)
def test_nginx_caps_bodies_just_above_what_the_service_reads(name):
    """So that the service's own JSON 413 answers a body a little too large, and nginx
    stops the absurd before it reaches a service."""
    config = nginx_config()
    http, server = http_block(config), nginx_server(config, SERVICE_PORTS[name])
    for location in directives(server, "location"):
        (cap,) = in_force("client_max_body_size", http, server, location)
        needed = largest_body(name, location.args[-1])
        assert needed <= size(cap.args[0]) <= 2 * needed, location.args


@pytest.mark.parametrize("files", [("docker-compose.yml",), CLUSTERED, EVERYTHING])
def test_every_rabbitmq_node_may_open_enough_files(files):
    """Quorum queues take many file handles: at 1,024 the broker stops taking connections."""
    for name, node in rabbitmq_nodes(merged(*files)["services"]).items():
        limit = node["ulimits"]["nofile"]
        soft = limit["soft"] if isinstance(limit, dict) else limit
        assert int(soft) >= 65536, name
