"""The badges service (port 8002): print-ready badges, the desk, and check-in."""

from pathlib import Path
from urllib.parse import urlsplit

from nameko.dependency_providers import Config
from werkzeug.wrappers import Response

from services.badges import desk, operations, privacy
from services.badges.models import Base
from services.badges.printing import DeskPrinters
from services.badges.rendering import render_badges
from services.badges.schemas import (
    AttentionRequest,
    BadgeView,
    BatchResult,
    BrowserPrintRequest,
    BrowserPrintResult,
    CheckInBatch,
    CheckInRequest,
    CheckInResult,
    DayList,
    DeskPageConfig,
    DeskPrintRequest,
    DeskPrintResult,
    PrinterList,
    PrintRequest,
    SearchQuery,
    SearchResult,
)
from shared.auth import ADMIN, DESK, ticket_public_key
from shared.consumer import event_handler
from shared.db import Database, utcnow
from shared.errors import NotFound
from shared.http import HttpService, http
from shared.rendering import off_hub
from shared.rpc import rpc

STATIC = Path(__file__).with_name("static")
DESK_FILES = {"desk.js": "text/javascript", "desk-print.js": "text/javascript",
              "desk-camera.js": "text/javascript", "desk-offline.js": "text/javascript",
              "desk-colleague.js": "text/javascript", "desk.css": "text/css"}
STAFF = (ADMIN, DESK)
PDF = {200: ("The badges", "application/pdf")}


def page_security(registration_url: str) -> dict:
    """The desk page's headers: the camera is the page's own to use (a tablet scans with
    it); a badge's PDF is shown in a frame of the page (blob:) to print it; the page calls
    registration to send a colleague instead."""
    registration = "{0.scheme}://{0.netloc}".format(urlsplit(registration_url))
    return {
        "Content-Security-Policy": f"default-src 'self'; connect-src 'self' {registration}; "
                                   "img-src 'self' blob: data:; "
                                   "media-src 'self' blob: mediastream:; frame-src 'self' blob:; "
                                   "object-src 'none'; base-uri 'none'; form-action 'self'",
        "Permissions-Policy": "camera=(self), microphone=(), geolocation=(), payment=()",
    }


def render_off_hub(badges, layout):
    return off_hub(render_badges, badges, layout)


def pdf_response(pdf: bytes, filename: str) -> Response:
    return Response(pdf, mimetype="application/pdf",
                    headers={"Content-Disposition": f'inline; filename="{filename}"'})


class BadgesService(HttpService):
    """Badges for every confirmed delegate, printed in batches or at the desk; the
    registration desk (check-in, online and, with the day's list, offline)."""

    name = "badges"
    title = "Ecsite Conference Ticketing: badges"

    db = Database(Base.metadata)
    config = Config()
    printers = DeskPrinters()

    @event_handler("registration", "registration_created")
    @event_handler("registration", "registration_confirmed")
    @event_handler("registration", "registration_updated")
    @event_handler("registration", "registration_cancelled")
    @event_handler("registration", "registration_expired")
    def on_registration(self, event):
        operations.on_registration_event(self.db, event, render_off_hub,
                                         self.config["SECRET_KEY"])

    @event_handler("registration", "delegate_erased")
    def on_delegate_erased(self, event):
        privacy.erase_delegate(self.db, event)

    @rpc
    def export_delegate(self, registration_id: str, order_id: str) -> dict:
        """Everything badges holds about a delegate, and what an erasure keeps (RPC)."""
        return privacy.export_delegate(self.db, registration_id, order_id)

    @http("GET", "/api/badges/<string:registration_id>.pdf", roles=STAFF,
          summary="One A6 badge to look at (a preview: not counted as printed); its version "
                  "in X-Badge-Version", responses=PDF)
    def badge_pdf(self, request, registration_id):
        pdf, version = operations.preview(self.db, registration_id)
        response = pdf_response(pdf, f"badge-{registration_id}.pdf")
        response.headers["X-Badge-Version"] = str(version)
        return response

    @http("POST", "/api/badges/<string:registration_id>/print", body=DeskPrintRequest,
          roles=STAFF, summary="Print one A6 badge on a desk's printer (IPP); counted once the "
                               "printer has taken it; 503 with Retry-After when it cannot",
          responses={202: ("Sent to the printer", DeskPrintResult)})
    def print_at_desk(self, request, registration_id, body):
        return 202, operations.print_at_desk(self.db, self.printers, registration_id,
                                             body.printer, utcnow())

    @http("POST", "/api/badges/<string:registration_id>/printed", body=BrowserPrintRequest,
          roles=STAFF, summary="Record a badge printed from the browser (the preview's "
                               "version)",
          responses={200: ("Counted", BrowserPrintResult)})
    def printed_in_browser(self, request, registration_id, body):
        return operations.record_browser_print(self.db, registration_id, body.badge_version,
                                               utcnow())

    @http("GET", "/api/desk/printers", roles=STAFF, summary="The desk printers, by name",
          responses={200: ("The configured printers", PrinterList)})
    def desk_printers(self, request):
        return PrinterList(printers=self.printers.names())

    @http("POST", "/api/badges/print", body=PrintRequest, roles=STAFF,
          summary="Many badges in one PDF: A4 sheets of four with cut marks, or A6 pages "
                  "(each counted as printed)", responses=PDF)
    def print_badges(self, request, body):
        pdf, request.audit_ids = operations.print_many(
            self.db, render_off_hub, self.config["SECRET_KEY"], utcnow(),
            registration_ids=body.registration_ids, ticket_type=body.ticket_type,
            not_printed=body.not_printed, order=body.order, layout=body.layout)
        return pdf_response(pdf, f"badges-{body.layout}.pdf")

    @http("POST", "/api/checkin", body=CheckInRequest, roles=STAFF,
          summary="Check a delegate in by the token their QR code carries: 200 when in now "
                  "or already; 4xx (invalid_ticket, not_found, unpaid, expired, cancelled, "
                  "wrong_day) when they may not come in",
          responses={200: ("Checked in, or already", CheckInResult)})
    def check_in(self, request, body):
        registration_id = desk.registration_of(body.token, self.config["SECRET_KEY"])
        request.audit_ids.append(registration_id)
        return desk.check_in(self.db, registration_id, utcnow())

    @http("POST", "/api/badges/<string:registration_id>/checkin", roles=STAFF,
          summary="Check a delegate in from the desk's search (refusals as for a scan)",
          responses={200: ("Checked in, or already", CheckInResult)})
    def check_in_by_id(self, request, registration_id):
        return desk.check_in(self.db, registration_id, utcnow(), field="registration_id")

    @http("PATCH", "/api/badges/<string:registration_id>", body=AttentionRequest,
          roles=(ADMIN,), summary="Set or clear the organiser's note the desk sees on scanning",
          responses={200: ("The desk's view, with the note", BadgeView)})
    def set_attention(self, request, registration_id, body):
        return desk.set_attention(self.db, registration_id, body.attention)

    @http("GET", "/api/desk/search", query=SearchQuery, roles=STAFF,
          summary="Find registrations by name (in any script, from Latin letters too), "
                  "organisation, email or reference (accents ignored)",
          responses={200: ("Up to 50 registrations", SearchResult)})
    def search(self, request, query):
        return {"items": desk.search(self.db, query.q)}

    @http("GET", "/api/desk/day", roles=STAFF,
          summary="The day's list and the tickets' public key, for a desk that loses the "
                  "network",
          responses={200: ("What the desk keeps", DayList)})
    def day_list(self, request):
        return desk.day_list(self.db, ticket_public_key(self.config["SECRET_KEY"]), utcnow())

    @http("POST", "/api/desk/checkins", body=CheckInBatch, roles=STAFF,
          summary="Check-ins a desk made offline, each at its scan time: idempotent (nobody "
                  "is checked in twice; the first scan's time is kept)",
          responses={200: ("Each one's outcome", BatchResult)})
    def check_in_batch(self, request, body):
        results = desk.check_in_all(
            self.db, [(c.registration_id, c.scanned_at) for c in body.checkins], utcnow())
        request.audit_ids = [r["registration_id"] for r in results if r["code"] != "not_found"]
        return {"results": results}

    def registration_url(self) -> str:
        """Where the desk page reaches registration (``REGISTRATION_PUBLIC_URL``; by default
        ``PUBLIC_BASE_URL``, registration's public address)."""
        return (self.config.get("REGISTRATION_PUBLIC_URL")
                or self.config["PUBLIC_BASE_URL"]).rstrip("/")

    @http("GET", "/api/desk/page-config", summary="What the desk page needs: where "
          "registration answers (to send a colleague instead)",
          responses={200: ("The desk page's settings", DeskPageConfig)})
    def desk_page_config(self, request):
        return DeskPageConfig(registration_url=self.registration_url())

    @http("GET", "/desk", summary="The registration desk page (it asks for the desk token)",
          responses={200: ("The page", "text/html")})
    def desk_page(self, request):
        return Response((STATIC / "desk.html").read_bytes(), mimetype="text/html",
                        headers=page_security(self.registration_url()))

    @http("GET", "/desk/<string:filename>", summary="The desk page's script and style",
          responses={200: ("A script or a style sheet", ("text/javascript", "text/css"))})
    def desk_file(self, request, filename):
        if filename not in DESK_FILES:
            raise NotFound("No such file.")
        return Response((STATIC / filename).read_bytes(), mimetype=DESK_FILES[filename],
                        headers=page_security(self.registration_url()))


