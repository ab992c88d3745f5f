"""Paying by SEPA Direct Debit beside the card, in a real browser (tests/registration/
browser.py), against registration and payments with localstripe: the stack offers
"card,sepa_debit" (STRIPE_PAYMENT_METHODS of the local defaults)."""

from tests.registration import test_pages as pages
from tests.registration.conftest import register
from tests.registration.test_pages import (
    CARD_OK,
    FINANCE,
    GREEK,
    euro,
    orders,
    payments_of,
    place_order,
    price,
    team,
)

site, browse = pages.site, pages.browse  # the pages' fixtures

# localstripe's test accounts: debited, and refused (a moment after the debit is sent).
IBAN_OK = "DE89370400440532013000"
IBAN_REFUSED = "DE62370400440532013001"
AS_TYPED = "de89 3704 0044 0532 0130 00"  # spaces and lower case, as people type them
WRONG_CHECK_DIGITS = "DE88 3704 0044 0532 0130 00"
DEBIT = "SEPA Direct Debit (bank account in the euro area)"
CHECK = "This IBAN is not valid: check it for a typing mistake."
# What the page says of IBANs as typed, before sending anything.
IBAN_CHECKS = {
    "": "Enter the IBAN of the account to debit.",
    "fr14 2004 1010 0505 0001 3m02 606": "",
    "GB82 WEST 1234 5698 7654 32": "",
    "NO93 8601 1117 947": "",
    "DE89 3704 0044 0532 0130 0": "An IBAN from Germany has 22 characters; this one has "
                                  "21. Check for a missing or extra character.",
    "SA03 8000 0000 6080 1016 7519": "SEPA Direct Debit takes accounts in the SEPA "
                                     "countries only, not in Saudi Arabia: check the start "
                                     "of the IBAN, or pay by card.",
    "1234 5678 9012 3456": "An IBAN starts with the two letters of its country, such as DE or "
                           "FR: check the start of the IBAN.",
    "DE89-3704-0044-0532-0130-00": "An IBAN has only letters and digits, such as DE89 3704 "
                                   "0044 0532 0130 00.",
    "DEAB 3704 0044 0532 0130 00": CHECK,
    WRONG_CHECK_DIGITS: CHECK,
}


def debited_with(site, order: dict) -> list:
    """The PaymentMethod each payment of the order was made with, as localstripe has it."""
    methods = []
    for payment in payments_of(site, order):
        intent = site.stripe.v1.payment_intents.retrieve(payment["payment_intent_id"])
        if intent.payment_method:
            methods.append(site.stripe.v1.payment_methods.retrieve(intent.payment_method))
    return methods


def test_one_delegate_pays_by_sepa_direct_debit_with_the_keyboard(site, browse):
    api = site.registration
    amount = price(api, "full", GREEK["add_ons"])
    seen = browse("debit_booking", api.base_url, delegate=GREEK, bad_iban=WRONG_CHECK_DIGITS,
                  iban=AS_TYPED, holder="Eugenides Foundation", iban_checks=list(IBAN_CHECKS))

    assert seen["ready"] == ("Your payment is ready: enter your card, or your bank account "
                             "for a SEPA Direct Debit.")
    assert seen["legend"] == "Pay with"
    assert seen["choices"] == ["Card", DEBIT]
    assert seen["card_checked"] and not seen["debit_fields_visible_at_first"]
    assert seen["card_group_label"] == 1
    assert seen["focused_on_choice"] == "pay-with-sepa_debit"
    assert not seen["card_fields_visible"]
    assert seen["holder"] == "Αλέξανδρος Παπαδόπουλος"  # the buyer
    assert seen["mandate"].startswith(
        "By providing your IBAN and confirming this payment, you authorise (A) Ecsite and "
        "Stripe, our payment service provider, to send instructions to your bank")
    assert "A refund must be claimed within 8 weeks" in seen["mandate"]
    assert seen["pay_described_by"] == "debit-mandate"
    assert seen["unlabelled"] == []
    assert seen["axe"] == [] and seen["axe_with_error"] == []
    assert seen["iban_checks"] == IBAN_CHECKS
    # Wrong check digits: by the field, focused there, and nothing sent.
    assert seen["bad_iban_errors"] == {"debit-iban-error": CHECK}
    assert seen["iban_described_by"].split() == ["debit-iban-hint", "debit-iban-error"]
    assert seen["iban_invalid"] == "true"
    assert seen["focused_after_bad_iban"] == "debit-iban"
    assert seen["sent_after_bad_iban"] == {"card_setup": 0, "pay": 0}
    assert seen["both_errors"] == {"debit-name-error": "Enter the name of the account holder.",
                                   "debit-iban-error": CHECK}
    assert seen["focused_after_both"] == "debit-name"
    # The good IBAN shown as on a bank statement; Tab from it reaches the button.
    assert seen["iban_shown"] == "DE89 3704 0044 0532 0130 00"
    assert seen["focused_before_pay"] == "pay"
    assert seen["sent"] == {"card_setup": 1, "pay": 1}
    assert "confirmed" in seen["confirmation_status"]
    assert seen["confirmation_paid"] == euro(amount)

    [order] = orders(api, "Παπαδόπουλος")
    assert order["status"] == "confirmed" and order["amount_paid"] == amount
    assert [p["status"] for p in payments_of(site, order)] == ["succeeded"]
    [method] = debited_with(site, order)
    assert (method.type, method.sepa_debit.country, method.sepa_debit.last4) == (
        "sepa_debit", "DE", "3000")
    assert (method.billing_details["name"], method.billing_details["email"]) == (
        "Eugenides Foundation", GREEK["email"])


def test_a_refused_debit_then_a_card(site, browse):
    api = site.registration
    amount = price(api, "full", GREEK["add_ons"])
    seen = browse("debit_refused_then_card", api.base_url, delegate=GREEK,
                  refused_iban=IBAN_REFUSED, card=CARD_OK,
                  viewport={"width": 360, "height": 800})

    assert seen["refusal"] == ("Your bank refused the direct debit. Check the IBAN and the "
                               "account holder, or pay by card.")
    assert "debit-error" in seen["iban_described_by"].split()
    assert seen["pay_button_after_refusal"] == f"Pay {euro(amount)}"
    assert seen["focused_after_refusal"] == "pay"
    assert seen["status_after_refusal"] == ""
    assert seen["page_width"] <= 360
    # Choosing the card clears what was said of the debit.
    assert not seen["refusal_visible_after_switch"]
    assert "debit-error" not in seen["iban_described_by_after_switch"].split()
    assert seen["pay_described_by_after_switch"] == ""
    assert "confirmed" in seen["confirmation_status"]

    [order] = orders(api, "Παπαδόπουλος")
    assert order["status"] == "confirmed" and order["amount_paid"] == amount
    tries = [(p["status"] == "succeeded", p["failure_reason"]) for p in payments_of(site, order)]
    assert [ok for ok, _ in tries] == [False, True] and tries[0][1]  # refused, then paid
    assert [m.type for m in debited_with(site, order)] == ["sepa_debit", "card"]


def test_a_debit_still_being_processed_is_said_so(site, browse):
    api = site.registration
    seen = browse("debit_processing", api.base_url, delegate=GREEK, iban=IBAN_OK)

    processing = ("Your direct debit is being processed; you will get an email when it has "
                  "gone through.")
    assert seen["processing"] == processing
    assert seen["confirmation_status"] == processing
    assert not seen["next_visible"]
    [order] = orders(api, "Παπαδόπουλος")
    assert order["status"] == "pending_payment"  # nothing was charged: the answer was made up


def test_the_buyer_pays_by_debit_from_the_order_page(site, browse):
    api = site.registration
    placed = place_order(api, FINANCE, team())
    seen = browse("debit_on_order_page", api.base_url, id=placed["id"], token=placed["token"],
                  iban=IBAN_OK, viewport={"width": 360, "height": 800})

    assert seen["holder"] == FINANCE["name"]
    assert seen["width"] <= 360
    assert "confirmed" in seen["confirmation_status"]
    assert seen["confirmation_paid"] == euro(placed["amount_due"])
    assert [m.type for m in debited_with(site, placed)] == ["sepa_debit"]


def test_a_delegate_pays_later_by_debit_from_their_booking_page(site, browse):
    created = register(site.registration)
    seen = browse("debit_on_manage_page", site.registration.base_url, id=created["id"],
                  token=created["token"], iban=IBAN_OK)

    assert seen["holder"] == "Łukasz Żółć"
    assert seen["unlabelled"] == []
    assert not seen["payment_visible_after_paying"]
    order = site.order({"id": created["order_id"], "token": created["order_token"]})
    assert order["status"] == "confirmed" and order["amount_paid"] == created["amount_due"]


def test_with_the_card_alone_the_payment_block_is_as_it_was(site, browse):
    seen = browse("card_only", site.registration.base_url, delegate=GREEK, card=CARD_OK)

    assert seen["offered"] == ["card", "sepa_debit"]  # what the stack offers, changed on its way
    assert seen["ready"] == "Your payment is ready: enter your card."
    assert seen["parts"] == ["card-label", "card-hint", "card-element", "card-error", "pay"]
    assert seen["radios"] == 0 and seen["pay_described_by"] == ""
    assert "confirmed" in seen["confirmation_status"]
