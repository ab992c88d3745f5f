"""Drive the delegates', buyers' and organisers' pages in Debian's chromium through
Playwright, in a process of its own (Playwright's sync API and eventlet's monkey-patching
do not mix). Prints what it saw as JSON on its last line; takes a screenshot of each page.

    python tests/registration/browser.py SCENARIO BASE_URL ARGS_JSON SCREENSHOT_DIR

Scenarios: register_and_pay, free_booking, group_booking, retry_after_network_error,
declined_then_retry, validation_error, order_page, manage, manage_and_pay, group_delegate,
dashboard.
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


def order_page(visit, args, seen):
    """The buyer pays the order from its page, then comes back to it from the
    confirmation, and cancels one delegate, then the whole order."""
    page = visit.page
    visit.goto(f"/orders/{args['id']}#token={args['token']}")
    expect(page.locator("#order-status")).to_have_text("Awaiting payment")
    seen["url_after_open"] = page.url
    seen["amount_due"] = visit.text("#amount-due")
    seen["cancel_buttons_while_pending"] = page.locator(".delegate-item button:visible").count()
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
    seen["cancel_buttons_after_delegate"] = page.locator(".delegate-item button:visible").count()
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
        for status in ("pending_payment", "confirmed", "cancelled", "expired")}
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


SCENARIOS = {f.__name__: f for f in (
    register_and_pay, free_booking, group_booking, retry_after_network_error, declined_then_retry,
    validation_error, order_page, manage, manage_and_pay, group_delegate, dashboard)}


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
