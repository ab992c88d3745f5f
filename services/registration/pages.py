"""The delegates' and organisers' pages: static files, served with strict security
headers; only Stripe.js's origin may add scripts and frames."""

from pathlib import Path
from urllib.parse import urlsplit

from werkzeug.wrappers import Response

STATIC = Path(__file__).with_name("static")
ASSETS = {path.name for path in STATIC.glob("*") if path.suffix in (".js", ".css")}
TYPES = {".html": "text/html", ".js": "text/javascript", ".css": "text/css"}


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
