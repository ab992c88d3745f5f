"""The delegates' and organisers' pages: static files, served with strict security
headers; only Stripe.js's origin may add scripts and frames."""

from pathlib import Path
from urllib.parse import urlsplit

from werkzeug.wrappers import Response

STATIC = Path(__file__).with_name("static")
ASSETS = {path.name for path in STATIC.glob("*") if path.suffix in (".js", ".css")}
TYPES = {".html": "text/html", ".js": "text/javascript", ".css": "text/css"}


def content_security_policy(stripe_js_url: str) -> str:
    """Only our own origin, and Stripe's: where its script comes from (STRIPE_JS_URL),
    and the origins Stripe documents for its API calls and 3-D Secure frames."""
    stripe = "{0.scheme}://{0.netloc}".format(urlsplit(stripe_js_url))
    return (f"default-src 'self'; script-src 'self' {stripe}; "
            f"frame-src 'self' {stripe} https://js.stripe.com https://hooks.stripe.com; "
            f"connect-src 'self' {stripe} https://api.stripe.com; img-src 'self' data: blob:; "
            "style-src 'self' 'unsafe-inline'; object-src 'none'; base-uri 'none'; "
            "form-action 'self'")


def response(filename: str, stripe_js_url: str) -> Response:
    path = STATIC / filename
    return Response(path.read_bytes(), mimetype=TYPES[path.suffix], headers={
        "Content-Security-Policy": content_security_policy(stripe_js_url),
        "Permissions-Policy": "camera=(), microphone=(), geolocation=()"})
