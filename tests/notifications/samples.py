"""Event data as registration and payments send it, for tests that need no broker."""

from shared.events.contracts import (
    BookingChangedData,
    DocumentData,
    OrderData,
    RegistrationData,
    TransferData,
)

REGISTRATION_ID = "6f1c2a5e-0000-4000-8000-000000000001"
OTHER_REGISTRATION_ID = "6f1c2a5e-0000-4000-8000-000000000002"
ORDER_ID = "0a7d4e1b-0000-4000-8000-000000000009"
ORGANISATION = "Science Centre <AHHAA> & Co"
TICKET = "Full conference (10-12 June)"

CONFERENCE = {
    "name": "Ecsite Annual Conference 2027",
    "starts_on": "2027-06-10",
    "ends_on": "2027-06-12",
    "venue": "Tampere Hall, Yliopistonkatu 55, Tampere, Finland",
    "timezone": "Europe/Helsinki",
    "name_changes_until": "2027-06-03",
    "organiser": {"name": "Ecsite", "address": "Avenue Louise 89/7, 1050 Brussels, Belgium",
                  "vat_number": "BE0459164560"},
}


def registration(given_name: str = "Łukasz", family_name: str = "Żółć", *,
                 email: str = "lukasz@example.org", **changes) -> dict:
    """A delegate's RegistrationData (plus whatever ``changes`` add, such as a reason)."""
    data = {
        "registration_id": REGISTRATION_ID, "order_id": ORDER_ID, "reference": "ECS27-7KQ3M9",
        "status": "confirmed", "ticket_type": "full", "ticket_type_name": TICKET,
        "role": "delegate", "add_ons": ["gala-dinner"], "amount_due": 59000,
        "vat_amount": 11988, "currency": "EUR",
        "delegate": {"given_name": given_name, "family_name": family_name,
                     "pronouns": "he/him", "organisation": ORGANISATION, "country": "PL",
                     "email": email},
        "hold_expires_at": None, "conference": CONFERENCE,
    }
    RegistrationData.model_validate(data)  # the samples keep to the contract
    return data | changes


DAY_TICKET = "Day pass (Friday 11 June)"
# What booking_changed adds to a registration: a day pass made a full ticket with the gala
# dinner, the difference paid apart.
CHANGE = {
    "change_id": "c4a1e2d3-0000-4000-8000-000000000007", "by": "delegate",
    "before": {"ticket_type": "day-friday", "ticket_type_name": DAY_TICKET, "add_ons": [],
               "add_on_names": []},
    "add_on_names": ["Gala dinner"], "difference": 25000, "refund_due": 0, "refunds": [],
    "paid_with": "0a7d4e1b-0000-4000-8000-00000000000c",
}


def booking_changed(**changes) -> dict:
    """A booking_changed's data (the registration as it is now, and ``CHANGE``)."""
    data = registration(**CHANGE | changes)
    BookingChangedData.model_validate(data)
    return data


def order_delegate(name: str, email: str, registration_id: str, reference: str) -> dict:
    return {"registration_id": registration_id, "reference": reference, "name": name,
            "email": email, "ticket_type_name": TICKET, "status": "pending_payment",
            "amount_due": 59000}


def order(buyer_name: str = "Łukasz Żółć", *, buyer_email: str = "lukasz@example.org",
          delegates: list[dict] | None = None, **changes) -> dict:
    """An OrderData: by default two delegates, the buyer one of them."""
    if delegates is None:
        delegates = [
            order_delegate("Zofia Zielińska", "zofia@example.org", OTHER_REGISTRATION_ID,
                           "ECS27-ZZ1111"),
            order_delegate(buyer_name, buyer_email, REGISTRATION_ID, "ECS27-7KQ3M9"),
        ]
    data = {
        "order_id": ORDER_ID, "reference": "ECS27-O-4F2K8P", "status": "pending_payment",
        "payment_method": "card", "amount_due": 59000 * len(delegates),
        "vat_amount": 11988 * len(delegates), "vat_rate_percent": "25.5", "currency": "EUR",
        "lines": [{"registration_id": d["registration_id"], "description": TICKET,
                   "amount": d["amount_due"]} for d in delegates],
        "buyer": {"name": buyer_name, "email": buyer_email, "organisation": ORGANISATION,
                  "country": "PL"},
        "delegates": delegates,
        "hold_expires_at": "2027-03-01T15:30:00+01:00",
        "conference": CONFERENCE,
    }
    OrderData.model_validate(data)
    return data | changes


def payment(**changes) -> dict:
    return {"order_id": ORDER_ID, "payment_intent_id": "pi_123", "amount": 118000,
            "currency": "EUR"} | changes


def failed(**changes) -> dict:
    """A payment_failed's data: the code for organisers, the words for the buyer."""
    return payment(**{"reason": "insufficient_funds",
                      "message": "The card has insufficient funds. Please try another card."}
                   | changes)


def paid(**changes) -> dict:
    """A payment_succeeded's data: the order paid by card."""
    return payment(**{"method": "card"} | changes)


# Paying by invoice: the order's invoice, due on the day its hold ends (in Tampere).
RF = "RF18539007547034"
INVOICE_NUMBER = "ECS27-I-000012"
CREDIT_NOTE_NUMBER = "ECS27-C-000003"
BANK = {"account_holder": "Ecsite AISBL", "iban": "BE71 0961 2345 6769", "bic": "GKCCBEBB",
        "bank_name": "Belfius Bank"}
HOLD_ENDS = "2027-03-15T12:00:00+00:00"
REMINDERS = ["2027-03-08T12:00:00+00:00", "2027-03-13T12:00:00+00:00"]


def invoice_order(buyer_name: str = "Łukasz Żółć", **changes) -> dict:
    """An OrderData of an order to be paid by invoice, with its reminders."""
    return order(buyer_name, **{"payment_method": "invoice", "hold_expires_at": HOLD_ENDS,
                                "payment_reminders_at": REMINDERS, "bank_account": BANK}
                 | changes)


def invoice(**changes) -> dict:
    """An invoice_issued's data: the invoice of an order to be paid by transfer."""
    data = {"order_id": ORDER_ID, "kind": "invoice", "number": INVOICE_NUMBER,
            "issued_on": "2027-03-01", "amount": 118000, "vat_amount": 23976,
            "currency": "EUR", "paid": False, "payment_reference": RF,
            "due_on": "2027-03-15", "invoice_number": None, "reason": "invoice_order"} | changes
    DocumentData.model_validate(data)
    return data


def credit_note(**changes) -> dict:
    """A credit_note_issued's data: half of the invoice credited for a refund."""
    return invoice(**{"kind": "credit_note", "number": CREDIT_NOTE_NUMBER, "amount": 59000,
                      "vat_amount": 11988, "payment_reference": None, "due_on": None,
                      "invoice_number": INVOICE_NUMBER, "reason": "refund",
                      "issued_on": "2027-03-20"} | changes)


def transfer(**changes) -> dict:
    """A transfer_recorded's data: a part of what the invoice asks for."""
    data = {"order_id": ORDER_ID, "transfer_id": "tr-1", "amount": 50000, "currency": "EUR",
            "received_on": "2027-03-05", "total_received": 50000,
            "amount_due": 118000} | changes
    TransferData.model_validate(data)
    return data


def refund(**changes) -> dict:
    """A payment_refunded's data: a part of a card payment handed back."""
    return payment(**{"method": "card", "refund_id": "re_1", "total_refunded": 100,
                      "amount": 100, "fully_refunded": False} | changes)
