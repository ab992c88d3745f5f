"""Drive the delegates' pages and the organisers' dashboard in Debian's chromium through
Playwright, in a process of its own (Playwright's sync API and eventlet's monkey-patching
do not mix). Prints what it saw as JSON on its last line; takes a screenshot of each page.

    python tests/registration/browser.py SCENARIO BASE_URL ARGS_JSON SCREENSHOT_DIR

Scenarios: register_and_pay, declined_then_retry, validation_error, manage, manage_and_pay,
dashboard.
"""

import json
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


def fill_delegate(visit, delegate: dict):
    page = visit.page
    page.get_by_label("Given name").fill(delegate.get("given_name", ""))
    page.get_by_label("Family name").fill(delegate.get("family_name", ""))
    page.get_by_label("Organisation").fill(delegate["organisation"])
    page.get_by_label("Country").select_option(delegate["country"])
    page.get_by_label("Email").fill(delegate["email"])
    page.locator(f"#ticket_type-{delegate['ticket_type']}").check()
    for code in delegate.get("add_ons", []):
        page.locator(f"#add_ons-{code}").check()


def pay_by_card(visit, number: str):
    """Type the card into localstripe's stand-in of the card element, and pay."""
    card = visit.page.locator("#card-element")
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
    seen["confirmation_status"] = visit.text("#status")
    seen["confirmation_reference"] = visit.text("#reference")
    seen["confirmation_name"] = visit.text("#badge-name")
    seen["confirmation_paid"] = visit.text("#paid")
    seen["next_steps"] = visit.text("#next")
    seen["confirmation_id"] = page.url.rsplit("/", 1)[1]
    visit.shot("confirmed")


def register_and_pay(visit, args, seen):
    page = visit.page
    visit.goto("/")
    expect(page.locator("#register-form")).to_be_visible()
    seen["unlabelled"] = page.evaluate(UNLABELLED)
    seen["full_ticket_details"] = visit.text("#ticket_type-full-details")
    visit.shot("register-empty")
    fill_delegate(visit, args["delegate"])
    # The estimate follows the member code and the ticket type.
    page.get_by_label("Ecsite member code").fill(args["member_code"])
    seen["estimate_member"] = visit.text("#estimate-total")
    page.locator(f"#ticket_type-{args['other_ticket_type']}").check()
    seen["estimate_member_other_ticket"] = visit.text("#estimate-total")
    page.locator(f"#ticket_type-{args['delegate']['ticket_type']}").check()
    page.get_by_label("Ecsite member code").fill("")
    seen["estimate_total"] = visit.text("#estimate-total")
    visit.shot("register-filled")
    # The keyboard alone: from the last field, Tab to the button and press Enter.
    page.get_by_label("Purchase order number").focus()
    page.keyboard.press("Tab")
    seen["focused_before_submit"] = visit.focused()
    page.keyboard.press("Enter")
    expect(page.locator("#payment")).to_be_visible()
    seen["amount_due"] = visit.text("#amount-due")
    seen["registered_as"] = visit.text("#registered-as")
    seen["card_group_label"] = page.get_by_role("group", name="Card details").count()
    expect(page.locator("#card-element input[placeholder=number]")).to_be_visible()
    visit.shot("payment")
    pay_by_card(visit, args["card"])
    authenticate_while_asked(visit)
    wait_for_confirmation(visit, seen)
    page.get_by_role("link", name="See or change your booking").click()
    expect(page.locator("#booking-status")).to_have_text("Confirmed")
    visit.shot("manage-after-paying")
    with page.expect_download() as download:
        page.get_by_role("button", name="Download the receipt (PDF)").click()
    seen["receipt_filename"] = download.value.suggested_filename
    seen["receipt_start"] = Path(download.value.path()).read_bytes()[:5].decode()


def declined_then_retry(visit, args, seen):
    page = visit.page
    visit.goto("/")
    fill_delegate(visit, args["delegate"])
    page.get_by_role("button", name="Register and continue to payment").click()
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
    delegate = args["delegate"]
    fill_delegate(visit, {**delegate, "given_name": "",
                          "add_ons": [*delegate["add_ons"], *args["clashing_workshops"]]})
    seen["page_width"] = page.evaluate("document.documentElement.scrollWidth")
    page.get_by_role("button", name="Register and continue to payment").click()
    # Checked in the page: the empty given name, and two workshops at the same time.
    expect(page.locator("#given_name-error")).to_be_visible()
    seen["page_errors"] = page.locator(".field-error:visible").all_inner_texts()
    seen["page_error_fields"] = [e.get_attribute("id") for e in
                                 page.locator(".field-error:visible").all()]
    seen["summary_role"] = page.locator(".error-summary").get_attribute("role")
    seen["given_name_described_by"] = visit.described_by("#given_name")
    seen["given_name_invalid"] = page.locator("#given_name").get_attribute("aria-invalid")
    seen["focused_after_page_check"] = visit.focused()
    visit.shot("page-errors")
    page.get_by_label("Given name").fill(delegate["given_name"])
    page.locator(f"#add_ons-{args['clashing_workshops'][0]}").uncheck()
    # Refused by the server: the email the page's pattern lets through.
    page.get_by_role("button", name="Register and continue to payment").click()
    expect(page.locator("#email-error")).to_be_visible()
    seen["server_email_error"] = visit.text("#email-error")
    seen["errors_after_server_check"] = page.locator(".field-error:visible").all_inner_texts()
    seen["email_described_by"] = visit.described_by("#email")
    seen["focused_after_server_check"] = visit.focused()
    visit.shot("server-email-error")
    # Sold out meanwhile: someone else takes the last place of an add-on the page offered.
    taken = page.request.post(f"{visit.base_url}/api/registrations", data=args["competitor"])
    seen["competitor_status"] = taken.status
    page.get_by_label("Email").fill(args["good_email"])
    page.get_by_role("button", name="Register and continue to payment").click()
    expect(page.locator("#add_ons-error")).to_be_visible()
    seen["sold_out_error"] = visit.text("#add_ons-error")
    seen["errors_after_sold_out"] = page.locator(".field-error:visible").all_inner_texts()
    sold_out = page.locator(f"#add_ons-{args['sold_out_add_on']}")
    seen["sold_out_disabled"] = sold_out.is_disabled()
    seen["sold_out_details"] = visit.text(f"#add_ons-{args['sold_out_add_on']}-details")
    seen["estimate_after_sold_out"] = visit.text("#estimate-total")
    visit.shot("sold-out")
    # Nothing else broke: registering again goes through, without the sold-out add-on.
    page.get_by_role("button", name="Register and continue to payment").click()
    expect(page.locator("#payment")).to_be_visible()
    seen["registered_as"] = visit.text("#registered-as")
    seen["amount_due"] = visit.text("#amount-due")
    visit.shot("registered")


def manage(visit, args, seen):
    page = visit.page
    visit.goto(f"/manage/{args['id']}#token={args['token']}")
    expect(page.locator("#booking-status")).to_have_text("Confirmed")
    seen["url_after_open"] = page.url
    seen["page_width"] = page.evaluate("document.documentElement.scrollWidth")
    seen["receipt_button_visible"] = page.locator("#receipt").is_visible()
    seen["policy"] = page.locator("#policy li").all_inner_texts()
    seen["badge_hint"] = visit.text("#badge-hint")
    seen["unlabelled"] = page.evaluate(UNLABELLED)
    visit.shot("opened")
    page.get_by_label("Given name").fill(args["new_given_name"])
    page.get_by_role("button", name="Save the badge details").click()
    expect(page.locator("#save-status")).to_contain_text("Saved")
    seen["saved"] = visit.text("#save-status")
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
    expect(page.locator("#card-element input[placeholder=number]")).to_be_visible()
    seen["amount_due"] = visit.text("#amount-due")
    visit.shot("pending")
    pay_by_card(visit, args["card"])
    wait_for_confirmation(visit, seen)


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
    expect(page.locator("#registrations tr").first).to_be_visible()
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
    seen["recent"] = page.locator("#registrations tr").all_inner_texts()
    seen["recent_found"] = visit.text("#found")
    visit.shot("dashboard")
    page.get_by_label("Search by name").fill(args["search"])
    expect(page.locator("#found")).to_contain_text("found")
    seen["searched"] = page.locator("#registrations tr").all_inner_texts()
    visit.shot("searched")
    with page.expect_download() as download:
        page.get_by_role("button", name="Catering").click()
    seen["csv_filename"] = download.value.suggested_filename
    seen["csv"] = Path(download.value.path()).read_text(encoding="utf-8-sig")


SCENARIOS = {f.__name__: f for f in (register_and_pay, declined_then_retry, validation_error,
                                     manage, manage_and_pay, dashboard)}


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
