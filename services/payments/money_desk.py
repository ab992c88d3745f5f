"""What organisers do with money through the payments service: see an order's money,
record a bank transfer, import the bank's statement, decide about transfers nobody
could match. A part of ``PaymentsService`` (its entrypoints), kept apart to be read
apart. ``ADMIN_TOKEN`` and ``FINANCE_TOKEN`` may do all of it."""

from services.payments import operations, transfers
from services.payments.schemas import (
    AssignRequest,
    DismissRequest,
    FlaggedEvent,
    FlaggedEvents,
    OrderMoney,
    PaymentView,
    StatementImported,
    TransferList,
    TransferQuery,
    TransferRequest,
    TransferView,
)
from shared.auth import MONEY
from shared.db import utcnow
from shared.http import IDEMPOTENCY_HEADER, http, idempotency_key, read_body

MAX_STATEMENT_BYTES = 5 * 1024 * 1024  # a year of a conference's transfers is far less


class MoneyDesk:
    """The ``/api/admin/`` money entrypoints of the payments service."""

    @http("GET", "/api/admin/orders/<string:order_id>/money", roles=MONEY,
          summary="An order's money: due, received, refunded, outstanding; its payments, "
                  "transfers and documents",
          responses={200: ("The order's money", OrderMoney)})
    def order_money(self, request, order_id):
        money = transfers.money_of(self.db, order_id)
        return OrderMoney(
            **{k: v for k, v in money.items() if k not in ("payments", "transfers")},
            payments=[PaymentView.model_validate(p, from_attributes=True)
                      for p in money["payments"]],
            transfers=[TransferView.model_validate(t) for t in money["transfers"]],
            documents=self.document_views(order_id))

    @http("POST", "/api/admin/orders/<string:order_id>/transfers", body=TransferRequest,
          roles=MONEY, headers=(IDEMPOTENCY_HEADER,),
          summary="Record a bank transfer received for an order (Idempotency-Key header: the "
                  "same key records it once)",
          responses={201: ("Recorded", TransferView)})
    def record_transfer(self, request, order_id, body):
        transfer = transfers.record(
            self.db, order_id, body.amount, body.received_on, body.reference, body.payer,
            self.receipt_prefix, utcnow(), idempotency_key(request))
        return 201, TransferView.model_validate(transfer)

    @http("GET", "/api/admin/transfers", query=TransferQuery, roles=MONEY,
          summary="Bank transfers, oldest first; ?status=unmatched for those to decide",
          responses={200: ("Transfers", TransferList)})
    def list_transfers(self, request, query):
        return TransferList(items=[TransferView.model_validate(t) for t in transfers.listed(
            self.db, status=query.status)])

    @http("POST", "/api/admin/statements", roles=MONEY,
          summary="Import the bank's ISO 20022 camt.053 statement (the XML file as the "
                  "body): credits matched to orders by RF reference, each imported once",
          responses={201: ("Imported", StatementImported)})
    def import_statement(self, request):
        xml = read_body(request, MAX_STATEMENT_BYTES, "statement")
        outcome = transfers.import_statement(self.db, xml, self.receipt_prefix, utcnow())
        return 201, StatementImported(
            statement_id=outcome["statement_id"],
            already_imported=outcome["already_imported"],
            **{key: [TransferView.model_validate(t) for t in outcome[key]]
               for key in ("matched", "unmatched")})

    @http("POST", "/api/admin/transfers/<string:transfer_id>/assign", body=AssignRequest,
          roles=MONEY, summary="Say which order an unmatched transfer pays",
          responses={200: ("Matched", TransferView)})
    def assign_transfer(self, request, transfer_id, body):
        return TransferView.model_validate(transfers.assign(
            self.db, transfer_id, body.order_id, self.receipt_prefix, utcnow()))

    @http("POST", "/api/admin/transfers/<string:transfer_id>/dismiss", body=DismissRequest,
          roles=MONEY, summary="Say an unmatched transfer pays no order, and why",
          responses={200: ("Dismissed", TransferView)})
    def dismiss_transfer(self, request, transfer_id, body):
        return TransferView.model_validate(transfers.dismiss(self.db, transfer_id, body.note))

    @http("GET", "/api/admin/stripe-events/flagged", roles=MONEY,
          summary="Stripe's events that payments settled but an organiser should look at "
                  "(an amount not asked for, an unexpected shape), newest first",
          responses={200: ("Flagged events", FlaggedEvents)})
    def flagged_events(self, request):
        return FlaggedEvents(items=[FlaggedEvent.model_validate(e, from_attributes=True)
                                    for e in operations.flagged_events(self.db)])
