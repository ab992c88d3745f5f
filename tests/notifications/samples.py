"""Event data as registration and payments send it, for tests that need no broker."""

from shared.events import OrderData, RegistrationData

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
