"""HTTP for every service: JSON in and out, errors in one shape, roles, OpenAPI.

``http(method, url, body=Model, query=Model, roles=(ADMIN,), headers=(Header, ...),
summary=..., responses={status: (text, Model or media type)})`` is nameko's ``@http``
entrypoint that also

- tells which organiser sends a bearer token (``request.organiser``: an environment
  token or a named one, ``shared.organisers``), checks their role when ``roles`` is
  given (401/403), and writes each organiser's request to the audit log (with the ids in
  its route, and any registration ids the handler adds to ``request.audit_ids``);
- parses and validates the JSON body or the query string with a pydantic
  model and passes it as ``body`` / ``query`` (422 naming the field);
- turns a dict, list or pydantic model (optionally ``(status, value)``) into
  a JSON response, and any ``Refusal`` (``shared.errors``) into
  ``{"error": {"code", "message", "field"}}`` with the status of its kind;
- describes itself for ``GET /openapi.json``.

The server answers unknown routes with the same JSON errors, adds security
headers, and keeps query strings (which may hold names) out of the logs.
"""

import json
import logging
import re
import time
from datetime import date, datetime
from typing import NamedTuple
from uuid import UUID

from eventlet import wsgi
from nameko.timer import timer
from nameko.web.handlers import HttpRequestHandler
from nameko.web.server import HttpOnlyProtocol, WebServer, WsgiApp
from pydantic import BaseModel, ValidationError
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.exc import TimeoutError as SqlTimeout
from werkzeug.exceptions import HTTPException
from werkzeug.wrappers import Request, Response

from shared import metrics, openapi, retention
from shared.auth import ADMIN
from shared.db import utcnow
from shared.entrypoints import entrypoints_of
from shared.errors import (
    BadRequest,
    Forbidden,
    Invalid,
    Refusal,
    TooLarge,
    Unauthorized,
    Unavailable,
)
from shared.organisers import AuditLog, AuditQuery, AuditView, Organisers, audit_entries

log = logging.getLogger(__name__)

MAX_BODY_BYTES = 64 * 1024
SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
    "Cache-Control": "no-store",
}


# The HTTP status of each kind of refusal; the only place refusals meet HTTP.
STATUS_OF_KIND = {
    "bad_request": 400, "unauthorized": 401, "forbidden": 403, "not_found": 404,
    "conflict": 409, "gone": 410, "too_large": 413, "invalid": 422, "too_many": 429,
    "unavailable": 503,
}
RETRY_AFTER_SECONDS = {"unavailable": 5}


def _json_default(value):
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, UUID):
        return str(value)
    if isinstance(value, BaseModel):
        return value.model_dump(mode="json")
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


def json_response(payload, status: int = 200, headers: dict | None = None) -> Response:
    if isinstance(payload, BaseModel):
        payload = payload.model_dump(mode="json")
    body = json.dumps(payload, default=_json_default, ensure_ascii=False)
    response = Response(body, status=status, mimetype="application/json")
    response.headers.update(headers or {})
    return response


def error_response(status: int, code: str, message: str, field: str | None = None,
                   headers: dict | None = None) -> Response:
    return json_response({"error": {"code": code, "message": message, "field": field}}, status,
                         headers)


def refusal_response(refusal: Refusal) -> Response:
    retry_after = getattr(refusal, "retry_after", None) or RETRY_AFTER_SECONDS.get(refusal.kind)
    return error_response(STATUS_OF_KIND[refusal.kind], refusal.code, refusal.message,
                          refusal.field, {"Retry-After": str(retry_after)} if retry_after else None)


def field_path(location) -> str:
    """('delegate', 'email') -> 'delegate.email'; ('add_ons', 1) -> 'add_ons[1]'."""
    path = ""
    for part in location:
        path += f"[{part}]" if isinstance(part, int) else (f".{part}" if path else str(part))
    return path


def validate(model: type[BaseModel], data) -> BaseModel:
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        location = [p for p in first["loc"] if not str(p).startswith("function-")]
        message = first["msg"].removeprefix("Value error, ")
        raise Invalid(message, field_path(location) or None) from None


def read_body(request, limit: int = MAX_BODY_BYTES, field: str | None = None) -> bytes:
    """The request's body, refused (413) beyond ``limit`` bytes before more than that is
    read, whatever Content-Length says or does not say."""
    if (request.content_length or 0) > limit:
        raise TooLarge("The request body is too large.", field)
    raw = request.stream.read(limit + 1)
    if len(raw) > limit:
        raise TooLarge("The request body is too large.", field)
    return raw


def parse_json_body(request, model: type[BaseModel]) -> BaseModel:
    raw = read_body(request)
    try:
        data = json.loads(raw)
    except (ValueError, RecursionError):
        raise BadRequest("The request body must be a JSON object.", code="invalid_json") from None
    if not isinstance(data, dict):
        raise BadRequest("The request body must be a JSON object.", code="invalid_json")
    refuse_nul(data)
    return validate(model, data)


def _nul_at(value, location: tuple = ()) -> tuple | None:
    """Where in a JSON value (or a flat dict of strings) a NUL character is, if anywhere."""
    if isinstance(value, str):
        return location if "\x00" in value else None
    items = (value.items() if isinstance(value, dict)
             else enumerate(value) if isinstance(value, list) else ())
    for key, inner in items:
        if isinstance(key, str) and "\x00" in key:
            return (*location, key)
        if (found := _nul_at(inner, (*location, key))) is not None:
            return found
    return None


def refuse_nul(value) -> None:
    """No text may hold a NUL character: nobody types one, and PostgreSQL refuses to store
    or even compare it (a 500 otherwise)."""
    if (location := _nul_at(value)) is not None:
        raise Invalid("Text may not contain a NUL character.", field_path(location) or None,
                      code="nul_character")


def require_private_token(request, header: str, id_: str, is_token, secret_key: str) -> None:
    """A delegate's or buyer's private token in ``header`` that opens ``id_``
    (``shared.auth.is_registration_token`` or ``is_order_token``): 401 without one,
    403 with another."""
    token = request.headers.get(header)
    if not token:
        raise Unauthorized(f"The booking's token is needed in {header}.", header)
    if not is_token(secret_key, id_, token):
        raise Forbidden("This token does not open this booking.", header)


class Header(NamedTuple):
    """A request header an entrypoint reads, as its OpenAPI document describes it."""

    name: str
    description: str
    required: bool = True
    pattern: str | None = None

    def parameter(self) -> dict:
        schema = {"type": "string"} | ({"pattern": self.pattern} if self.pattern else {})
        return {"name": self.name, "in": "header", "required": self.required,
                "description": self.description, "schema": schema}


IDEMPOTENCY_KEY = re.compile(r"^[\x21-\x7e]{1,255}$")
IDEMPOTENCY_HEADER = Header("Idempotency-Key", "Up to 255 visible ASCII characters: the same "
                            "key gives the same answer, never a second one", required=False,
                            pattern=IDEMPOTENCY_KEY.pattern)


def idempotency_key(request) -> str | None:
    """The request's ``Idempotency-Key`` header: up to 255 visible ASCII characters."""
    key = request.headers.get("Idempotency-Key")
    if key is not None and not IDEMPOTENCY_KEY.match(key):
        raise Invalid("An Idempotency-Key is 1 to 255 visible ASCII characters.",
                      "Idempotency-Key")
    return key


def client_address(request, trusted_proxy_hops: int) -> str:
    """The address of whoever sent the request: the peer, or, behind ``trusted_proxy_hops``
    load balancers that each append it to X-Forwarded-For, the address the nearest of them
    saw (anything further left is the client's to invent)."""
    forwarded = [part.strip() for part in request.headers.get("X-Forwarded-For", "").split(",")
                 if part.strip()]
    if trusted_proxy_hops > 0 and len(forwarded) >= trusted_proxy_hops:
        return forwarded[-trusted_proxy_hops]
    return request.remote_addr or "unknown"


def is_database_away(exc: Exception) -> bool:
    """A database that cannot be reached (down, restarting, no free connection), as
    opposed to a query that is wrong."""
    return isinstance(exc, OperationalError | SqlTimeout) or (
        isinstance(exc, DBAPIError) and exc.connection_invalidated)


def _http_exception_response(exc: HTTPException) -> Response:
    codes = {404: "not_found", 405: "method_not_allowed"}
    return error_response(exc.code or 400, codes.get(exc.code, "bad_request"), exc.description)


KNOWN_METHODS = {"GET", "POST", "PATCH", "PUT", "DELETE", "HEAD"}
CORS_HEADERS = {
    "Access-Control-Allow-Methods": "GET, POST, PATCH, DELETE",
    "Access-Control-Allow-Headers": "Authorization, Content-Type, Idempotency-Key, "
                                    "X-Order-Token, X-Registration-Token",
    "Access-Control-Expose-Headers": "Retry-After, Content-Disposition",
    "Access-Control-Max-Age": "600",
}


def allowed_origins(config: dict) -> set[str]:
    """Where the organisers' and buyers' pages come from (``CORS_ORIGINS``, comma
    separated; by default the registration service's public address): the only other
    origins a browser may call this service from."""
    origins = config.get("CORS_ORIGINS") or config.get("PUBLIC_BASE_URL") or ""
    if isinstance(origins, str):
        origins = origins.split(",")
    return {origin.strip().rstrip("/") for origin in origins if origin.strip()}


class JsonWsgiApp(WsgiApp):
    def __call__(self, environ, start_response):
        origin = environ.get("HTTP_ORIGIN")
        cross_origin = {**CORS_HEADERS, "Access-Control-Allow-Origin": origin, "Vary": "Origin"
                        } if origin and origin in allowed_origins(self.server.container.config) \
            else {}

        def with_security_headers(status, headers, exc_info=None):
            present = {name.lower() for name, _ in headers}
            headers.extend((k, v) for k, v in {**SECURITY_HEADERS, **cross_origin}.items()
                           if k.lower() not in present)
            return start_response(status, headers, exc_info)

        if environ["REQUEST_METHOD"] == "OPTIONS":  # a browser's preflight
            return Response(status=204 if cross_origin else 403)(environ, with_security_headers)
        request = Request(environ, shallow=True)
        started, route = time.perf_counter(), "unmatched"
        try:
            provider, request.path_values = self.url_map.bind_to_environ(environ).match()
            route = provider.url
            response = provider.handle_request(request)
        except HTTPException as exc:
            response = _http_exception_response(exc)
        method = request.method if request.method in KNOWN_METHODS else "other"
        metrics.REQUESTS.labels(route, method, response.status_code).inc()
        metrics.LATENCY.labels(route, method).observe(time.perf_counter() - started)
        return response(environ, with_security_headers)


class JsonWebServer(WebServer):
    """nameko's web server, with JSON errors for unknown routes and no access log."""

    def get_wsgi_app(self):
        return JsonWsgiApp(self)

    def get_wsgi_server(self, sock, wsgi_app, protocol=HttpOnlyProtocol, debug=False):
        return wsgi.Server(
            sock, sock.getsockname(), wsgi_app, protocol=protocol, debug=False,
            log=logging.getLogger(__name__), log_output=False,
        )

    def make_url_map(self):
        url_map = super().make_url_map()
        url_map.strict_slashes = False
        return url_map


class HttpEntrypoint(HttpRequestHandler):
    server = JsonWebServer()

    def __init__(self, method, url, *, body=None, query=None, roles=None, headers=(),
                 summary="", responses=None, **kwargs):
        kwargs.setdefault("expected_exceptions", (Refusal,))
        super().__init__(method, url, **kwargs)
        self.body_model = body
        self.query_model = query
        self.roles = roles
        self.headers = headers
        self.summary = summary
        self.responses = responses or {}

    def organisers(self) -> Organisers:
        """The container's, made on first request (with its database's sessions, if any;
        a method, not a property: nameko inspects its extensions' attributes at start)."""
        container = self.container
        if not hasattr(container, "organisers"):
            sessions = next((getattr(provider, "sessions", None)
                             for provider in container.dependencies
                             if hasattr(provider, "sessions")), None)
            container.organisers = Organisers(container.config, sessions)
        return container.organisers

    def handle_request(self, request):
        request.organiser = None
        request.audit_ids = []  # registrations acted on that the route does not name
        response = super().handle_request(request)
        if request.organiser is not None:
            self.organisers().record(request.organiser, f"{self.method} {self.url}",
                                   dict(request.path_values or {}), response.status_code,
                                   request.audit_ids)
        return response

    def get_entrypoint_parameters(self, request):
        if request.headers.get("Authorization"):
            request.organiser = self.organisers().identify(request.headers["Authorization"])
        if self.roles is not None:
            if request.organiser is None:
                raise Unauthorized("An organiser token is needed: Authorization: Bearer <token>.")
            if request.organiser.role not in self.roles:
                raise Forbidden("This token may not do that.")
        refuse_nul(dict(request.args))
        refuse_nul(dict(request.path_values or {}))
        args, kwargs = super().get_entrypoint_parameters(request)
        # a copy: nameko's kwargs are request.path_values, which the audit log records (the
        # route's ids), and a body or query may hold personal data
        kwargs = dict(kwargs)
        if self.body_model is not None:
            kwargs["body"] = parse_json_body(request, self.body_model)
        if self.query_model is not None:
            kwargs["query"] = validate(self.query_model, request.args.to_dict())
        return args, kwargs

    def response_from_result(self, result):
        if isinstance(result, Response):
            return result
        status, payload = result if isinstance(result, tuple) else (200, result)
        return json_response(payload, status)

    def response_from_exception(self, exc):
        if isinstance(exc, Refusal):
            return refusal_response(exc)
        if isinstance(exc, HTTPException):
            return _http_exception_response(exc)
        if is_database_away(exc):
            log.warning("the database is away: %s %s answered 503", self.method, self.url)
            return refusal_response(Unavailable(
                "The service cannot reach its database just now; please try again shortly.",
                code="database_unavailable"))
        log.error("error handling %s %s: %s", self.method, self.url, type(exc).__name__)
        return error_response(500, "internal_error", "Something went wrong on our side.")


http = HttpEntrypoint.decorator


def openapi_document(service_cls, title: str, description: str = "") -> dict:
    """OpenAPI 3.1 for every ``http`` entrypoint of ``service_cls``."""
    return openapi.document(entrypoints_of(service_cls, HttpEntrypoint), title, description)


class HttpService:
    """``GET /health`` and ``GET /openapi.json`` for a service with a ``db``."""

    title = "Ecsite Conference Ticketing"

    @http("GET", "/health", summary="Ready: is the service up and its database reachable? "
                                    "(503 with Retry-After while it is not)")
    def health(self, request):
        self.db.ping()
        return {"status": "ok", "service": self.name}

    @http("GET", "/health/live", summary="Live: does the process answer at all?")
    def liveness(self, request):
        return {"status": "live", "service": self.name}

    @http("GET", "/metrics", summary="Prometheus metrics (text format); no personal data",
          responses={200: ("The metrics", "text/plain")})
    def metrics(self, request):
        metrics.OUTBOX_BACKLOG.set(self.db.outbox_backlog())
        body, content_type = metrics.exposition()
        return Response(body, content_type=content_type)

    @http("GET", "/api/admin/audit", query=AuditQuery, roles=(ADMIN,),
          summary="What organisers did with this service, newest first (who, what, when)",
          responses={200: ("Entries", AuditLog)})
    def audit_log(self, request, query):
        entries = audit_entries(self.db.session, query.actor, query.before, query.limit)
        return AuditLog(items=[AuditView.model_validate(e, from_attributes=True)
                               for e in entries])

    @timer(interval=retention.INTERVAL_SECONDS)
    def retention_run(self):
        """Delete what has done its job (``shared.retention``), then what the service's own
        rules say is due (``forget_what_is_due``); record the run in the audit log."""
        now = utcnow()
        deleted = retention.prune_messaging(self.db.session, self.config, now)
        deleted.update(self.forget_what_is_due(now))
        retention.record_run(self.db.session, deleted, now)
        self.db.commit()

    def forget_what_is_due(self, now: datetime) -> dict[str, int]:
        """A service's own retention rules: what it deleted or anonymised, by kind."""
        return {}

    @http("GET", "/openapi.json", summary="This document",
          responses={200: ("OpenAPI 3.1", "application/json")})
    def openapi(self, request):
        return openapi_document(type(self), self.title, (type(self).__doc__ or "").strip())
