"""Payments fuzzed through its OpenAPI document (tests/fuzz.py): each operation on an
invoice order of its own, booked through registration, so that requests reach past the
token checks to an order with an invoice."""

from tests.fuzz import fuzz
from tests.payments.test_invoices import book, invoiced


def test_no_5xx_and_every_answer_as_documented(stack, subtests):
    def invoice_order():
        created = book(stack)
        return {"order_id": created["id"], "X-Order-Token": created["token"],
                "number": invoiced(stack, created)["invoice"]["invoice_number"]}

    fuzz(stack.payments, subtests, pinned=invoice_order)
