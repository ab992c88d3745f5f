"""Drive the delegates', buyers' and organisers' pages in Debian's chromium through
Playwright, in a process of its own (Playwright's sync API and eventlet's monkey-patching
do not mix). Prints what it saw as JSON on its last line; takes a screenshot of each page.

    python tests/registration/browser.py SCENARIO BASE_URL ARGS_JSON SCREENSHOT_DIR

Scenarios: register_and_pay, free_booking, group_booking, retry_after_network_error,
declined_then_retry, validation_error, order_page, manage, manage_and_pay, group_delegate,
dashboard; paying by invoice: invoice_booking, invoice_without_billing_address; the money
desk: desk_transfer, desk_statement, desk_refund, desk_billing, desk_cancel,
desk_complimentary; SEPA Direct Debit beside the card: debit_booking, debit_refused_then_card,
debit_processing, debit_on_order_page, debit_on_manage_page, card_only; the waiting list:
waiting_list_join, waiting_list_offer.
"""

import json
import re
import sys
from pathlib import Path

from playwright.sync_api import TimeoutError as PlaywrightTimeout
from playwright.sync_api import expect, sync_playwright

from tests.chromium import launch

CARD_INPUTS = {"number": None, "exp_month": "12", "exp_year": "30", "cvc": "123",
               "postal_code": "1000"}
# The ids of form controls with neither a <label> nor an aria-label(ledby).
UNLABELLED = """[...document.querySelectorAll('input, select, textarea')]
  .filter((e) => e.type !== 'hidden' && !e.labels.length && !e.getAttribute('aria-label')
                 && !e.getAttribute('aria-labelledby'))
  .map((e) => e.id || e.name)"""
# UNLABELLED but for the card's own inputs (Stripe's, in its frame; here localstripe's).
UNLABELLED_BUT_CARD = UNLABELLED.replace("'input, select, textarea'",
                                         "':is(input, select, textarea):not(#card-element *)'")
VISIBLE_ERRORS = ".field-error:visible"
BUYER_FIELDS = ("name", "email", "organisation", "country", "billing_address", "vat_number",
                "purchase_order")


class Visit:
    """One browser page; screenshots numbered in the order taken."""

    def __init__(self, page, base_url, shots: Path, scenario: str):
        self.page, self.base_url, self.shots, self.scenario = page, base_url, shots, scenario
        self.taken = 0

    def goto(self, path):
        self.page.goto(self.base_url + path)

    def shot(self, name):
        self.taken += 1
        self.page.screenshot(path=self.shots / f"{self.scenario}-{self.taken:02d}-{name}.png",
                             full_page=True)

    def text(self, selector) -> str:
        return self.page.locator(selector).inner_text().strip()

    def focused(self) -> str:
        return self.page.evaluate("document.activeElement.id")

    def described_by(self, selector) -> str:
        return self.page.locator(selector).get_attribute("aria-describedby") or ""

    def width(self) -> int:
        return self.page.evaluate("document.documentElement.scrollWidth")

    def errors(self) -> dict:
        """The field errors shown, by the id of their message."""
        return {e.get_attribute("id"): e.inner_text().strip()
                for e in self.page.locator(VISIBLE_ERRORS).all()}


def delegate(visit, number: int):
    """The section of delegate ``number`` (1, 2, ...) on the registration page."""
    return visit.page.locator("#delegates .delegate").nth(number - 1)


def fill_delegate(section, person: dict):
    section.get_by_label("Given name").fill(person.get("given_name", ""))
    section.get_by_label("Family name").fill(person.get("family_name", ""))
    if "organisation" in person:
        section.get_by_label("Organisation").fill(person["organisation"])
    if "country" in person:
        section.get_by_label("Country").select_option(person["country"])
    section.get_by_label("Email").fill(person["email"])
    section.locator(f"input[type=radio][value='{person['ticket_type']}']").check()
    for code in person.get("add_ons", []):
        section.locator(f"input[type=checkbox][value='{code}']").check()
    if person.get("member_code"):
        section.get_by_label("Ecsite member code").fill(person["member_code"])
    if person.get("discount_code"):
        section.get_by_label("Discount, speaker or partner code").fill(person["discount_code"])


def fill_buyer(visit, buyer: dict):
    """A booking contact who is not delegate 1: their own details and the billing ones."""
    visit.page.get_by_label("I am delegate 1 and the booking contact").uncheck()
    for name in BUYER_FIELDS:
        if name not in buyer:
            continue
        control = visit.page.locator(f"#buyer-{name}")
        if name == "country":
            control.select_option(buyer[name])
        else:
            control.fill(buyer[name])


def estimates(visit) -> dict:
    """Each delegate's estimated total, by number, and the order's."""
    totals = {str(number): delegate(visit, number).locator("[id$=-estimate-total]").inner_text()
              for number in range(1, visit.page.locator("#delegates .delegate").count() + 1)}
    return {**totals, "order": visit.text("#estimate-total")}


def submit(visit):
    visit.page.get_by_role("button", name="Book and continue to payment").click()


def pay_by_card(visit, number: str):
    """Type the card into localstripe's stand-in of the card element, and pay."""
    card = visit.page.locator("#card-element")
    expect(card.locator("input[placeholder=number]")).to_be_visible(timeout=20000)
    for placeholder, value in {**CARD_INPUTS, "number": number}.items():
        card.locator(f"input[placeholder={placeholder}]").fill(value)
    visit.page.get_by_role("button", name="Pay ").click()


def authenticate_while_asked(visit):
    """Click localstripe's 3-D Secure dialog each time it shows, until the page moves on."""
    page = visit.page
    complete = page.get_by_role("button", name="Complete authentication")
    for _ in range(2):
        try:
            complete.wait_for(timeout=5000)
        except PlaywrightTimeout:  # no (more) dialog: the payment went on without one
            return
        visit.shot("3d-secure")
        complete.click()


def wait_for_confirmation(visit, seen):
    page = visit.page
    page.wait_for_url("**/confirmation/**", timeout=20000)
    expect(page.locator("#status")).to_contain_text("is confirmed", timeout=20000)
    seen["confirmation_url"] = page.url
    seen["confirmation_status"] = visit.text("#status")
    seen["confirmation_reference"] = visit.text("#reference")
    seen["confirmation_delegates"] = page.locator("#delegates li").all_inner_texts()
    seen["confirmation_paid"] = visit.text("#paid")
    seen["next_steps"] = visit.text("#next")
    seen["confirmation_id"] = page.url.rsplit("/", 1)[1]
    visit.shot("confirmed")


def record_order_requests(page, seen):
    """The Idempotency-Key of each POST /api/orders the page sends."""
    seen["idempotency_keys"] = []
    page.on("request", lambda request: request.method == "POST"
            and request.url.endswith("/api/orders")
            and seen["idempotency_keys"].append(request.headers.get("idempotency-key")))


def preparing_for(page, asks: int):
    """Payments still preparing the payment for the page's first ``asks`` asks (202)."""
    asked = []

    def answer(route):
        asked.append(route.request.url)
        if len(asked) <= asks:
            route.fulfill(status=202, json={"status": "preparing"},
                          headers={"Retry-After": "1"})
        else:
            route.continue_()

    page.route("**/api/orders/*/payment", answer)
    return asked


def free_booking(visit, args, seen):
    """Nothing to pay (a speaker's code): straight from booking to the confirmation."""
    page = visit.page
    page.on("request", lambda request: "/payment" in request.url
            and seen.setdefault("payment_asked", True))
    visit.goto("/")
    expect(page.locator("#register-form")).to_be_visible()
    fill_delegate(delegate(visit, 1), args["delegate"])
    seen["estimate_total"] = visit.text("#estimate-total")
    submit(visit)
    wait_for_confirmation(visit, seen)


def lost_links(visit, args, seen):
    """Asking for one's links again: a bad address named at its field, then the answer,
    the same for any address; checked by axe."""
    page = visit.page
    visit.goto("/links")
    page.get_by_label("Email").fill("not-an-address")
    page.get_by_role("button", name="Send my links").click()
    expect(page.locator("#email-error")).to_be_visible()
    seen["field_error"] = visit.text("#email-error")
    page.get_by_label("Email").fill(args["email"])
    page.get_by_role("button", name="Send my links").click()
    expect(page.locator("#status")).not_to_be_empty()
    seen["status"] = visit.text("#status")
    seen["axe"] = axe_violations(page)
    visit.shot("sent")


def register_and_pay(visit, args, seen):
    page = visit.page
    visit.goto("/")
    expect(page.locator("#register-form")).to_be_visible()
    seen["unlabelled"] = page.evaluate(UNLABELLED)
    seen["full_ticket_details"] = visit.text("#d1-ticket_type-full-details")
    seen["countries"] = page.locator("#d1-country option").all_inner_texts()
    seen["country_codes"] = [o.get_attribute("value")
                             for o in page.locator("#d1-country option").all()]
    visit.shot("register-empty")
    first = delegate(visit, 1)
    fill_delegate(first, args["delegate"])
    # The estimate follows the member code and the ticket type.
    first.get_by_label("Ecsite member code").fill(args["member_code"])
    seen["estimate_member"] = visit.text("#estimate-total")
    first.locator(f"input[type=radio][value='{args['other_ticket_type']}']").check()
    seen["estimate_member_other_ticket"] = visit.text("#estimate-total")
    first.locator(f"input[type=radio][value='{args['delegate']['ticket_type']}']").check()
    first.get_by_label("Ecsite member code").fill("")
    seen["estimate_total"] = visit.text("#estimate-total")
    seen["estimate_live"] = visit.text("#estimate-live")
    page.get_by_label("Purchase order number").fill(args["purchase_order"])
    visit.shot("register-filled")
    # The keyboard alone: from the last field, Tab to the button and press Enter.
    page.get_by_label("Purchase order number").focus()
    page.keyboard.press("Tab")
    seen["focused_before_submit"] = visit.focused()
    page.keyboard.press("Enter")
    expect(page.locator("#payment")).to_be_visible()
    seen["amount_due"] = visit.text("#amount-due")
    seen["order_placed"] = visit.text("#order-placed")
    seen["focused_after_booking"] = visit.focused()
    expect(page.locator("#card-element input[placeholder=number]")).to_be_visible(timeout=20000)
    seen["card_group_label"] = page.get_by_role("group", name="Card details").count()
    visit.shot("payment")
    pay_by_card(visit, args["card"])
    authenticate_while_asked(visit)
    wait_for_confirmation(visit, seen)
    seen["url_after_confirmation"] = page.url
    page.get_by_role("link", name="See or manage your order").click()
    expect(page.locator("#order-status")).to_have_text("Confirmed")
    seen["order_url"] = page.url
    visit.shot("order-after-paying")
    with page.expect_download() as download:
        page.get_by_role("button", name="Download the receipt (PDF)").click()
    seen["receipt_filename"] = download.value.suggested_filename
    seen["receipt_start"] = Path(download.value.path()).read_bytes()[:5].decode()


def group_booking(visit, args, seen):
    page = visit.page
    record_order_requests(page, seen)
    asked = preparing_for(page, 2)
    visit.goto("/")
    expect(page.locator("#register-form")).to_be_visible()
    first, second, third = args["delegates"]
    fill_delegate(delegate(visit, 1), first)
    fill_buyer(visit, args["buyer"])
    # A colleague: organisation and country copied from delegate 1, focus on their name.
    page.get_by_role("button", name="Add a colleague").click()
    seen["copied"] = {"organisation": delegate(visit, 2).get_by_label("Organisation").input_value(),
                      "country": delegate(visit, 2).get_by_label("Country").input_value()}
    seen["focused_after_add"] = visit.focused()
    seen["added_status"] = visit.text("#delegates-status")
    fill_delegate(delegate(visit, 2), second)
    # One colleague too many, removed again: the next one is delegate 3 once more.
    page.get_by_role("button", name="Add a colleague").click()
    page.get_by_role("button", name="Add a colleague").click()
    seen["headings_with_four"] = page.locator("#delegates .delegate h2").all_inner_texts()
    page.get_by_role("button", name="Remove delegate 3").click()
    seen["removed_status"] = visit.text("#delegates-status")
    seen["focused_after_remove"] = visit.focused()
    seen["headings"] = page.locator("#delegates .delegate h2").all_inner_texts()
    fill_delegate(delegate(visit, 3), third)
    seen["estimates"] = estimates(visit)
    seen["estimate_lines"] = page.locator("#estimate tbody th").all_inner_texts()
    seen["unlabelled"] = page.evaluate(UNLABELLED)
    seen["remove_buttons"] = page.locator(".remove-delegate:visible").all_inner_texts()
    visit.shot("group-filled")
    submit(visit)
    expect(page.locator("#payment")).to_be_visible()
    seen["order_placed"] = visit.text("#order-placed")
    seen["amount_due"] = visit.text("#amount-due")
    seen["amount_lines"] = page.locator("#amounts tbody tr").all_inner_texts()
    expect(page.locator("#payment-status")).to_have_text("Preparing your payment…")
    seen["preparing"] = visit.text("#payment-status")
    seen["card_form_while_preparing"] = page.locator("#card-form").is_visible()
    visit.shot("preparing")
    pay_by_card(visit, args["card"])
    seen["payment_asks"] = len(asked)
    wait_for_confirmation(visit, seen)


def retry_after_network_error(visit, args, seen):
    """The first answer to the booking is lost on its way back; booking again re-sends the
    same Idempotency-Key, and the server answers with the order it already made."""
    page = visit.page
    record_order_requests(page, seen)
    lost = []

    def lose_first_answer(route):
        if lost:
            route.continue_()
            return
        lost.append(route.fetch().status)  # the server books ...
        route.abort("failed")  # ... and the page never hears it

    page.route("**/api/orders", lose_first_answer)
    visit.goto("/")
    expect(page.locator("#register-form")).to_be_visible()
    fill_delegate(delegate(visit, 1), args["delegate"])
    submit(visit)
    expect(page.locator(".error-summary")).to_be_visible()
    seen["network_error"] = visit.text(".error-summary")
    seen["lost_status"] = lost[0]
    visit.shot("network-error")
    submit(visit)
    expect(page.locator("#payment")).to_be_visible()
    seen["order_placed"] = visit.text("#order-placed")
    seen["amount_due"] = visit.text("#amount-due")


def declined_then_retry(visit, args, seen):
    page = visit.page
    visit.goto("/")
    fill_delegate(delegate(visit, 1), args["delegate"])
    submit(visit)
    expect(page.locator("#payment")).to_be_visible()
    pay_by_card(visit, args["declined_card"])
    error = page.locator("#card-error")
    expect(error).to_be_visible(timeout=20000)
    seen["decline_message"] = error.inner_text()
    seen["card_described_by"] = visit.described_by("#card-element")
    seen["pay_button_after_decline"] = page.locator("#pay").inner_text()
    visit.shot("declined")
    pay_by_card(visit, args["card"])
    wait_for_confirmation(visit, seen)


def validation_error(visit, args, seen):
    page = visit.page
    visit.goto("/")
    expect(page.locator("#register-form")).to_be_visible()
    mine, colleague = args["delegate"], args["colleague"]
    fill_delegate(delegate(visit, 1), {**mine, "given_name": "",
                                       "add_ons": [*mine["add_ons"], *args["clashing_workshops"]]})
    page.get_by_role("button", name="Add a colleague").click()
    fill_delegate(delegate(visit, 2), colleague)
    seen["page_width"] = visit.width()
    submit(visit)
    # Checked in the page: delegate 1's empty given name and two workshops at the same time.
    expect(page.locator("#d1-given_name-error")).to_be_visible()
    seen["page_errors"] = visit.errors()
    seen["summary_role"] = page.locator(".error-summary").get_attribute("role")
    seen["summary"] = page.locator(".error-summary li").all_inner_texts()
    seen["given_name_described_by"] = visit.described_by("#d1-given_name")
    seen["given_name_invalid"] = page.locator("#d1-given_name").get_attribute("aria-invalid")
    seen["focused_after_page_check"] = visit.focused()
    seen["page_width_with_errors"] = visit.width()
    visit.shot("page-errors")
    delegate(visit, 1).get_by_label("Given name").fill(mine["given_name"])
    delegate(visit, 1).locator(
        f"input[type=checkbox][value='{args['clashing_workshops'][0]}']").uncheck()
    # Refused by the server: the colleague's email, which the page's pattern lets through.
    submit(visit)
    expect(page.locator("#d2-email-error")).to_be_visible()
    seen["server_errors"] = visit.errors()
    seen["server_summary"] = page.locator(".error-summary li").all_inner_texts()
    seen["email_described_by"] = visit.described_by("#d2-email")
    seen["focused_after_server_check"] = visit.focused()
    visit.shot("server-email-error")
    # Sold out meanwhile: someone else takes the last place of an add-on the page offered.
    taken = page.request.post(f"{visit.base_url}/api/registrations", data=args["competitor"])
    seen["competitor_status"] = taken.status
    delegate(visit, 2).get_by_label("Email").fill(args["good_email"])
    submit(visit)
    expect(page.locator("#d1-add_ons-error")).to_be_visible()
    seen["sold_out_errors"] = visit.errors()
    sold_out = delegate(visit, 1).locator(f"input[value='{args['sold_out_add_on']}']")
    seen["sold_out_disabled"] = sold_out.is_disabled()
    seen["sold_out_details"] = visit.text(f"#d1-add_ons-{args['sold_out_add_on']}-details")
    seen["estimates_after_sold_out"] = estimates(visit)
    visit.shot("sold-out")
    # Nothing else broke: booking again goes through, without the sold-out add-on.
    submit(visit)
    expect(page.locator("#payment")).to_be_visible()
    seen["order_placed"] = visit.text("#order-placed")
    seen["amount_due"] = visit.text("#amount-due")
    seen["page_width_at_payment"] = visit.width()
    visit.shot("booked")


CANCEL_PLACE_BUTTONS = ".delegate-item button.danger-outline:visible"


def order_page(visit, args, seen):
    """The buyer pays the order from its page, then comes back to it from the
    confirmation, and cancels one delegate, then the whole order."""
    page = visit.page
    visit.goto(f"/orders/{args['id']}#token={args['token']}")
    expect(page.locator("#order-status")).to_have_text("Awaiting payment")
    seen["url_after_open"] = page.url
    seen["amount_due"] = visit.text("#amount-due")
    seen["cancel_buttons_while_pending"] = page.locator(CANCEL_PLACE_BUTTONS).count()
    visit.shot("pending")
    pay_by_card(visit, args["card"])
    wait_for_confirmation(visit, seen)
    page.get_by_role("link", name="See or manage your order").click()
    expect(page.locator("#order-status")).to_have_text("Confirmed")
    seen["page_width"] = visit.width()
    seen["unlabelled"] = page.evaluate(UNLABELLED)
    seen["buyer"] = visit.text("#buyer")
    seen["total"] = visit.text("#total")
    seen["paid"] = visit.text("#amount-paid")
    seen["delegates"] = [item.locator("h3").inner_text()
                         for item in page.locator(".delegate-item").all()]
    seen["shares"] = page.locator(".delegate-share").all_inner_texts()
    seen["policy"] = page.locator("#policy li").all_inner_texts()
    seen["refund_now"] = visit.text("#refund-now")
    seen["payment_visible"] = page.locator("#payment").is_visible()
    visit.shot("opened")
    with page.expect_download() as download:
        page.get_by_role("button", name="Download the receipt (PDF)").click()
    seen["receipt_filename"] = download.value.suggested_filename
    seen["receipt_start"] = Path(download.value.path()).read_bytes()[:5].decode()
    leaving = args["cancel_delegate"]
    page.get_by_role("button", name=f"Cancel the place of {leaving}…").click()
    seen["focused_on_delegate_question"] = visit.focused()
    seen["delegate_question"] = visit.text(f"#{seen['focused_on_delegate_question']}")
    visit.shot("cancel-delegate-asked")
    page.get_by_role("button", name="Yes, cancel this place").click()
    expect(page.locator("#status")).to_contain_text(f"The place of {leaving} is cancelled")
    seen["statuses_after_delegate"] = page.locator(".delegate-status").all_inner_texts()
    seen["cancel_buttons_after_delegate"] = page.locator(CANCEL_PLACE_BUTTONS).count()
    seen["order_status_after_delegate"] = visit.text("#order-status")
    visit.shot("delegate-cancelled")
    page.get_by_role("button", name="Cancel the whole order…").click()
    seen["focused_on_question"] = visit.focused()
    page.get_by_role("button", name="Yes, cancel the whole order").click()
    expect(page.locator("#order-status")).to_have_text("Cancelled")
    seen["status_after_cancel"] = visit.text("#status")
    seen["statuses_after_cancel"] = page.locator(".delegate-status").all_inner_texts()
    seen["cancel_visible_after_cancel"] = page.locator("#cancel").is_visible()
    visit.shot("order-cancelled")


def e_ticket(visit) -> dict:
    """The e-ticket as shown: its QR code drawn (its size in pixels), text and caption."""
    qr = visit.page.locator("#ticket-qr")
    expect(qr).to_have_attribute("src", re.compile("^blob:"))
    qr.evaluate("(image) => image.decode()")
    return {"ticket_qr_width": qr.evaluate("(image) => image.naturalWidth"),
            "ticket_qr_alt": qr.get_attribute("alt"),
            "ticket_caption": visit.text("#ticket-caption")}


def manage(visit, args, seen):
    page = visit.page
    visit.goto(f"/manage/{args['id']}#token={args['token']}")
    expect(page.locator("#booking-status")).to_have_text("Confirmed")
    seen["url_after_open"] = page.url
    seen["page_width"] = visit.width()
    seen["receipt_button_visible"] = page.locator("#receipt").is_visible()
    seen["paid_by_visible"] = page.locator("#paid-by").is_visible()
    seen["policy"] = page.locator("#policy li").all_inner_texts()
    seen["badge_hint"] = visit.text("#badge-hint")
    seen["unlabelled"] = page.evaluate(UNLABELLED)
    seen.update(e_ticket(visit))
    visit.shot("opened")
    page.get_by_label("Given name").fill(args["new_given_name"])
    page.get_by_role("button", name="Save the badge details").click()
    expect(page.locator("#save-status")).to_contain_text("Saved")
    seen["saved"] = visit.text("#save-status")
    seen["ticket_caption_after_save"] = visit.text("#ticket-caption")
    visit.shot("name-saved")
    page.get_by_role("button", name="Cancel my registration…").click()
    expect(page.locator("#cancel-question")).to_be_visible()
    seen["focused_on_question"] = visit.focused()
    visit.shot("cancel-asked")
    page.get_by_role("button", name="Yes, cancel my registration").click()
    expect(page.locator("#status")).to_contain_text("cancelled")
    seen["status_after_cancel"] = visit.text("#status")
    seen["booking_status_after_cancel"] = visit.text("#booking-status")
    seen["badge_form_visible_after_cancel"] = page.locator("#badge").is_visible()
    visit.shot("cancelled")


def manage_and_pay(visit, args, seen):
    page = visit.page
    visit.goto(f"/manage/{args['id']}#token={args['token']}")
    expect(page.locator("#booking-status")).to_have_text("Awaiting payment")
    seen["amount_due"] = visit.text("#amount-due")
    pay_by_card(visit, args["card"])
    visit.shot("paying")
    expect(page.locator("#booking-status")).to_have_text("Confirmed", timeout=20000)
    seen["status_after_paying"] = visit.text("#status")
    seen["payment_visible_after_paying"] = page.locator("#payment").is_visible()
    seen["receipt_button_visible"] = page.locator("#receipt").is_visible()
    seen.update(e_ticket(visit))
    visit.shot("paid")


def group_delegate(visit, args, seen):
    """A delegate of a group order that awaits payment: the buyer pays, not them."""
    page = visit.page
    visit.goto(f"/manage/{args['id']}#token={args['token']}")
    expect(page.locator("#booking-status")).to_have_text("Awaiting payment")
    expect(page.locator("#paid-by")).to_be_visible()
    seen["paid_by"] = visit.text("#paid-by")
    seen["payment_visible"] = page.locator("#payment").is_visible()
    seen["cancel_visible"] = page.locator("#cancel").is_visible()
    seen["receipt_visible"] = page.locator("#receipt").is_visible()
    seen["e_ticket_visible"] = page.locator("#e-ticket").is_visible()
    seen["page_width"] = visit.width()
    page.get_by_label("Family name").fill(args["new_family_name"])
    page.get_by_role("button", name="Save the badge details").click()
    expect(page.locator("#save-status")).to_contain_text("Saved")
    seen["saved"] = visit.text("#save-status")
    visit.shot("group-delegate")


def dashboard(visit, args, seen):
    page = visit.page
    visit.goto("/admin")
    page.get_by_label("Admin token").fill("not-the-token")
    page.get_by_role("button", name="Open the dashboard").click()
    expect(page.locator("#admin-token-error")).to_be_visible()
    seen["wrong_token"] = visit.text("#admin-token-error")
    visit.shot("wrong-token")
    page.get_by_label("Admin token").fill(args["admin_token"])
    page.keyboard.press("Enter")
    expect(page.locator("#dashboard")).to_be_visible()
    expect(page.locator("#orders tbody.order").first).to_be_visible()
    seen["by_status"] = {
        status: visit.text(f"#count-{status}")
        for status in ("pending_payment", "confirmed", "cancelled", "expired", "substituted")}
    seen["revenue"] = {key: visit.text(f"#revenue-{key}")
                       for key in ("gross", "refunded", "net", "vat")}
    seen["capacity_left"] = visit.text("#capacity-left")
    seen["tickets"] = {row.get_attribute("data-code"): row.locator("td").all_inner_texts()
                       for row in page.locator("#by-ticket-type tr").all()}
    seen["add_ons"] = {row.get_attribute("data-code"): row.locator("td").all_inner_texts()
                       for row in page.locator("#by-add-on tr").all()}
    seen["orders"] = [
        {"id": body.get_attribute("data-id"),
         "order": body.locator(".order-row").inner_text(),
         "delegates": body.locator(".delegate-row").all_inner_texts()}
        for body in page.locator("#orders tbody.order").all()]
    seen["recent_found"] = visit.text("#found")
    visit.shot("dashboard")
    page.get_by_label("Search by name").fill(args["search"])
    expect(page.locator("#found")).to_contain_text("found")
    seen["searched"] = [body.inner_text()
                        for body in page.locator("#orders tbody.order").all()]
    visit.shot("searched")
    with page.expect_download() as download:
        page.get_by_role("button", name="Catering").click()
    seen["csv_filename"] = download.value.suggested_filename
    seen["csv"] = Path(download.value.path()).read_text(encoding="utf-8-sig")


# ---- Paying by invoice, documents and the money desk ----------------------------------


def axe_violations(page) -> list[str]:
    """What axe-core finds wrong on the page as it is now: "rule: targets" each."""
    from axe_playwright_python.sync_playwright import Axe

    found = Axe().run(page).response["violations"]
    return [f"{v['id']}: {[node['target'] for node in v['nodes']]}" for v in found]


def requests_to(page, method: str, fragment: str) -> list:
    """The Idempotency-Key of each request the page sends with ``method`` to a URL
    containing ``fragment`` (None for a request without one)."""
    keys = []
    page.on("request", lambda request: request.method == method and fragment in request.url
            and keys.append(request.headers.get("idempotency-key")))
    return keys


def pdf_download(page, button) -> dict:
    with page.expect_download() as download:
        button.click()
    return {"filename": download.value.suggested_filename,
            "start": Path(download.value.path()).read_bytes()[:5].decode()}


def documents_listed(page, selector: str) -> list[str]:
    return [" ".join(item.inner_text().split()) for item in page.locator(f"{selector} li").all()]


def invoice_booking(visit, args, seen):
    """A group of two books paying by invoice; the order's page says how to transfer, and
    lists the invoice once payments has issued it."""
    page = visit.page
    seen["payment_asked"] = []
    page.on("request", lambda request: "/payment" in request.url
            and seen["payment_asked"].append(request.url))
    visit.goto("/")
    expect(page.locator("#register-form")).to_be_visible()
    first, second = args["delegates"]
    fill_delegate(delegate(visit, 1), first)
    fill_buyer(visit, args["buyer"])
    page.get_by_role("button", name="Add a colleague").click()
    fill_delegate(delegate(visit, 2), second)
    seen["billing_label_by_card"] = page.locator("label[for=buyer-billing_address]").inner_text()
    page.get_by_label("Pay by invoice").check()
    seen["invoice_choice"] = page.locator("label[for=payment_method-invoice]").inner_text()
    seen["billing_label_by_invoice"] = page.locator(
        "label[for=buyer-billing_address]").inner_text()
    seen["unlabelled"] = page.evaluate(UNLABELLED)
    seen["register_axe"] = axe_violations(page)
    visit.shot("invoice-chosen")
    page.get_by_role("button", name="Book and get the invoice").click()
    page.wait_for_url("**/orders/**", timeout=20000)
    expect(page.locator("#bank-transfer")).to_be_visible()
    expect(page.locator("#invoice-number")).not_to_have_text("Being issued…", timeout=20000)
    seen["order_url"] = page.url
    for key in ("transfer-intro", "transfer-amount", "due-on", "payment-reference",
                "account-holder", "iban", "bic", "bank-name", "invoice-number",
                "invoice-status", "order-status"):
        seen[key] = visit.text(f"#{key}")
    seen["card_form_visible"] = page.locator("#card-form").is_visible()
    seen["payment_visible"] = page.locator("#payment").is_visible()
    expect(page.locator("#document-list li")).to_have_count(1, timeout=20000)
    seen["documents"] = documents_listed(page, "#document-list")
    seen["order_axe"] = axe_violations(page)
    visit.shot("invoice-order")
    number = seen["invoice-number"]
    seen["invoice_pdf"] = pdf_download(
        page, page.get_by_role("button", name=f"Download Invoice {number} (PDF)"))
    seen["page_width"] = visit.width()


def invoice_without_billing_address(visit, args, seen):
    """Paying by invoice needs a billing address: the page says so by the field, and so
    does the server when a page lets one through (here the address is taken out of the
    request on its way)."""
    page = visit.page
    visit.goto("/")
    expect(page.locator("#register-form")).to_be_visible()
    fill_delegate(delegate(visit, 1), args["delegate"])
    page.get_by_label("Pay by invoice").check()
    page.get_by_role("button", name="Book and get the invoice").click()
    expect(page.locator("#buyer-billing_address-error")).to_be_visible()
    seen["page_errors"] = visit.errors()
    seen["page_summary"] = page.locator(".error-summary li").all_inner_texts()
    seen["focused"] = visit.focused()
    seen["invalid"] = page.locator("#buyer-billing_address").get_attribute("aria-invalid")
    seen["described_by"] = visit.described_by("#buyer-billing_address")
    visit.shot("page-error")
    answers = []
    page.on("response", lambda response: response.url.endswith("/api/orders")
            and response.request.method == "POST" and answers.append(
                {"status": response.status, "body": response.json()}))

    def without_address(route):
        body = json.loads(route.request.post_data)
        body["buyer"].pop("billing_address", None)
        route.continue_(post_data=json.dumps(body))

    page.route("**/api/orders", without_address)
    page.locator("#buyer-billing_address").fill(args["billing_address"])
    page.get_by_role("button", name="Book and get the invoice").click()
    expect(page.locator("#buyer-billing_address-error")).to_be_visible()
    expect(page.locator(".error-summary")).to_be_visible()
    seen["server_answers"] = answers
    seen["server_errors"] = visit.errors()
    seen["server_focused"] = visit.focused()
    visit.shot("server-error")


def sign_in(visit, token: str):
    page = visit.page
    visit.goto("/admin")
    page.get_by_label("Admin token").fill(token)
    page.get_by_role("button", name="Open the dashboard").click()
    expect(page.locator("#dashboard")).to_be_visible()
    expect(page.locator("#found")).not_to_be_empty()


def open_order(visit, reference: str):
    page = visit.page
    page.get_by_role("button", name=reference, exact=True).click()
    expect(page.locator("#detail-heading")).to_have_text(f"Order {reference}")
    expect(page.locator("#money-due")).to_be_visible()


def money_shown(visit) -> dict:
    return {key: visit.text(f"#money-{key}")
            for key in ("due", "received", "refunded", "outstanding")}


def confirm(visit, name: str, twice: bool = True) -> str:
    """Answer the dialog with its button ``name`` (double-clicked: one request all the same);
    the question it asked."""
    dialog = visit.page.get_by_role("dialog")
    expect(dialog).to_be_visible()
    asked = " ".join(dialog.inner_text().split())
    button = dialog.get_by_role("button", name=name)
    if twice:
        button.dblclick()
    else:
        button.click()
    return asked


def desk_transfer(visit, args, seen):
    """With the finance token: a transfer that pays an invoice order, recorded at the desk;
    its first answer is lost on the way, and confirming again re-sends the same key."""
    page = visit.page
    keys = requests_to(page, "POST", "/transfers")
    lost = []

    def lose_first_answer(route):
        if route.request.method != "POST" or lost:
            route.continue_()
            return
        lost.append(route.fetch().status)  # payments records it ...
        route.abort("failed")  # ... and the page never hears it

    page.route("**/api/admin/orders/*/transfers", lose_first_answer)
    sign_in(visit, args["token"])
    seen["admin_only_visible"] = page.locator("[data-admin-only]:visible").count()
    seen["signed_in_as"] = visit.text("#signed-in-as")
    open_order(visit, args["reference"])
    expect(page.locator("#detail-documents li")).to_have_count(1, timeout=20000)
    seen["focused_on_open"] = visit.focused()
    seen["money_before"] = money_shown(visit)
    seen["method"] = visit.text("#detail-method")
    seen["status_before"] = visit.text("#detail-status")
    seen["unlabelled"] = page.evaluate(UNLABELLED)
    page.get_by_label("Amount received").fill("twelve euros")
    page.get_by_role("button", name="Record the transfer…").click()
    expect(page.locator("#transfer-amount-error")).to_be_visible()
    seen["amount_error"] = visit.text("#transfer-amount-error")
    page.get_by_label("Amount received").fill(args["typed_amount"])
    page.get_by_label("Received on").fill(args["received_on"])
    page.get_by_label("Reference on the transfer").fill(args["transfer_reference"])
    page.get_by_label("Payer").fill(args["payer"])
    page.get_by_role("button", name="Record the transfer…").click()
    expect(page.get_by_role("dialog")).to_be_visible()
    seen["focused_in_dialog"] = visit.focused()
    visit.shot("transfer-asked")
    seen["transfer_question"] = confirm(visit, "Yes, record it")
    expect(page.locator("#confirm-error")).to_be_visible()
    seen["lost_answer"] = visit.text("#confirm-error")
    visit.shot("answer-lost")
    confirm(visit, "Yes, record it", twice=False)
    expect(page.get_by_role("dialog")).to_be_hidden()
    seen["news"] = visit.text("#detail-news")
    expect(page.locator("#detail-status")).to_have_text("Confirmed", timeout=20000)
    expect(page.locator("#detail-documents li[data-kind=receipt]")).to_have_count(
        1, timeout=20000)
    seen["lost"], seen["transfer_keys"] = lost, keys
    seen["money_after"] = money_shown(visit)
    seen["transfers"] = page.locator("#detail-transfers tbody tr").all_inner_texts()
    seen["documents"] = documents_listed(page, "#detail-documents")
    expect(page.locator("#detail-messages tbody tr").first).to_be_visible(timeout=20000)
    seen["axe"] = axe_violations(page)
    visit.shot("transfer-recorded")
    seen["receipt_pdf"] = pdf_download(
        page, page.locator("#detail-documents li[data-kind=receipt] button"))
    resend_keys = requests_to(page, "POST", "/resend")
    invoices = page.locator("#detail-messages tbody tr[data-kind=invoice]")
    expect(invoices).to_have_count(1, timeout=20000)
    seen["messages"] = page.locator("#detail-messages tbody tr").all_inner_texts()
    invoices.get_by_role("button", name="Send again").click()
    seen["resend_question"] = confirm(visit, "Yes, send it again")
    expect(invoices).to_have_count(2, timeout=20000)
    seen["resend_keys"] = resend_keys
    seen["resend_news"] = visit.text("#detail-news")


def desk_statement(visit, args, seen):
    """With the finance token: a bank statement pays one order; of its two credits that
    quote no order, one is dismissed with a note, the other assigned to an order by its
    reference."""
    page = visit.page
    keys = requests_to(page, "POST", "/api/admin/statements")
    dismissals = requests_to(page, "POST", "/dismiss")
    assignments = requests_to(page, "POST", "/assign")
    sign_in(visit, args["token"])
    expect(page.locator("#unmatched-none")).to_be_visible()
    page.get_by_label("Bank statement").set_input_files(args["statement"])
    page.get_by_role("button", name="Import the statement…").click()
    seen["statement_question"] = confirm(visit, "Yes, import it")
    expect(page.locator("#statement-result")).to_contain_text("Statement imported")
    seen["imported"] = visit.text("#statement-result > p")
    seen["matched"] = page.locator("#imported-matched li").all_inner_texts()
    seen["unmatched_new"] = page.locator("#imported-unmatched li").all_inner_texts()
    expect(page.locator("#unmatched tbody tr")).to_have_count(2)
    seen["unmatched"] = page.locator("#unmatched tbody tr").all_inner_texts()
    seen["statement_keys"] = list(keys)
    seen["axe"] = axe_violations(page)
    visit.shot("imported")
    unknown = page.locator("#unmatched tbody tr", has_text=args["unknown_payer"])
    unknown.get_by_role("button", name="Dismiss…").click()
    seen["focused_on_dismiss"] = visit.focused()
    seen["deciding"] = visit.text("#decide-about")
    page.get_by_role("button", name="Dismiss the transfer…").click()
    expect(page.locator("#dismiss-note-error")).to_be_visible()
    seen["note_error"] = visit.text("#dismiss-note-error")
    page.get_by_label("Why it pays no order").fill(args["note"])
    page.get_by_role("button", name="Dismiss the transfer…").click()
    seen["dismiss_question"] = confirm(visit, "Yes, dismiss it")
    expect(page.locator("#unmatched tbody tr")).to_have_count(1)
    seen["dismiss_keys"] = dismissals
    seen["after_dismiss"] = visit.text("#statement-result")
    seen["focused_after_dismiss"] = visit.focused()
    visit.shot("dismissed")
    page.locator("#unmatched tbody tr").get_by_role("button", name="Assign to order…").click()
    page.get_by_label("Order reference or id").fill("ECS27-NOSUCH")
    page.get_by_role("button", name="Assign it to this order…").click()
    expect(page.locator("#assign-order_id-error")).to_be_visible()
    seen["no_such_order"] = visit.text("#assign-order_id-error")
    page.get_by_label("Order reference or id").fill(args["assign_to"].lower())
    page.get_by_role("button", name="Assign it to this order…").click()
    seen["assign_question"] = confirm(visit, "Yes, assign it")
    expect(page.locator("#unmatched-none")).to_be_visible()
    seen["assign_keys"] = assignments
    seen["after_assign"] = visit.text("#statement-result")
    visit.shot("assigned")
    open_order(visit, args["paid_reference"])
    expect(page.locator("#detail-status")).to_have_text("Confirmed", timeout=20000)
    seen["paid_money"] = money_shown(visit)
    seen["paid_transfers"] = page.locator("#detail-transfers tbody tr").all_inner_texts()


def desk_refund(visit, args, seen):
    """With the finance token: part of a card payment refunded; asking for more than was
    paid is refused by the amount's field first."""
    page = visit.page
    keys = requests_to(page, "POST", "/refund")
    sign_in(visit, args["token"])
    open_order(visit, args["reference"])
    seen["payments"] = page.locator("#detail-payments tbody tr").all_inner_texts()
    seen["refund_hint"] = visit.text("#refund-amount-hint")
    page.get_by_label("Amount to refund").fill(args["too_much"])
    page.get_by_label("Reason").fill(args["reason"])
    page.get_by_role("button", name="Refund…").click()
    seen["too_much_question"] = confirm(visit, "Yes, refund")
    expect(page.locator("#refund-amount-error")).to_be_visible()
    seen["too_much_error"] = visit.text("#refund-amount-error")
    seen["focused_after_refusal"] = visit.focused()
    visit.shot("refund-refused")
    page.get_by_label("Amount to refund").fill(args["typed_refund"])
    page.get_by_role("button", name="Refund…").click()
    seen["refund_question"] = confirm(visit, "Yes, refund")
    expect(page.locator("#detail-documents li[data-kind=credit_note]")).to_have_count(
        1, timeout=20000)
    expect(page.locator("#money-refunded")).to_have_text(args["refunded"], timeout=20000)
    seen["refund_keys"] = keys
    seen["news"] = visit.text("#detail-news")
    seen["money_after"] = money_shown(visit)
    seen["payments_after"] = page.locator("#detail-payments tbody tr").all_inner_texts()
    seen["documents"] = documents_listed(page, "#detail-documents")
    visit.shot("refunded")


def desk_billing(visit, args, seen):
    """With the finance token: corrected billing details; the invoice is credited and
    issued again. An empty billing address is refused by its field first."""
    page = visit.page
    keys = requests_to(page, "PATCH", "/billing")
    sign_in(visit, args["token"])
    open_order(visit, args["reference"])
    expect(page.locator("#detail-documents li")).to_have_count(1, timeout=20000)
    page.get_by_role("button", name="Correct the billing details…").click()
    seen["prefilled"] = {name: page.locator(f"#billing-{name}").input_value() for name in (
        "name", "organisation", "country", "billing_address", "vat_number", "purchase_order")}
    seen["focused_on_form"] = visit.focused()
    page.get_by_role("button", name="Save the billing details…").click()
    expect(page.locator("#billing-form .error-summary")).to_be_visible()
    seen["nothing_changed"] = visit.text("#billing-form .error-summary")
    page.get_by_label("Billing address").fill("")
    page.get_by_role("button", name="Save the billing details…").click()
    confirm(visit, "Yes, correct them", twice=False)
    expect(page.locator("#billing-billing_address-error")).to_be_visible()
    seen["empty_address_error"] = visit.text("#billing-billing_address-error")
    page.get_by_label("Billing address").fill(args["billing_address"])
    page.get_by_label("VAT number").fill(args["vat_number"])
    page.get_by_role("button", name="Save the billing details…").click()
    seen["billing_question"] = confirm(visit, "Yes, correct them")
    expect(page.locator("#detail-documents li")).to_have_count(3, timeout=20000)
    seen["billing_keys"] = keys
    seen["billing_address"] = visit.text("#detail-billing-address")
    seen["documents"] = documents_listed(page, "#detail-documents")
    seen["form_visible"] = page.locator("#billing-form").is_visible()
    visit.shot("billing-corrected")


def desk_cancel(visit, args, seen):
    """With the finance token: an unpaid invoice order cancelled; its invoice is credited."""
    page = visit.page
    keys = requests_to(page, "POST", "/cancel")
    sign_in(visit, args["token"])
    open_order(visit, args["reference"])
    expect(page.locator("#detail-documents li")).to_have_count(1, timeout=20000)
    page.get_by_label("Keep it (no refund)").check()
    page.get_by_role("button", name="Cancel the order…").click()
    expect(page.get_by_role("dialog")).to_be_visible()
    seen["focused_in_dialog"] = visit.focused()
    seen["question"] = confirm(visit, "Yes, cancel the order")
    expect(page.locator("#detail-status")).to_have_text("Cancelled", timeout=20000)
    expect(page.locator("#detail-documents li[data-kind=credit_note]")).to_have_count(
        1, timeout=20000)
    seen["keys"] = keys
    seen["focused_after"] = visit.focused()
    seen["cancel_form_visible"] = page.locator("#cancel-form").is_visible()
    seen["closed"] = visit.text("#cancel-closed")
    visit.shot("cancelled")


def desk_complimentary(visit, args, seen):
    """With the admin token: the figures are there, and a complimentary place is booked."""
    page = visit.page
    keys = requests_to(page, "POST", "/api/admin/complimentary")
    sign_in(visit, args["token"])
    seen["admin_only_visible"] = page.locator("[data-admin-only]:visible").count()
    seen["signed_in_as"] = visit.text("#signed-in-as")
    form = page.locator("#comp-form")
    guest = args["guest"]
    form.get_by_label("Full name").fill(guest["buyer_name"])
    form.get_by_label("Email").nth(0).fill(guest["buyer_email"])
    form.get_by_label("Organisation").fill(guest["organisation"])
    form.get_by_label("Country").select_option(guest["country"])
    form.get_by_label("Given name").fill(guest["given_name"])
    form.get_by_label("Family name").fill(guest["family_name"])
    form.get_by_label("Email").nth(1).fill(guest["email"])
    form.get_by_label("Ticket type").select_option(guest["ticket_type"])
    page.get_by_role("button", name="Book the complimentary place…").click()
    seen["question"] = confirm(visit, "Yes, book it")
    expect(page.locator("#comp-done")).to_contain_text("Booked")
    seen["booked"] = visit.text("#comp-done")
    seen["keys"] = keys
    seen["axe"] = axe_violations(page)
    visit.shot("complimentary")


# ---- SEPA Direct Debit beside the card --------------------------------------------------


def payment_form_ready(visit):
    expect(visit.page.locator("#card-element input[placeholder=number]")).to_be_visible(
        timeout=20000)


def book_and_wait_for_payment(visit, person: dict):
    page = visit.page
    visit.goto("/")
    expect(page.locator("#register-form")).to_be_visible()
    fill_delegate(delegate(visit, 1), person)
    submit(visit)
    expect(page.locator("#payment")).to_be_visible()
    payment_form_ready(visit)


def pay_by_debit(visit, iban: str):
    """Choose SEPA Direct Debit, type the IBAN (the account holder as filled in), and pay."""
    page = visit.page
    page.get_by_label("SEPA Direct Debit").check()
    page.get_by_label("IBAN").fill(iban)
    page.get_by_role("button", name="Pay ").click()


def debit_booking(visit, args, seen):
    """One delegate books and pays by SEPA Direct Debit, with the keyboard: the choice, the
    account holder filled in, the mandate by the button; an IBAN with wrong check digits is
    refused by its field before anything is sent."""
    page = visit.page
    setups = requests_to(page, "POST", "/card-setup")
    pays = requests_to(page, "POST", "/pay")
    book_and_wait_for_payment(visit, args["delegate"])
    seen["ready"] = visit.text("#payment-status")
    seen["legend"] = visit.text("#pay-with legend")
    seen["choices"] = page.locator("#pay-with label").all_inner_texts()
    seen["card_checked"] = page.get_by_label("Card", exact=True).is_checked()
    seen["debit_fields_visible_at_first"] = page.locator("#debit-fields").is_visible()
    seen["card_group_label"] = page.get_by_role("group", name="Card details").count()
    visit.shot("choice")
    # The keyboard: from the card's radio, the arrow key chooses the debit.
    page.get_by_label("Card", exact=True).focus()
    page.keyboard.press("ArrowDown")
    expect(page.locator("#debit-fields")).to_be_visible()
    seen["focused_on_choice"] = visit.focused()
    seen["card_fields_visible"] = page.locator("#card-fields").is_visible()
    seen["holder"] = page.get_by_label("Account holder").input_value()
    seen["mandate"] = visit.text("#debit-mandate")
    seen["pay_described_by"] = visit.described_by("#pay")
    seen["unlabelled"] = page.evaluate(UNLABELLED_BUT_CARD)
    seen["axe"] = axe_violations(page)
    seen["iban_checks"] = {iban: page.evaluate("(iban) => ibanProblem(iban)", iban)
                           for iban in args["iban_checks"]}
    visit.shot("debit-chosen")
    page.get_by_label("IBAN").fill(args["bad_iban"])
    page.get_by_role("button", name="Pay ").click()
    expect(page.locator("#debit-iban-error")).to_be_visible()
    seen["bad_iban_errors"] = visit.errors()
    seen["iban_described_by"] = visit.described_by("#debit-iban")
    seen["iban_invalid"] = page.locator("#debit-iban").get_attribute("aria-invalid")
    seen["focused_after_bad_iban"] = visit.focused()
    seen["axe_with_error"] = axe_violations(page)
    seen["sent_after_bad_iban"] = {"card_setup": len(setups), "pay": len(pays)}
    visit.shot("bad-iban")
    # An empty account holder too: both said, the first field focused.
    page.get_by_label("Account holder").fill("")
    page.get_by_role("button", name="Pay ").click()
    expect(page.locator("#debit-name-error")).to_be_visible()
    seen["both_errors"] = visit.errors()
    seen["focused_after_both"] = visit.focused()
    page.get_by_label("Account holder").fill(args["holder"])
    # The good IBAN, as typed (spaces, lower case); Tab to the button and Enter.
    page.get_by_label("IBAN").fill(args["iban"])
    page.keyboard.press("Tab")
    seen["iban_shown"] = page.get_by_label("IBAN").input_value()
    seen["focused_before_pay"] = visit.focused()
    page.keyboard.press("Enter")
    wait_for_confirmation(visit, seen)
    seen["sent"] = {"card_setup": len(setups), "pay": len(pays)}


def debit_refused_then_card(visit, args, seen):
    """The bank refuses the debit (a moment after the page sent it): said by the button,
    and the buyer pays by card instead."""
    page = visit.page
    book_and_wait_for_payment(visit, args["delegate"])
    pay_by_debit(visit, args["refused_iban"])
    error = page.locator("#debit-error")
    expect(error).to_be_visible(timeout=20000)
    seen["refusal"] = error.inner_text()
    seen["iban_described_by"] = visit.described_by("#debit-iban")
    seen["pay_button_after_refusal"] = page.locator("#pay").inner_text()
    seen["focused_after_refusal"] = visit.focused()
    seen["status_after_refusal"] = visit.text("#payment-status")
    seen["page_width"] = visit.width()
    visit.shot("refused")
    page.get_by_label("Card", exact=True).check()
    seen["refusal_visible_after_switch"] = error.is_visible()
    seen["iban_described_by_after_switch"] = visit.described_by("#debit-iban")
    seen["pay_described_by_after_switch"] = visit.described_by("#pay")
    pay_by_card(visit, args["card"])
    wait_for_confirmation(visit, seen)


def debit_processing(visit, args, seen):
    """A debit the bank is still processing (as real Stripe answers for days; here the
    answer is made up on its way): the page says so and moves on, and the confirmation
    says so too instead of "waiting"."""
    page = visit.page
    page.route("**/api/orders/*/pay", lambda route: route.fulfill(json={
        "status": "processing", "client_secret": "made_up", "message": None}))
    book_and_wait_for_payment(visit, args["delegate"])
    pay_by_debit(visit, args["iban"])
    expect(page.locator("#payment-status")).to_contain_text("being processed")
    seen["processing"] = visit.text("#payment-status")
    visit.shot("processing")
    page.wait_for_url("**/confirmation/**", timeout=30000)
    expect(page.locator("#status")).to_contain_text("being processed")
    seen["confirmation_status"] = visit.text("#status")
    seen["next_visible"] = page.locator("#next").is_visible()
    visit.shot("confirmation-processing")


def debit_on_order_page(visit, args, seen):
    """The buyer of a group pays by debit from the order's page."""
    page = visit.page
    visit.goto(f"/orders/{args['id']}#token={args['token']}")
    expect(page.locator("#order-status")).to_have_text("Awaiting payment")
    payment_form_ready(visit)
    seen["holder"] = page.get_by_label("Account holder").input_value()
    seen["width"] = visit.width()
    visit.shot("order-page")
    pay_by_debit(visit, args["iban"])
    wait_for_confirmation(visit, seen)


def debit_on_manage_page(visit, args, seen):
    """A delegate who booked for themselves pays later by debit from their booking's page."""
    page = visit.page
    visit.goto(f"/manage/{args['id']}#token={args['token']}")
    expect(page.locator("#booking-status")).to_have_text("Awaiting payment")
    payment_form_ready(visit)
    seen["holder"] = page.get_by_label("Account holder").input_value()
    seen["unlabelled"] = page.evaluate(UNLABELLED_BUT_CARD)
    pay_by_debit(visit, args["iban"])
    expect(page.locator("#booking-status")).to_have_text("Confirmed", timeout=20000)
    seen["payment_visible_after_paying"] = page.locator("#payment").is_visible()
    visit.shot("paid")


# The payment block's parts as the card alone has them.
CARD_FORM_PARTS = "[...document.querySelectorAll('#card-form > *')].map((e) => e.id)"


def card_only(visit, args, seen):
    """Where payments offers the card alone (page-config says so, here changed on its way):
    the payment block as it always was, and the card pays."""
    page = visit.page

    def card_alone(route):
        config = route.fetch().json()
        seen["offered"] = config["payment_methods"]
        route.fulfill(json={**config, "payment_methods": ["card"]})

    page.route("**/api/page-config", card_alone)
    book_and_wait_for_payment(visit, args["delegate"])
    seen["ready"] = visit.text("#payment-status")
    seen["parts"] = page.evaluate(CARD_FORM_PARTS)
    seen["radios"] = page.locator("#payment input[type=radio]").count()
    seen["pay_described_by"] = visit.described_by("#pay")
    visit.shot("card-only")
    pay_by_card(visit, args["card"])
    wait_for_confirmation(visit, seen)


def substitution(visit, args, seen):
    """The buyer sends a colleague instead of a delegate from the order's page: the form
    opens at its heading, says what is missing by its field, takes the server's refusal
    of a field, and then shows who holds the place now."""
    page = visit.page
    visit.goto(f"/orders/{args['id']}#token={args['token']}")
    expect(page.locator("#order-status")).to_have_text("Confirmed")
    leaving = args["replace"]
    page.get_by_role("button", name=f"Send a colleague instead of {leaving}…").click()
    seen["focused_on_open"] = visit.focused()
    seen["heading"] = visit.text("#substitute-heading")
    seen["prefilled"] = [page.locator("#organisation").input_value(),
                         page.locator("#country").input_value()]
    page.get_by_role("button", name="Send this colleague instead").click()
    seen["errors_when_empty"] = visit.errors()
    seen["focused_when_empty"] = visit.focused()
    colleague = args["colleague"]
    page.get_by_label("Given name (on the badge)").fill(colleague["given_name"])
    page.get_by_label("Family name (on the badge)").fill(colleague["family_name"])
    page.get_by_label("Your colleague's email").fill("not an address")
    page.get_by_role("button", name="Send this colleague instead").click()
    expect(page.locator("#email-error")).to_contain_text("not a valid email")
    seen["errors_from_server"] = visit.errors()
    seen["page_width_with_errors"] = visit.width()
    seen["unlabelled"] = page.evaluate(UNLABELLED)
    seen["axe"] = axe_violations(page)
    visit.shot("errors")
    page.get_by_label("Your colleague's email").fill(colleague["email"])
    page.get_by_role("button", name="Send this colleague instead").click()
    expect(page.locator("#status")).to_contain_text("now has the place of")
    seen["status"] = visit.text("#status")
    seen["delegates"] = [item.locator("h3").inner_text()
                         for item in page.locator(".delegate-item").all()]
    seen["form_visible_after"] = page.locator("#substitute").is_visible()
    seen["page_width"] = visit.width()
    visit.shot("substituted")


def waiting_list_join(visit, args, seen):
    """A sold-out workshop offers its waiting list: the dialog opens at its first field, says
    what is missing by its field, then says the same whatever the address; checked by axe,
    and the focus goes back to the button that opened it."""
    page = visit.page
    visit.goto("/")
    expect(page.locator("#register-form")).to_be_visible()
    join = page.get_by_role("button", name=f"Join the waiting list for {args['item']}")
    seen["join_buttons"] = page.locator(".join:visible").count()
    join.click()
    expect(page.locator("#join")).to_be_visible()
    seen["focused_on_open"] = visit.focused()
    seen["about"] = visit.text("#join-about")
    page.locator("#join-submit").click()
    seen["errors_when_empty"] = visit.errors()
    person = args["person"]
    page.locator("#join-given_name").fill(person["given_name"])
    page.locator("#join-family_name").fill(person["family_name"])
    page.locator("#join-email").fill("not-an-address")
    page.locator("#join-submit").click()
    seen["errors_with_bad_email"] = visit.errors()
    seen["axe_with_errors"] = axe_violations(page)
    visit.shot("join-errors")
    page.locator("#join-email").fill(person["email"])
    page.locator("#join-submit").click()
    expect(page.locator("#join-done")).not_to_be_empty()
    seen["done"] = visit.text("#join-done")
    seen["focused_when_done"] = visit.focused()
    seen["page_width"] = visit.width()
    seen["axe"] = axe_violations(page)
    visit.shot("joined")
    page.locator("#join-close").click()
    expect(page.locator("#join")).to_be_hidden()
    seen["focused_after_close"] = page.evaluate(
        "document.activeElement.getAttribute('aria-label')")


def waiting_list_offer(visit, args, seen):
    """The link of an offer: the place shown above the form, held for its holder, the
    booking filled in with it; booked and paid by card as any booking. Or, asked to, the
    place given up to the next in line."""
    page = visit.page
    visit.goto(args["link"])
    expect(page.locator("#place")).to_be_visible()
    expect(page.locator("#register-form")).to_be_visible()
    seen["url_after_open"] = page.url
    seen["heading"] = visit.text("#place-heading")
    seen["text"] = visit.text("#place-text")
    first = delegate(visit, 1)
    offered = first.locator(f"input[type=checkbox][value='{args['add_on']}']")
    seen["prefilled"] = [first.get_by_label("Given name").input_value(),
                         first.get_by_label("Email").input_value()]
    seen["offered_checked"] = offered.is_checked()
    seen["offered_enabled"] = offered.is_enabled()
    seen["unlabelled"] = page.evaluate(UNLABELLED)
    seen["axe"] = axe_violations(page)
    seen["page_width"] = visit.width()
    visit.shot("offer")
    if args.get("give_up"):
        page.get_by_role("button", name="I no longer want it…").click()
        seen["focused_on_question"] = visit.focused()
        page.get_by_role("button", name="Yes, give it up").click()
        expect(page.locator("#place-heading")).to_have_text("This offer has ended")
        seen["text_after"] = visit.text("#place-text")
        seen["focused_after"] = visit.focused()
        expect(offered).to_be_disabled()  # the form as the catalog is now
        seen["offered_enabled_after"] = offered.is_enabled()
        visit.shot("given-up")
        return
    booking = args["delegate"]
    first.get_by_label("Organisation").fill(booking["organisation"])
    first.get_by_label("Country").select_option(booking["country"])
    first.locator(f"input[type=radio][value='{booking['ticket_type']}']").check()
    seen["estimate_total"] = visit.text("#estimate-total")
    submit(visit)
    expect(page.locator("#payment")).to_be_visible()
    seen["heading_after_booking"] = visit.text("#place-heading")
    seen["order_placed"] = visit.text("#order-placed")
    pay_by_card(visit, args["card"])
    wait_for_confirmation(visit, seen)


SCENARIOS = {f.__name__: f for f in (
    register_and_pay, free_booking, group_booking, retry_after_network_error, declined_then_retry,
    validation_error, order_page, manage, manage_and_pay, group_delegate, dashboard,
    invoice_booking, invoice_without_billing_address, desk_transfer, desk_statement,
    desk_refund, desk_billing, desk_cancel, desk_complimentary, debit_booking,
    debit_refused_then_card, debit_processing, debit_on_order_page, debit_on_manage_page,
    card_only, lost_links, substitution, waiting_list_join, waiting_list_offer)}


# ---- Changing a confirmed booking ------------------------------------------------------


def change_keys(page) -> list:
    """The Idempotency-Key of each change the page sends (POST .../changes, not quotes)."""
    keys = []
    page.on("request", lambda request: request.method == "POST"
            and request.url.endswith("/changes")
            and keys.append(request.headers.get("idempotency-key")))
    return keys


def change_choice(page, code: str):
    """The radio button or checkbox of ``code`` (a ticket type or add-on) in the change form."""
    return page.locator(f"#change-form input[value='{code}']")


def change_chosen(page) -> list[str]:
    return [i.get_attribute("value") for i in page.locator("#change-form input:checked").all()]


def see_the_price(visit) -> str:
    """Ask the change's price; what the page says of the difference."""
    page = visit.page
    page.get_by_role("button", name="See the price").click()
    expect(page.locator("#change-difference")).to_be_visible(timeout=10000)
    return visit.text("#change-difference")


def open_change_on_manage_page(visit, args):
    page = visit.page
    visit.goto(f"/manage/{args['id']}#token={args['token']}")
    expect(page.locator("#booking-status")).to_have_text("Confirmed")
    expect(page.locator("#change-form")).to_be_visible()


def change_add_and_pay(visit, args, seen):
    """A delegate adds an add-on from their booking's page: the price first, then the
    difference paid by card (payments still preparing it at first), then the booking
    with the add-on, and the change listed."""
    page = visit.page
    keys = change_keys(page)
    preparing_for(page, 2)
    open_change_on_manage_page(visit, args)
    seen["preloaded"] = change_chosen(page)
    seen["legends"] = page.locator("#change-form legend").all_inner_texts()
    seen["unlabelled"] = page.evaluate(UNLABELLED)
    seen["history_before"] = visit.text("#change-history-none")
    change_choice(page, args["add_on"]).check()
    seen["difference"] = see_the_price(visit)
    seen["focused_after_quote"] = visit.focused()
    seen["new_total"] = visit.text("#change-quote tfoot .sum td")
    seen["axe"] = axe_violations(page)
    seen["page_width"] = visit.width()
    visit.shot("priced")
    page.get_by_role("button", name="Confirm the change").click()
    expect(page.locator("#payment")).to_be_visible()
    seen["focused_on_payment"] = visit.focused()
    seen["payment_heading"] = visit.text("#payment-heading")
    seen["amount_due"] = visit.text("#amount-due")
    seen["paying_for"] = visit.text("#change-paying-for")
    expect(page.locator("#payment-status")).to_have_text("Preparing your payment…")
    seen["preparing"] = visit.text("#payment-status")
    seen["add_ons_while_unpaid"] = visit.text("#add-ons")
    seen["note_while_unpaid"] = visit.text("#change-note")
    visit.shot("difference")
    pay_by_card(visit, args["card"])
    expect(page.locator("#add-ons")).to_have_text(args["add_on_name"], timeout=30000)
    # the booking is drawn first, the news said once the form is drawn again
    expect(page.locator("#status")).to_contain_text("Your booking is changed", timeout=10000)
    seen["status_after"] = visit.text("#status")
    seen["add_ons_after"] = visit.text("#add-ons")
    seen["paid_after"] = visit.text("#amount-paid")
    seen["payment_visible_after"] = page.locator("#payment").is_visible()
    expect(page.locator("#change-form")).to_be_visible()
    seen["history"] = page.locator("#change-history li").all_inner_texts()
    seen["preloaded_after"] = change_chosen(page)
    seen["change_keys"] = keys
    seen["page_width_after"] = visit.width()
    visit.shot("changed")


def change_drop_and_refund(visit, args, seen):
    """A delegate drops an add-on: nothing chosen is said first, then the refund, at once."""
    page = visit.page
    open_change_on_manage_page(visit, args)
    page.get_by_role("button", name="See the price").click()
    expect(page.locator("#change-form .error-summary")).to_be_visible()
    seen["nothing_changed"] = visit.text("#change-form .error-summary")
    seen["focused_when_unchanged"] = page.evaluate("document.activeElement.className")
    change_choice(page, args["drop"]).uncheck()
    seen["difference"] = see_the_price(visit)
    seen["summary_after_quote"] = page.locator("#change-form .error-summary").is_visible()
    visit.shot("priced")
    page.get_by_role("button", name="Confirm the change").click()
    expect(page.locator("#status")).to_contain_text("Your booking is changed")
    seen["status_after"] = visit.text("#status")
    seen["focused_after"] = visit.focused()
    seen["add_ons_after"] = visit.text("#add-ons")
    seen["refunded_after"] = visit.text("#amount-refunded")
    seen["history"] = page.locator("#change-history li").all_inner_texts()
    seen["page_width"] = visit.width()
    visit.shot("refunded")


def change_on_order_page(visit, args, seen):
    """The buyer changes a delegate's workshop from the order's page: a workshop whose last
    place someone else takes meanwhile is refused by its slot and marked sold out; another
    of the same slot is swapped in."""
    page = visit.page
    keys = change_keys(page)
    visit.goto(f"/orders/{args['id']}#token={args['token']}")
    expect(page.locator("#order-status")).to_have_text("Confirmed")
    page.get_by_role("button", name=f"Change the booking of {args['name']}…").click()
    expect(page.locator("#change-form")).to_be_visible()
    seen["focused_on_open"] = visit.focused()
    seen["heading"] = visit.text("#change-heading")
    slot = f"#change-slot-{args['group']}"
    seen["slot_legend"] = visit.text(f"{slot} legend")
    seen["preloaded"] = change_chosen(page)
    change_choice(page, args["full_workshop"]).check()
    taken = page.request.post(f"{visit.base_url}/api/registrations", data=args["competitor"])
    seen["competitor_status"] = taken.status
    seen["difference"] = see_the_price(visit)
    page.get_by_role("button", name="Confirm the change").click()
    expect(page.locator(f"{slot}-error")).to_be_visible()
    seen["errors"] = visit.errors()
    seen["focused_after_refusal"] = visit.focused()
    seen["slot_invalid"] = page.locator(slot).get_attribute("aria-invalid")
    seen["sold_out_disabled"] = change_choice(page, args["full_workshop"]).is_disabled()
    seen["sold_out_details"] = visit.text(f"{slot}-{args['full_workshop']}-details")
    seen["chosen_after_refusal"] = change_chosen(page)
    seen["unlabelled"] = page.evaluate(UNLABELLED)
    seen["axe_with_error"] = axe_violations(page)
    seen["page_width_with_error"] = visit.width()
    visit.shot("sold-out")
    change_choice(page, args["other_workshop"]).check()
    seen["difference_after"] = see_the_price(visit)
    page.get_by_role("button", name="Confirm the change").click()
    expect(page.locator("#status")).to_contain_text("is changed")
    seen["status"] = visit.text("#status")
    seen["focused_after"] = visit.focused()
    seen["change_visible_after"] = page.locator("#change").is_visible()
    seen["delegate"] = " ".join(page.locator(".delegate-item").first.inner_text().split())
    seen["change_keys"] = keys
    seen["page_width"] = visit.width()
    visit.shot("swapped")


def change_declined(visit, args, seen):
    """The card paying a change's difference is declined: the booking stays as it was, the
    card may be tried again, and the change given up."""
    page = visit.page
    open_change_on_manage_page(visit, args)
    seen["axe"] = axe_violations(page)
    change_choice(page, args["add_on"]).check()
    see_the_price(visit)
    page.get_by_role("button", name="Confirm the change").click()
    expect(page.locator("#payment")).to_be_visible()
    pay_by_card(visit, args["declined_card"])
    error = page.locator("#card-error")
    expect(error).to_be_visible(timeout=20000)
    seen["decline_message"] = error.inner_text()
    seen["add_ons_after_decline"] = visit.text("#add-ons")
    seen["booking_status_after_decline"] = visit.text("#booking-status")
    seen["pay_button_after_decline"] = page.locator("#pay").inner_text()
    seen["give_up_visible"] = page.locator("#change-give-up").is_visible()
    seen["form_visible_while_unpaid"] = page.locator("#change-form").is_visible()
    seen["page_width"] = visit.width()
    visit.shot("declined")
    page.get_by_role("button", name="Drop this change").click()
    expect(page.locator("#status")).to_contain_text("The change is dropped")
    seen["status_after_give_up"] = visit.text("#status")
    seen["payment_visible_after"] = page.locator("#payment").is_visible()
    seen["add_ons_after"] = visit.text("#add-ons")
    expect(page.locator("#change-form")).to_be_visible()
    seen["history"] = page.locator("#change-history li").all_inner_texts()
    seen["preloaded_after"] = change_chosen(page)
    visit.shot("dropped")


def change_at_the_desk(visit, args, seen):
    """With the admin token: a delegate's ticket upgraded from the order's money desk, priced
    first, confirmed in the dialog (double-clicked: one request); the buyer pays the
    difference through the link the desk shows."""
    page = visit.page
    keys = change_keys(page)
    sign_in(visit, args["token"])
    open_order(visit, args["reference"])
    seen["column"] = page.locator("#detail-delegates thead th").last.inner_text()
    page.get_by_role("button", name=f"Change booking of {args['name']}").click()
    form = page.locator("#desk-change-form")
    expect(form).to_be_visible()
    seen["focused_on_open"] = visit.focused()
    seen["heading"] = visit.text("#desk-change-heading")
    form.locator(f"input[value='{args['ticket_type']}']").check()
    page.get_by_role("button", name="See the price").click()
    expect(page.locator("#desk-change-difference")).to_be_visible()
    seen["difference"] = visit.text("#desk-change-difference")
    seen["unlabelled"] = page.evaluate(UNLABELLED)
    seen["axe"] = axe_violations(page)
    visit.shot("priced")
    page.get_by_role("button", name="Change the booking…").click()
    seen["question"] = confirm(visit, "Yes, change it")
    expect(page.locator("#desk-change-note")).to_be_visible()
    seen["note"] = visit.text("#desk-change-note")
    seen["news"] = visit.text("#detail-news")
    seen["pay_link"] = page.get_by_role("link", name="Link to pay the difference").get_attribute(
        "href")
    expect(page.locator("#desk-change-history li")).to_have_count(1)
    seen["history"] = page.locator("#desk-change-history li").all_inner_texts()
    seen["keys"] = keys
    visit.shot("waiting-for-the-buyer")


SCENARIOS.update({f.__name__: f for f in (
    change_add_and_pay, change_drop_and_refund, change_on_order_page, change_declined,
    change_at_the_desk)})


def main(scenario, base_url, args_json, screenshots):
    shots = Path(screenshots)
    shots.mkdir(parents=True, exist_ok=True)
    args = json.loads(args_json)
    seen = {"console_errors": []}
    with sync_playwright() as playwright:
        browser = launch(playwright)
        page = browser.new_page(viewport=args.get("viewport", {"width": 1280, "height": 900}),
                                accept_downloads=True)
        page.on("console", lambda message: message.type == "error" and seen[
            "console_errors"].append(message.text))
        page.on("pageerror", lambda error: seen["console_errors"].append(str(error)))
        visit = Visit(page, base_url, shots, scenario)
        try:
            SCENARIOS[scenario](visit, args, seen)
        except Exception:
            visit.shot("failed")
            raise
        finally:
            browser.close()
            print(json.dumps(seen, ensure_ascii=False))  # also what it saw before failing


if __name__ == "__main__":
    main(*sys.argv[1:])
