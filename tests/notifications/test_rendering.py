"""The emails delegates get: every kind renders its key facts in text and HTML."""

import unicodedata

import pytest
from jinja2 import UndefinedError

from services.notifications.rendering import KINDS, format_dates, render

MANAGE_URL = "https://tickets.ecsite.eu/booking/6f1c2a?token=Zk3qP9"
ORGANISATION = "Science Centre <AHHAA> & Co"
ORGANISATION_HTML = "Science Centre &lt;AHHAA&gt; &amp; Co"

EVENTS = {
    "registration_received": {},
    "payment_confirmed": {"amount": 59000, "currency": "EUR", "payment_intent_id": "pi_123"},
    "e_ticket": {},
    "payment_failed": {"reason": "card_declined", "amount": 59000, "currency": "EUR"},
    "hold_expired": {},
    "cancelled": {"reason": "delegate", "refund_due": 8850},
    "refunded": {"amount": 8850, "currency": "EUR", "total_refunded": 8850,
                 "fully_refunded": False},
    "badge_changed": {},
}
# What each kind must say, in the text and (escaped, the same here) in the HTML.
FACTS = {
    "registration_received": ["EUR 590.00", "VAT included", "Full delegate (member)",
                              "2027-03-01 14:30 UTC"],
    "payment_confirmed": ["EUR 590.00", "PDF"],
    "e_ticket": ["Full delegate (member)", "10–12 June 2027", "Tampere Hall", "photo ID"],
    "payment_failed": ["EUR 590.00", "Reason: card_declined", "2027-03-01 14:30 UTC"],
    "hold_expired": ["register again"],
    "cancelled": ["EUR 88.50", "is on its way to your card"],
    "refunded": ["EUR 88.50"],
    "badge_changed": [],
}
NO_MANAGE_LINK = {"cancelled"}  # a cancelled booking has nothing left to manage


def make_context(kind: str, given_name: str = "Łukasz", family_name: str = "Żółć",
                 **event) -> dict:
    return {
        "conference": {
            "name": "Ecsite Annual Conference 2027",
            "starts_on": "2027-06-10",
            "ends_on": "2027-06-12",
            "venue": "Tampere Hall, Yliopistonkatu 55, Tampere, Finland",
        },
        "delegate": {
            "given_name": given_name,
            "family_name": family_name,
            "name": f"{given_name} {family_name}".strip(),
            "organisation": ORGANISATION,
            "email": "lukasz@example.org",
            "pronouns": "he/him",
        },
        "registration": {
            "id": "6f1c2a",
            "reference": "ECS27-7KQ3M9",
            "ticket_type_name": "Full delegate (member)",
            "add_ons": ["gala_dinner"],
            "amount_due": 59000,
            "currency": "EUR",
            "status": "pending_payment",
            "hold_expires_at": "2027-03-01T15:30:00+01:00",
        },
        "manage_url": MANAGE_URL,
        "event": {**EVENTS[kind], **event},
        "ticket_qr_cid": "ticket-qr@ecsite",
    }


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize(("given", "family"),
                         [("Αλέξανδρος", "Παπαδόπουλος"), ("Łukasz", "Żółć")])
def test_every_kind_says_its_key_facts(kind, given, family):
    rendered = render(kind, make_context(kind, given, family))
    facts = [f"{given} {family}", "ECS27-7KQ3M9", *FACTS[kind]]
    if kind not in NO_MANAGE_LINK:
        facts.append(MANAGE_URL)

    assert rendered.subject.strip() and "\n" not in rendered.subject
    for fact in facts:
        assert fact in rendered.text, fact
        assert fact in rendered.html, fact
    assert "The Ecsite conference team" in rendered.text
    assert "The Ecsite conference team" in rendered.html
    assert '<html lang="en">' in rendered.html and "<title>" in rendered.html
    assert "{{" not in rendered.text + rendered.html


@pytest.mark.parametrize("kind", ["e_ticket", "badge_changed"])
def test_organisation_is_escaped_in_html_only(kind):
    rendered = render(kind, make_context(kind))

    assert ORGANISATION in rendered.text
    assert ORGANISATION_HTML in rendered.html
    assert "<AHHAA>" not in rendered.html


def test_badge_changed_shows_pronouns_only_when_given():
    context = make_context("badge_changed")
    assert "Łukasz Żółć (he/him)" in render("badge_changed", context).text

    context["delegate"]["pronouns"] = None
    rendered = render("badge_changed", context)
    assert "Łukasz Żółć\n" in rendered.text
    assert "None" not in rendered.text + rendered.html


def test_e_ticket_shows_the_qr_code():
    rendered = render("e_ticket", make_context("e_ticket"))

    assert '<img src="cid:ticket-qr@ecsite"' in rendered.html
    assert 'width="200" height="200"' in rendered.html
    assert "ticket-qr.png" in rendered.text


def test_registration_received_without_hold_has_no_deadline():
    context = make_context("registration_received")
    context["registration"]["hold_expires_at"] = None

    rendered = render("registration_received", context)

    assert "UTC" not in rendered.text + rendered.html
    assert "\n\n\n" not in rendered.text
    assert f"Pay or manage your booking: {MANAGE_URL}" in rendered.text


def test_cancelled_mentions_a_refund_only_when_one_is_due():
    without = render("cancelled", make_context("cancelled", refund_due=0))
    with_refund = render("cancelled", make_context("cancelled", refund_due=8850))

    assert "refund" not in without.text.lower() and "refund" not in without.html.lower()
    assert "A refund of EUR 88.50 is on its way to your card" in with_refund.text
    assert "EUR 88.50</strong> is on its way to your card" in with_refund.html


def test_refunded_in_full_says_the_registration_is_cancelled():
    partial = render("refunded", make_context("refunded"))
    full = render("refunded", make_context("refunded", amount=59000, total_refunded=59000,
                                           fully_refunded=True))

    assert "cancelled" not in partial.text
    assert "Your registration is cancelled." in full.text
    assert "Your registration is cancelled." in full.html
    assert "EUR 590.00" in full.subject


def test_refunded_after_an_earlier_refund_states_the_total():
    rendered = render("refunded", make_context("refunded", total_refunded=17700))

    assert "In total, EUR 177.00 has been refunded" in rendered.text


def test_subject_is_not_html_escaped():
    context = make_context("e_ticket")
    context["conference"]["name"] = "Ecsite <Annual> & Conference"

    rendered = render("e_ticket", context)

    assert "Ecsite <Annual> & Conference" in rendered.subject
    assert "<title>Your e-ticket for the Ecsite &lt;Annual&gt; &amp; Conference" in rendered.html


def test_unknown_kind_is_refused():
    with pytest.raises(ValueError):
        render("welcome_pack", make_context("e_ticket"))


def test_a_missing_value_is_an_error():
    context = make_context("payment_failed")
    del context["event"]["reason"]

    with pytest.raises(UndefinedError):
        render("payment_failed", context)


def test_output_is_nfc_even_from_decomposed_input():
    decomposed = unicodedata.normalize("NFD", "Żółć")
    assert decomposed != "Żółć"

    rendered = render("e_ticket", make_context("e_ticket", family_name=decomposed))

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
