"""docker-compose.yml, its scale override and the Dockerfile, checked without Docker."""

import json
import re
import tomllib
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import yaml

from services.cli import SERVICES
from shared.config import LOCAL_DEFAULTS, SERVICE_PORTS

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
