"""The waiting lists' entrypoints of the registration service: joining a list, one's own
place in it (and the place offered), booking with that place or giving it up; the
organisers' figures; and the sweeper that offers freed places (``waiting_list``)."""

from nameko.timer import timer

from services.registration.models import WaitingListEntry
from services.registration.schemas import OrderCreated, OrderRequest
from services.registration.waiting_list import (
    entry_view,
    find_entry,
    join,
    leave,
    offer_freed_places,
    report,
)
from services.registration.waiting_list_booking import book
from services.registration.waiting_list_schemas import (
    WaitingListEntryView,
    WaitingListJoined,
    WaitingListReport,
    WaitingListRequest,
)
from shared.auth import ADMIN, is_waiting_list_token
from shared.db import utcnow
from shared.http import Header, http, require_private_token

OFFER_SWEEP_SECONDS = 2
TOKEN_HEADER = "X-Waiting-List-Token"
ENTRY_TOKEN = Header(TOKEN_HEADER, "The private token of a place on a waiting list (in the "
                                   "links of its emails)")
ENTRY_ERRORS = {401: ("No token", None), 403: ("Wrong token", None),
                404: ("No such place on a waiting list", None)}
TOO_MANY = {429: ("Too many requests from this address or for this email: try again after "
                  "Retry-After seconds", None)}


class WaitingListApi:
    """A part of ``RegistrationService``: the waiting lists' entrypoints, and the sweeper;
    kept apart to be read apart."""

    def waiting_list_entry(self, request, entry_id: str) -> WaitingListEntry:
        entry = find_entry(self.db, entry_id)
        require_private_token(request, TOKEN_HEADER, entry.id, is_waiting_list_token,
                              self.config["SECRET_KEY"])
        return entry

    @http("POST", "/api/waiting-list", body=WaitingListRequest,
          summary="Join the waiting list of a sold-out ticket type or add-on; the same 202 "
                  "whether or not the address was on it already, nothing said of others",
          responses={202: ("Accepted", WaitingListJoined),
                     409: ("Not sold out: book it instead", None), **TOO_MANY})
    def join_waiting_list(self, request, body):
        now = utcnow()
        if (client := self.client(request)) is not None:
            client.admit_joining(self.db, body.email, now)
        catalog = self.catalogs.current(self.db.session)
        join(self.db, catalog, body, now)
        return 202, WaitingListJoined(status="accepted", message=(
            "If this address was not on this waiting list yet, it is now, and an email says "
            "so. When a place frees, the next person in line gets an email offering it, held "
            f"for them {catalog.waiting_list.offer_hours:g} hours."))

    @http("GET", "/api/waiting-list/<string:entry_id>", headers=(ENTRY_TOKEN,),
          summary=f"One's own place on a waiting list, and the place offered ({TOKEN_HEADER})",
          responses={200: ("The place", WaitingListEntryView), **ENTRY_ERRORS})
    def get_waiting_list_entry(self, request, entry_id):
        return entry_view(self.waiting_list_entry(request, entry_id),
                          self.catalogs.current(self.db.session))

    @http("POST", "/api/waiting-list/<string:entry_id>/order", body=OrderRequest,
          headers=(ENTRY_TOKEN,),
          summary=f"Book with the place offered ({TOKEN_HEADER}): an order as POST "
                  "/api/orders places, taking the place held; one order per offer (the same "
                  "request again answers with it)",
          responses={201: ("Booked", OrderCreated),
                     409: ("No place offered now, or sold out", None),
                     **ENTRY_ERRORS, **TOO_MANY})
    def book_offered_place(self, request, entry_id, body):
        self.waiting_list_entry(request, entry_id)
        return 201, self.created(book(self.db, self.catalogs, entry_id, body, utcnow(),
                                      self.client(request)))

    @http("POST", "/api/waiting-list/<string:entry_id>/leave", headers=(ENTRY_TOKEN,),
          summary=f"Leave the waiting list, or turn down the place offered ({TOKEN_HEADER}): "
                  "it goes to the next person in line; the name and email are forgotten",
          responses={200: ("Left", WaitingListEntryView), **ENTRY_ERRORS})
    def leave_waiting_list(self, request, entry_id):
        self.waiting_list_entry(request, entry_id)
        catalog = self.catalogs.current(self.db.session)
        return entry_view(leave(self.db, catalog, entry_id, utcnow()), catalog)

    @http("GET", "/api/admin/waiting-lists", roles=(ADMIN,),
          summary="Each waiting list: how many wait, offers open, taken and lapsed, and the "
                  "conversion", responses={200: ("The lists", WaitingListReport)})
    def waiting_lists(self, request):
        return report(self.db, self.catalogs.current(self.db.session))

    @timer(interval=OFFER_SWEEP_SECONDS)
    def sweep_waiting_lists(self):
        offer_freed_places(self.db, self.catalogs, utcnow())
