"""The delegates' and organisers' pages: static files, served with strict security
headers; only Stripe.js's origin may add scripts and frames. ``Pages`` is the part of
``RegistrationService`` that serves them (its entrypoints), kept apart to be read apart."""

from pathlib import Path
from urllib.parse import urlsplit

from werkzeug.wrappers import Response

from shared.config import payment_methods
from shared.errors import NotFound
from shared.http import http

STATIC = Path(__file__).with_name("static")
ASSETS = {path.name for path in STATIC.glob("*") if path.suffix in (".js", ".css")}
TYPES = {".html": "text/html", ".js": "text/javascript", ".css": "text/css"}
PAGE = {200: ("The page", "text/html")}


def origin(url: str) -> str:
    return "{0.scheme}://{0.netloc}".format(urlsplit(url))


def content_security_policy(stripe_js_url: str, services: tuple[str, ...] = ()) -> str:
    """Only our own origin, the other services the pages call (payments' documents and
    money desk, notifications' messages), and Stripe's: where its script comes from
    (STRIPE_JS_URL), and the origins Stripe documents for its API calls and 3-D Secure
    frames."""
    stripe = origin(stripe_js_url)
    others = " ".join(origin(url) for url in services)
    return (f"default-src 'self'; script-src 'self' {stripe}; "
            f"frame-src 'self' {stripe} https://js.stripe.com https://hooks.stripe.com; "
            f"connect-src 'self' {others} {stripe} https://api.stripe.com; "
            "img-src 'self' data: blob:; "
            "style-src 'self' 'unsafe-inline'; object-src 'none'; base-uri 'none'; "
            "form-action 'self'")


def response(filename: str, stripe_js_url: str, services: tuple[str, ...] = ()) -> Response:
    path = STATIC / filename
    return Response(path.read_bytes(), mimetype=TYPES[path.suffix], headers={
        "Content-Security-Policy": content_security_policy(stripe_js_url, services),
        "Permissions-Policy": "camera=(), microphone=(), geolocation=()"})


class Pages:
    """The pages' entrypoints of the registration service."""

    def page(self, filename: str) -> Response:
        return response(filename, self.config["STRIPE_JS_URL"], (
            self.config["PAYMENTS_PUBLIC_URL"], self.config["NOTIFICATIONS_PUBLIC_URL"]))

    @http("GET", "/api/page-config", summary="What the pages need to load Stripe.js")
    def page_config(self, request):
        return {"stripe_js_url": self.config["STRIPE_JS_URL"],
                "publishable_key": self.config["STRIPE_PUBLISHABLE_KEY"],
                "payment_methods": payment_methods(self.config),
                "payments_url": self.config["PAYMENTS_PUBLIC_URL"],
                "notifications_url": self.config["NOTIFICATIONS_PUBLIC_URL"]}

    @http("GET", "/", summary="The registration page", responses=PAGE)
    def register_page(self, request):
        return self.page("register.html")

    @http("GET", "/confirmation/<string:order_id>", summary="After paying", responses=PAGE)
    def confirmation_page(self, request, order_id):
        return self.page("confirmation.html")

    @http("GET", "/manage/<string:registration_id>", summary="A delegate's own booking",
          responses=PAGE)
    def manage_page(self, request, registration_id):
        return self.page("manage.html")

    @http("GET", "/orders/<string:order_id>", summary="A buyer's own order", responses=PAGE)
    def order_page(self, request, order_id):
        return self.page("order.html")

    @http("GET", "/links", summary="Lost links: ask for them again by email", responses=PAGE)
    def links_page(self, request):
        return self.page("links.html")

    @http("GET", "/admin", summary="The organisers' dashboard", responses=PAGE)
    def admin_page(self, request):
        return self.page("admin.html")

    @http("GET", "/static/<string:filename>", summary="The pages' scripts and styles",
          responses={200: ("A script or a style sheet", ("text/javascript", "text/css"))})
    def static_file(self, request, filename):
        if filename not in ASSETS:
            raise NotFound("No such file.", None)
        return self.page(filename)
