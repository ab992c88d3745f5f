"""The emails buyers and delegates get: every kind renders its key facts in text and HTML,
from the context the service builds out of the events."""

import re
import unicodedata

import pytest
from jinja2 import UndefinedError

from services.notifications.domain import DELEGATE_KINDS, TICKET_KINDS, WAITING_LIST_KINDS
from services.notifications.models import Message
from services.notifications.rendering import KINDS, format_dates, render
from services.notifications.sending import Settings, context
from shared.auth import order_token, registration_token
from tests.notifications import samples

SETTINGS = Settings(from_address="Ecsite <tickets@ecsite.test>",
                    public_base_url="https://tickets.ecsite.eu", secret_key="s3cret",
                    retry_base_seconds=5)
MANAGE_URL = (f"https://tickets.ecsite.eu/manage/{samples.REGISTRATION_ID}"
              f"#token={registration_token('s3cret', samples.REGISTRATION_ID)}")
ORDER_URL = (f"https://tickets.ecsite.eu/orders/{samples.ORDER_ID}"
             f"#token={order_token('s3cret', samples.ORDER_ID)}")
REBOOK_URL = (f"https://tickets.ecsite.eu/?rebook={samples.ORDER_ID}"
              f"#token={order_token('s3cret', samples.ORDER_ID)}")
ORGANISATION_HTML = "Science Centre &lt;AHHAA&gt; &amp; Co"

# What each kind's event adds to its data.
EVENTS = {
    "order_received": {},
    "payment_confirmed": {"method": "card"},
    "payment_failed": {"reason": "insufficient_funds",
                       "message": "The card has insufficient funds. Please try another card."},
    "hold_expired": {"status": "expired"},
    "order_cancelled": {"reason": "buyer", "refund_due": 8850, "status": "cancelled"},
    "refunded": {"method": "card", "amount": 8850, "refund_id": "re_1",
                 "total_refunded": 8850, "fully_refunded": False},
    "invoice": {},
    "invoice_reminder": {},
    "payment_reminder": {},
    "transfer_received": {},
    "credit_note": {},
    "e_ticket": {},
    "badge_changed": {},
    "cancelled": {"reason": "delegate", "refund_due": 8850, "status": "cancelled"},
    "booking_changed": samples.CHANGE,
}
PAYMENT_KINDS = ("payment_confirmed", "payment_failed", "refunded")
# The data of the payments event each kind about documents comes from.
DOCUMENT_KINDS = {"invoice": samples.invoice, "credit_note": samples.credit_note,
                  "transfer_received": samples.transfer}
RF_PRINTED = "RF18 5390 0754 7034"
# What each kind must say, in the text and (escaped, the same here) in the HTML.
FACTS = {
    "order_received": ["EUR 1,180.00", "VAT included", samples.TICKET, "Zofia Zielińska",
                       "EUR 590.00", "2027-03-01 14:30 UTC", "its 2 places", ORDER_URL],
    "payment_confirmed": ["EUR 1,180.00", "PDF", "e-ticket", ORDER_URL],
    "payment_failed": ["EUR 1,180.00", "The card has insufficient funds.", "2027-03-01 14:30 UTC",
                       ORDER_URL],
    "hold_expired": ["register again", "its places are released", "filled in", REBOOK_URL],
    "order_cancelled": ["As you asked", "Zofia Zielińska", "EUR 88.50",
                        "is on its way to your card"],
    "refunded": ["EUR 88.50", ORDER_URL],
    "invoice": [samples.INVOICE_NUMBER, "EUR 1,180.00", "VAT included", "15 March 2027",
                RF_PRINTED, "bank details are on the attached invoice", "BE71 0961 2345 6769",
                ORDER_URL],
    "invoice_reminder": [samples.INVOICE_NUMBER, "EUR 1,180.00", "15 March 2027", RF_PRINTED,
                         "bank details are on the attached invoice", ORDER_URL],
    "payment_reminder": ["not paid yet", "its 2 places are held", "2027-03-01 14:30 UTC",
                         "EUR 1,180.00", ORDER_URL],
    "transfer_received": ["EUR 500.00", "5 March 2027", "EUR 680.00", "15 March 2027",
                          RF_PRINTED, ORDER_URL],
    "credit_note": [samples.CREDIT_NOTE_NUMBER, f"invoice {samples.INVOICE_NUMBER}",
                    "EUR 590.00", "refunded", "PDF", ORDER_URL],
    "e_ticket": [samples.TICKET, "10–12 June 2027", "Tampere Hall", "photo ID", MANAGE_URL],
    "badge_changed": [MANAGE_URL],
    "cancelled": ["As you asked", "EUR 88.50", "is on its way to the card that paid"],
    "booking_changed": ["As you asked", samples.DAY_TICKET, samples.TICKET, "Gala dinner",
                        "EUR 250.00", "has been paid", "updated e-ticket", "photo ID",
                        MANAGE_URL],
}
# Every kind about one booking; "links" is about all of an address's (test_the_links_email),
# and the waiting list's are about no booking (test_waiting_list_emails.py).
BOOKING_KINDS = tuple(kind for kind in KINDS if kind not in ("links", *WAITING_LIST_KINDS))
REFERENCES = {kind: "ECS27-7KQ3M9" if kind in DELEGATE_KINDS else "ECS27-O-4F2K8P"
              for kind in BOOKING_KINDS}


def context_of(kind: str, given_name: str = "Łukasz", family_name: str = "Żółć",
               order: dict | None = None, invoice: dict | None = None, received: int = 0,
               documents: tuple = (), carried: dict | None = None, **event) -> dict:
    """The context the service renders ``kind`` with: from a registration event for a
    delegate, an order event or a payments event (and the order known, with its
    ``invoice`` and the money ``received`` by transfer) for the buyer; ``carried``, the
    event data of the messages it says the news of too."""
    if kind in ("invoice", "invoice_reminder", "transfer_received", "credit_note"):
        order = order or samples.invoice_order(f"{given_name} {family_name}")
        invoice = invoice or samples.invoice()
    order = order or samples.order(f"{given_name} {family_name}")
    changes = {**EVENTS[kind], **event}
    if kind in DELEGATE_KINDS:
        data = samples.registration(given_name, family_name, **changes)
    elif kind in PAYMENT_KINDS:
        data = samples.payment(**changes)
    elif kind in DOCUMENT_KINDS:
        data = DOCUMENT_KINDS[kind](**changes)
    else:
        data = order | changes
    return context(Message(kind=kind, event_data=data, order_id=samples.ORDER_ID,
                           registration_id=samples.REGISTRATION_ID), order, SETTINGS,
                   invoice, received, documents, carried)


@pytest.mark.parametrize("kind", BOOKING_KINDS)
@pytest.mark.parametrize(("given", "family"),
                         [("Αλέξανδρος", "Παπαδόπουλος"), ("Łukasz", "Żółć")])
def test_every_kind_says_its_key_facts(kind, given, family):
    rendered = render(kind, context_of(kind, given, family))
    facts = [f"Dear {given} {family},", f"Booking reference: {REFERENCES[kind]}", *FACTS[kind]]

    assert rendered.subject.strip() and "\n" not in rendered.subject
    assert REFERENCES[kind] in rendered.subject or kind == "badge_changed"
    for fact in facts:
        assert fact in rendered.text, fact
        assert fact in rendered.html, fact
    assert "The Ecsite conference team" in rendered.text
    assert "The Ecsite conference team" in rendered.html
    assert '<html lang="en">' in rendered.html and "<title>" in rendered.html
    assert "{{" not in rendered.text + rendered.html


@pytest.mark.parametrize("kind", BOOKING_KINDS)
def test_each_link_is_the_addressee_s_own(kind):
    rendered = render(kind, context_of(kind))
    own = {"e_ticket": MANAGE_URL, "badge_changed": MANAGE_URL, "booking_changed": MANAGE_URL,
           "hold_expired": REBOOK_URL, "cancelled": None,
           "order_cancelled": None}.get(kind, ORDER_URL)

    links = set(re.findall(r'https://[^\s"<]+', rendered.text + rendered.html))
    assert links == ({own} if own else set())


def test_the_links_email_gives_each_booking_its_own_private_link():
    data = {"email": "zofia@example.org", "conference": samples.order()["conference"],
            "registrations": [{"id": samples.REGISTRATION_ID, "reference": "ECS27-7KQ3M9",
                               "name": "Zofia Zielińska"}],
            "orders": [{"id": samples.ORDER_ID, "reference": "ECS27-O-4F2K8P",
                        "name": "Zofia Zielińska"}]}
    rendered = render("links", context(Message(kind="links", event_data=data), None, SETTINGS))
    assert rendered.subject.startswith("Your links for the ")
    assert "Dear Zofia Zielińska," in rendered.text and "Booking reference" not in rendered.text
    links = set(re.findall(r'https://[^\s"<]+', rendered.text + rendered.html))
    assert links == {MANAGE_URL, ORDER_URL}
    assert "ECS27-7KQ3M9" in rendered.text and "ECS27-O-4F2K8P" in rendered.html


def test_the_order_received_lists_every_delegate_with_ticket_and_share():
    rendered = render("order_received", context_of("order_received"))

    assert f"- Zofia Zielińska: {samples.TICKET}, EUR 590.00" in rendered.text
    assert f"- Łukasz Żółć: {samples.TICKET}, EUR 590.00" in rendered.text
    assert "<td style=\"padding:4px 16px 4px 0;\">Zofia Zielińska</td>" in rendered.html
    assert "Amount due: EUR 1,180.00 (VAT included)" in rendered.text


def test_an_order_of_one_speaks_of_its_place():
    one = samples.order(delegates=[samples.order_delegate(
        "Łukasz Żółć", "lukasz@example.org", samples.REGISTRATION_ID, "ECS27-7KQ3M9")])

    received = render("order_received", context_of("order_received", order=one))
    expired = render("hold_expired", context_of("hold_expired", order=one))

    assert "holding its place until you pay" in received.text
    assert "its place is released" in expired.text and "places are" not in expired.text


def test_order_received_without_hold_has_no_deadline():
    rendered = render("order_received", context_of("order_received", hold_expires_at=None))

    assert "UTC" not in rendered.text + rendered.html
    assert "\n\n\n" not in rendered.text
    assert f"Pay or see your order: {ORDER_URL}" in rendered.text


def test_a_payment_message_shows_the_latest_of_its_order():
    later = samples.order(reference="ECS27-O-LATEST", hold_expires_at="2027-03-02T10:00:00Z")

    rendered = render("payment_failed", context_of("payment_failed", order=later))

    assert "ECS27-O-LATEST" in rendered.subject
    assert "still held until 2027-03-02 10:00 UTC" in rendered.text


def test_an_order_event_shows_its_own_data():
    rendered = render("order_received", context_of(
        "order_received", order=samples.order(reference="ECS27-O-LATEST"),
        reference="ECS27-O-OWN"))

    assert "ECS27-O-OWN" in rendered.subject and "LATEST" not in rendered.text


@pytest.mark.parametrize("kind", ["e_ticket", "badge_changed"])
def test_organisation_is_escaped_in_html_only(kind):
    rendered = render(kind, context_of(kind))

    assert samples.ORGANISATION in rendered.text
    assert ORGANISATION_HTML in rendered.html
    assert "<AHHAA>" not in rendered.html


def test_badge_changed_shows_pronouns_only_when_given():
    context = context_of("badge_changed")
    assert "Łukasz Żółć (he/him)" in render("badge_changed", context).text

    context["delegate"]["pronouns"] = None
    rendered = render("badge_changed", context)
    assert "Łukasz Żółć\n" in rendered.text
    assert "None" not in rendered.text + rendered.html


@pytest.mark.parametrize("kind", TICKET_KINDS)
def test_the_e_ticket_shows_the_qr_code(kind):
    rendered = render(kind, context_of(kind))

    assert '<img src="cid:ticket-qr@ecsite"' in rendered.html
    assert 'width="200" height="200"' in rendered.html
    assert "ticket-qr.png" in rendered.text


def test_a_changed_booking_ends_with_the_e_ticket_as_the_e_ticket_email_gives_it():
    ticket = render("e_ticket", context_of("e_ticket", ticket_type_name=samples.TICKET))
    changed = render("booking_changed", context_of("booking_changed"))

    for e_ticket, email in [(ticket.text, changed.text), (ticket.html, changed.html)]:
        start = e_ticket.index("Name")
        assert e_ticket[start:] == email[email.index("Name"):]


@pytest.mark.parametrize(("change", "words"), [
    ({"difference": -5000, "refund_due": 5000,
      "refunds": [{"order_id": samples.ORDER_ID, "amount": 5000}]},
     "will be refunded to the card or account that paid"),
    ({"difference": -5000, "refund_due": 0}, "nothing is refunded for this change"),
    ({"difference": 0}, "The price of your booking is the same."),
])
def test_a_changed_booking_says_what_was_paid_or_is_refunded(change, words):
    rendered = render("booking_changed", context_of("booking_changed", **change))

    assert words in rendered.text and words in rendered.html
    assert "has been paid" not in rendered.text + rendered.html
    assert ("EUR 50.00" in rendered.text) is (change.get("refund_due", 0) > 0)


@pytest.mark.parametrize(("by", "words"), [
    ("buyer", "The person who booked your place has changed your booking"),
    ("organiser", "The conference team has changed your booking"),
])
def test_a_changed_booking_says_who_changed_it(by, words):
    rendered = render("booking_changed", context_of("booking_changed", by=by))

    assert words in rendered.text and words in rendered.html


def test_a_booking_that_had_no_add_ons_says_so():
    rendered = render("booking_changed", context_of("booking_changed"))

    assert "Before:\n- Ticket: Day pass (Friday 11 June)\n- Add-ons: none" in rendered.text
    assert "Now:\n- Ticket: Full conference (10-12 June)\n- Add-ons: Gala dinner" in rendered.text


@pytest.mark.parametrize("kind", ["cancelled", "order_cancelled"])
def test_a_cancellation_mentions_a_refund_only_when_one_is_due(kind):
    without = render(kind, context_of(kind, refund_due=0))
    with_refund = render(kind, context_of(kind, refund_due=8850))

    assert "refund" not in without.text.lower() and "refund" not in without.html.lower()
    assert "A refund of EUR 88.50 is on its way to" in with_refund.text
    assert "EUR 88.50</strong> is on its way to" in with_refund.html


@pytest.mark.parametrize(("reason", "words"), [
    ("buyer", "The person who booked your place has cancelled"),
    ("organiser", "The conference team has cancelled"),
    ("refunded", "has been refunded, so your registration"),
    ("no_capacity_after_payment", "no places were left"),
    ("paid_after_cancellation", "remains cancelled"),
])
def test_a_delegate_learns_why_their_place_is_cancelled(reason, words):
    rendered = render("cancelled", context_of("cancelled", reason=reason, refund_due=0))

    assert words in rendered.text and words in rendered.html


@pytest.mark.parametrize(("reason", "words"), [
    ("organiser", "The conference team has cancelled your order"),
    ("no_capacity_after_payment", "not enough places were left"),
    ("paid_after_cancellation", "remains cancelled"),
    ("delegate", "for the Ecsite Annual Conference 2027 is cancelled."),
])
def test_a_buyer_learns_why_their_order_is_cancelled(reason, words):
    rendered = render("order_cancelled", context_of("order_cancelled", reason=reason))

    assert words in rendered.text and words in rendered.html


def test_refunded_in_full_says_the_order_is_cancelled():
    partial = render("refunded", context_of("refunded"))
    full = render("refunded", context_of("refunded", amount=118000, total_refunded=118000,
                                         fully_refunded=True))

    assert "cancelled" not in partial.text
    assert "Your order is cancelled." in full.text
    assert "Your order is cancelled." in full.html
    assert "EUR 1,180.00" in full.subject


REFUND_MADE = {"method": "card", "amount": 8850, "currency": "EUR"}
CREDIT_NOTE = samples.credit_note(amount=8850)


def test_a_cancellation_that_carries_its_refund_and_credit_note_says_all_three():
    rendered = render("order_cancelled", context_of("order_cancelled", documents=(
        {"kind": "credit_note", "number": samples.CREDIT_NOTE_NUMBER, "filename": "x.pdf"},),
        carried={"refunded": REFUND_MADE, "credit_note": CREDIT_NOTE}))

    assert rendered.subject == "Order ECS27-O-4F2K8P cancelled: refund of EUR 88.50"
    for part in (rendered.text, rendered.html):
        assert "As you asked, we have cancelled" in part
        assert "refunded" in part and "EUR 88.50" in part and "to the card you paid with" in part
        assert samples.CREDIT_NOTE_NUMBER in part and f"invoice {samples.INVOICE_NUMBER}" in part
        assert "attached to this email as a PDF" in part
        assert "is on its way" not in part  # it is said once, as it was made


def test_a_cancellation_refunded_by_transfer_says_so():
    rendered = render("order_cancelled", context_of("order_cancelled", carried={
        "refunded": {**REFUND_MADE, "method": "transfer"}}))

    assert "by bank transfer, to the account your payment came from" in rendered.text
    assert "credit note" not in rendered.text.lower()


def test_a_refund_that_carries_its_credit_note_says_both():
    rendered = render("refunded", context_of("refunded", carried={"credit_note": CREDIT_NOTE}))

    assert rendered.subject.startswith("Refund of EUR 88.50")
    for part in (rendered.text, rendered.html):
        assert "to the card you paid with" in part and samples.CREDIT_NOTE_NUMBER in part
        assert "attached to this email as a PDF" in part


def test_refunded_after_an_earlier_refund_states_the_total():
    rendered = render("refunded", context_of("refunded", total_refunded=17700))

    assert "In total, EUR 177.00 has been refunded" in rendered.text


def test_subject_is_not_html_escaped():
    context = context_of("e_ticket")
    context["conference"] = {**context["conference"], "name": "Ecsite <Annual> & Conference"}

    rendered = render("e_ticket", context)

    assert "Ecsite <Annual> & Conference" in rendered.subject
    assert "<title>Your e-ticket for the Ecsite &lt;Annual&gt; &amp; Conference" in rendered.html


def test_unknown_kind_is_refused():
    with pytest.raises(ValueError):
        render("welcome_pack", context_of("e_ticket"))


def test_a_missing_value_is_an_error():
    context = context_of("payment_failed")
    del context["event"]["message"]

    with pytest.raises(UndefinedError):
        render("payment_failed", context)


def test_output_is_nfc_even_from_decomposed_input():
    decomposed = unicodedata.normalize("NFD", "Żółć")
    assert decomposed != "Żółć"

    rendered = render("e_ticket", context_of("e_ticket", family_name=decomposed))

    for part in (rendered.subject, rendered.text, rendered.html):
        assert unicodedata.is_normalized("NFC", part)
    assert "Łukasz Żółć" in rendered.text and "Łukasz Żółć" in rendered.html


@pytest.mark.parametrize(("starts_on", "ends_on", "expected"), [
    ("2027-06-10", "2027-06-12", "10–12 June 2027"),
    ("2027-06-30", "2027-07-02", "30 June – 2 July 2027"),
    ("2027-12-30", "2028-01-02", "30 December 2027 – 2 January 2028"),
    ("2027-06-10", "2027-06-10", "10 June 2027"),
])
def test_format_dates(starts_on, ends_on, expected):
    assert format_dates(starts_on, ends_on) == expected



def test_an_order_that_pays_for_a_change_speaks_of_the_change():
    change = samples.order(change_of=samples.REGISTRATION_ID, delegates=[
        samples.order_delegate("Łukasz Żółć", "lukasz@example.org", samples.REGISTRATION_ID,
                               "ECS27-7KQ3M9")])

    received = render("order_received", context_of("order_received", order=change))
    lapsed = render("hold_expired", context_of("hold_expired", order=change))

    assert received.subject.startswith("Change to your booking")
    assert "takes effect once the difference is paid" in received.text
    assert f"Pay for the change: {ORDER_URL}" in received.text and ORDER_URL in received.html
    assert "stays exactly as it was" in lapsed.text and "stays exactly as it was" in lapsed.html
    assert "register again" not in lapsed.text.lower() + lapsed.html.lower()
    assert "\n\n\n" not in received.text + lapsed.text


@pytest.mark.parametrize(("event", "subject", "words"), [
    ({"reason": "buyer", "refund_due": 0}, "Change ECS27-O-4F2K8P cancelled",
     "As you asked, the change ECS27-O-4F2K8P to Łukasz Żółć's booking is cancelled before"
     " it was paid: the booking stays exactly as it was."),
    ({"reason": "buyer", "refund_due": 9500, "with_booking": True},
     "Change ECS27-O-4F2K8P cancelled: refund of EUR 95.00",
     "Łukasz Żółć's booking is cancelled, and with it the change ECS27-O-4F2K8P that was"
     " paid for apart, so its payment goes back too."),
    ({"reason": "no_capacity_after_payment", "refund_due": 9500},
     "Change ECS27-O-4F2K8P cancelled", "the places it asked for had gone"),
])
def test_a_cancelled_change_says_what_became_of_the_booking(event, subject, words):
    change = samples.order(change_of=samples.REGISTRATION_ID, delegates=[
        samples.order_delegate("Łukasz Żółć", "lukasz@example.org", samples.REGISTRATION_ID,
                               "ECS27-7KQ3M9")])
    carried = {"refunded": {**REFUND_MADE, "amount": 9500}} if event.get("with_booking") else {}
    rendered = render("order_cancelled", context_of("order_cancelled", order=change,
                                                    carried=carried, **event))

    assert rendered.subject.startswith(subject)
    html_words = words.replace("ECS27-O-4F2K8P", "<strong>ECS27-O-4F2K8P</strong>")
    assert words in rendered.text and html_words in rendered.html
    assert "held places for" not in rendered.text
