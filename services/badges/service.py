"""The badges service (port 8002): print-ready badges, the desk, and check-in."""

from pathlib import Path

from nameko.dependency_providers import Config
from werkzeug.wrappers import Response

from services.badges import operations
from services.badges.models import Base
from services.badges.rendering import render_badges
from services.badges.schemas import (
    BadgeView,
    CheckInRequest,
    CheckInResult,
    PrintRequest,
    SearchQuery,
    SearchResult,
)
from shared.auth import ADMIN, DESK
from shared.consumer import event_handler
from shared.db import Database, utcnow
from shared.errors import NotFound
from shared.http import HttpService, http
from shared.rendering import off_hub

STATIC = Path(__file__).with_name("static")
DESK_FILES = {"desk.js": "text/javascript", "desk.css": "text/css"}
PAGE_SECURITY = {"Content-Security-Policy": "default-src 'self'; img-src 'self' blob: data:; "
                 "frame-src 'self' blob:; object-src 'none'; base-uri 'none'"}
STAFF = (ADMIN, DESK)


def render_off_hub(badges, layout):
    return off_hub(render_badges, badges, layout)


def pdf_response(pdf: bytes, filename: str) -> Response:
    return Response(pdf, mimetype="application/pdf",
                    headers={"Content-Disposition": f'inline; filename="{filename}"'})


class BadgesService(HttpService):
    """Badges for every confirmed delegate, printed in batches or at the desk; check-in."""

    name = "badges"
    title = "Ecsite Conference Ticketing: badges"

    db = Database(Base.metadata)
    config = Config()

    @event_handler("registration", "registration_confirmed")
    @event_handler("registration", "registration_updated")
    @event_handler("registration", "registration_cancelled")
    def on_registration(self, event):
        operations.on_registration_event(self.db, event, render_off_hub,
                                         self.config["SECRET_KEY"])

    @http("GET", "/api/badges/<string:registration_id>.pdf", roles=STAFF,
          summary="One A6 badge, for the desk printer (counted as printed)")
    def badge_pdf(self, request, registration_id):
        pdf = operations.print_one(self.db, registration_id, utcnow())
        return pdf_response(pdf, f"badge-{registration_id}.pdf")

    @http("POST", "/api/badges/print", body=PrintRequest, roles=STAFF,
          summary="Many badges in one PDF: A4 sheets of four with cut marks, or A6 pages")
    def print_badges(self, request, body):
        pdf = operations.print_many(
            self.db, render_off_hub, self.config["SECRET_KEY"], utcnow(),
            registration_ids=body.registration_ids, ticket_type=body.ticket_type,
            not_printed=body.not_printed, order=body.order, layout=body.layout)
        return pdf_response(pdf, f"badges-{body.layout}.pdf")

    @http("POST", "/api/checkin", body=CheckInRequest, roles=STAFF,
          summary="Check a delegate in by the token their QR code carries",
          responses={200: ("Checked in, or already", CheckInResult)})
    def check_in(self, request, body):
        registration_id = operations.registration_of(body.token, self.config["SECRET_KEY"])
        return operations.check_in(self.db, registration_id, utcnow())

    @http("POST", "/api/badges/<string:registration_id>/checkin", roles=STAFF,
          summary="Check a delegate in from the desk's search",
          responses={200: ("Checked in, or already", CheckInResult)})
    def check_in_by_id(self, request, registration_id):
        return operations.check_in(self.db, registration_id, utcnow())

    @http("GET", "/api/desk/search", query=SearchQuery, roles=STAFF,
          summary="Find delegates by name, organisation, email or reference (accents ignored)",
          responses={200: ("Up to 50 badges", SearchResult)})
    def search(self, request, query):
        return SearchResult(items=[BadgeView(
            registration_id=b.registration_id, reference=b.reference,
            name=" ".join(filter(None, [b.given_name, b.family_name])),
            organisation=b.organisation, ticket_type_name=b.ticket_type_name, role=b.role,
            status=b.status, printed_count=b.printed_count, last_printed_at=b.last_printed_at,
            checked_in_at=b.checked_in_at) for b in operations.search(self.db, query.q)])

    @http("GET", "/desk", summary="The registration desk page (it asks for the desk token)")
    def desk_page(self, request):
        return Response((STATIC / "desk.html").read_bytes(), mimetype="text/html",
                        headers=PAGE_SECURITY)

    @http("GET", "/desk/<string:filename>", summary="The desk page's script and style")
    def desk_file(self, request, filename):
        if filename not in DESK_FILES:
            raise NotFound("No such file.")
        return Response((STATIC / filename).read_bytes(), mimetype=DESK_FILES[filename],
                        headers=PAGE_SECURITY)


