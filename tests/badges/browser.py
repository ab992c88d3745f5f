"""Drive the desk page in Debian's chromium through Playwright, in a process of its own
(Playwright's sync API and eventlet's monkey-patching do not mix). Prints what it saw as
JSON on its last line; takes a screenshot of each step.

    python -m tests.badges.browser SCENARIO BASE_URL ARGS_JSON SCREENSHOT_DIR

Two stand-ins, for what a headless browser cannot do: a camera (Chromium's fake video
device) that shows a QR code a stand-in BarcodeDetector reads (Chromium has none on
Linux); and the print dialog of the badge's frame (headless Chromium's renderer crashes
printing a PDF frame; checked with Chromium 156), which counts instead of opening.
"""

import json
import re
import sys
from pathlib import Path

from playwright.sync_api import expect, sync_playwright

from tests.chromium import CHROMIUM, CHROMIUM_ARGS

SCAN = "Scan a badge or e-ticket QR code"
FAKE_CAMERA_ARGS = ["--use-fake-device-for-media-stream", "--use-fake-ui-for-media-stream"]
PRINT_DIALOG = """
const frameWindow = Object.getOwnPropertyDescriptor(HTMLIFrameElement.prototype,
                                                    "contentWindow").get;
Object.defineProperty(HTMLIFrameElement.prototype, "contentWindow", { get() {
  if (this.id !== "print-frame") { return frameWindow.call(this); }
  return { focus() {}, print() { window.printDialogs = (window.printDialogs || 0) + 1; } };
} });
"""
BARCODE_DETECTOR = """
window.BarcodeDetector = class {
  static async getSupportedFormats() { return ["qr_code"]; }
  async detect() { const code = window.cameraShows; window.cameraShows = null;
                   return code ? [{ rawValue: code }] : []; }
};
window.cameraShows = %s;
"""


def axe_violations(page) -> list[str]:
    """What axe-core finds wrong on the page as it is now: "rule: targets" each."""
    from axe_playwright_python.sync_playwright import Axe

    found = Axe().run(page).response["violations"]
    return [f"{v['id']}: {[node['target'] for node in v['nodes']]}" for v in found]


class Desk:
    def __init__(self, page, base_url, shots: Path):
        self.page, self.base_url, self.shots = page, base_url, shots

    def sign_in(self, token):
        self.page.goto(f"{self.base_url}/desk")
        self.page.get_by_label("Desk token").fill(token)
        self.page.keyboard.press("Enter")  # the keyboard alone works
        self.page.get_by_label(SCAN).wait_for()

    def scan(self, code):
        self.page.get_by_label(SCAN).fill(code)
        self.page.keyboard.press("Enter")

    def verdict(self, headline: str) -> dict:
        expect(self.page.locator("#verdict-headline")).to_have_text(headline)
        verdict = self.page.locator("#verdict")
        return {"tone": verdict.get_attribute("class"), "text": verdict.inner_text(),
                "add_ons": self.page.locator("#verdict-add-ons li").all_inner_texts()}

    def printed(self, words: str) -> str:
        expect(self.page.locator("#verdict-print")).to_contain_text(words)
        return self.page.locator("#verdict-print").inner_text()

    def shot(self, name):
        self.page.screenshot(path=self.shots / f"desk-{name}.png", full_page=True)


def desk_scenario(browser, base_url, args, shots) -> dict:
    seen = {}
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    context.grant_permissions(["camera"], origin=base_url)
    context.add_init_script(PRINT_DIALOG)
    context.add_init_script(BARCODE_DETECTOR % json.dumps(args["camera_token"]))
    desk = Desk(context.new_page(), base_url, shots)
    page = desk.page

    page.goto(f"{base_url}/desk")
    page.get_by_label("Desk token").fill("wrong-token")
    page.get_by_role("button", name="Open the desk").click()
    expect(page.locator("#sign-in-error")).to_be_visible()
    seen["wrong_token"] = page.locator("#sign-in-error").inner_text()
    desk.sign_in(args["desk_token"])
    seen["focused"] = page.evaluate("document.activeElement.id")
    seen["printers"] = page.locator("#printer option").all_inner_texts()
    seen["camera_allowed"] = page.evaluate(
        "[document.featurePolicy.allowsFeature('camera'),"
        " document.featurePolicy.allowsFeature('microphone')]")

    desk.scan(args["green_token"])
    seen["green"] = desk.verdict("Checked in")
    seen["green_print"] = desk.printed("job")
    seen["green_job"] = int(re.search(r"job (\d+)", seen["green_print"]).group(1))
    seen["focused_after_scan"] = page.evaluate("document.activeElement.id")
    seen["axe_green"] = axe_violations(page)
    desk.shot("green")

    desk.scan(args["green_token"])
    seen["amber"] = desk.verdict("Already checked in")
    desk.shot("amber")

    desk.scan(args["cancelled_token"])
    seen["cancelled"] = desk.verdict("Cancelled")
    seen["axe_red"] = axe_violations(page)
    desk.shot("red")
    desk.scan("forged.code")
    seen["forged"] = desk.verdict("Not our ticket")

    page.get_by_label("Find a delegate").fill(args["search"])
    seen["verdict_hidden_while_searching"] = page.locator("#verdict").is_hidden()
    page.locator("#results li").first.wait_for()
    seen["results"] = page.locator("#results li").all_inner_texts()
    page.get_by_label("This desk prints on").select_option(args["away_printer"])
    page.get_by_role("button", name=f"Print the badge of {args['search_name']}").click()
    seen["fallback_print"] = desk.printed("Badge printed from this browser")
    seen["print_dialogs"] = page.evaluate("window.printDialogs")
    seen["print_frame"] = page.locator("#print-frame").get_attribute("src")
    desk.shot("browser-print")

    page.get_by_role("button", name="Scan with the camera").click()
    seen["camera"] = desk.verdict("Checked in")
    # On the printer chosen above, which is away: from the browser again.
    seen["camera_print"] = desk.printed("Badge printed from this browser")
    page.get_by_role("button", name="Stop the camera").click()
    desk.shot("camera")
    context.close()

    tablet = browser.new_context(viewport={"width": 768, "height": 1024}, has_touch=True)
    desk = Desk(tablet.new_page(), base_url, shots)
    desk.sign_in(args["desk_token"])
    seen["camera_button_without_detector"] = desk.page.get_by_role(
        "button", name="Scan with the camera").is_visible()
    desk.page.get_by_label("Find a delegate").fill(args["search"])
    desk.page.locator("#results li").first.wait_for()
    seen["tablet_results"] = desk.page.locator("#results li").all_inner_texts()
    seen["axe_tablet"] = axe_violations(desk.page)
    desk.shot("tablet-search")
    tablet.close()
    return seen


def offline_scenario(browser, base_url, args, shots) -> dict:
    """Today's list taken while online; five check-ins and a second scan without the
    network; the network back."""
    seen = {}
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    desk = Desk(context.new_page(), base_url, shots)
    page = desk.page
    desk.sign_in(args["desk_token"])
    people = len(args["tickets"]) + 1
    expect(page.locator("#connection")).to_contain_text(f"today's list: {people} people")
    context.set_offline(True)
    expect(page.locator("#connection")).to_contain_text("Offline")
    for ticket, name in zip(args["tickets"], args["names"], strict=True):
        desk.scan(ticket)
        expect(page.locator("#verdict-name")).to_have_text(name)
        seen.setdefault("verdicts", []).append(desk.verdict("Checked in"))
    seen["waiting"] = page.locator("#connection").inner_text()
    desk.shot("offline-checked-in")
    desk.scan(args["tickets"][0])
    seen["again"] = desk.verdict("Already checked in")
    desk.shot("offline-again")
    desk.scan(args["forged"])
    seen["forged"] = desk.verdict("Not our ticket")
    desk.scan(args["old_ticket"])
    seen["old_ticket"] = desk.verdict("Search the name")
    page.get_by_label("Find a delegate").fill(args["search"])
    page.locator("#results li").first.wait_for()
    seen["offline_results"] = page.locator("#results li").all_inner_texts()
    seen["axe_offline"] = axe_violations(page)
    context.set_offline(False)
    expect(page.locator("#sync-sent")).to_have_text(
        f"{len(args['tickets'])} check-ins made offline sent.")
    expect(page.locator("#connection")).not_to_contain_text("to send")
    seen["after"] = page.locator("#connection").inner_text()
    desk.shot("offline-sent")
    context.close()
    return seen


def colleague_scenario(browser, base_url, args, shots) -> dict:
    """At each width, a delegate found by name and a colleague sent instead (a refusal by
    its field first); the colleague green and their badge printed; the delegate's ticket
    red, the colleague's green. Then, offline, the action is not offered."""
    from shared.auth import ticket_token

    seen = {}
    for width, person, instead in zip(args["widths"], args["delegates"], args["colleagues"],
                                      strict=True):
        phone = width < 600
        context = browser.new_context(viewport={"width": width, "height": 844 if phone else 900},
                                      is_mobile=phone, has_touch=phone)
        context.add_init_script(PRINT_DIALOG)
        desk = Desk(context.new_page(), base_url, shots)
        page, at = desk.page, seen.setdefault(str(width), {})
        desk.sign_in(args["desk_token"])
        page.get_by_label("Find a delegate").fill(person["search"])
        page.get_by_role("button", name=f"Send a colleague instead of {person['name']}").click()
        form = page.locator("#colleague")
        at["prefilled"] = [page.get_by_label(label).input_value()
                           for label in ("Organisation", "Country")]
        page.get_by_label("Given name").fill(instead["given_name"])
        page.get_by_label("Family name").fill(instead["family_name"])
        page.get_by_label("Which name the badge prints first").select_option("family_first")
        page.get_by_label("Email").fill("not an address")
        page.get_by_role("button", name="Send the colleague instead").click()
        expect(page.locator("#colleague-email-error")).to_be_visible(timeout=15000)
        at["email_error"] = page.locator("#colleague-email-error").inner_text()
        at["email_invalid"] = page.get_by_label("Email").get_attribute("aria-invalid")
        at["axe_form"] = axe_violations(page)
        desk.shot(f"colleague-form-{width}")
        page.get_by_label("Email").fill(instead["email"])
        with page.expect_response(lambda r: r.url.endswith("/substitute")
                                  and r.request.method == "POST") as answer:
            page.get_by_role("button", name="Send the colleague instead").click()
        colleague = answer.value.json()
        at["status"], at["form_hidden"] = answer.value.status, form.is_hidden()
        at["colleague"] = desk.verdict("Ready to check in")
        expect(page.locator("#verdict-print")).to_have_text("The badge is ready.",
                                                            timeout=30000)
        expect(page.locator("#results li").first).to_contain_text("REPLACED")
        at["results"] = page.locator("#results li").all_inner_texts()
        at["axe_colleague"] = axe_violations(page)
        desk.shot(f"colleague-ready-{width}")
        page.get_by_role("button", name="Print the badge").click()
        at["printed"] = desk.printed("Badge printed from this browser")
        desk.scan(ticket_token(args["secret"], person["registration_id"]))
        at["old_ticket"] = desk.verdict("Replaced")
        desk.scan(ticket_token(args["secret"], colleague["id"]))
        at["new_ticket"] = desk.verdict("Checked in")
        desk.printed("Badge printed from this browser")
        at["print_dialogs"] = page.evaluate("window.printDialogs")
        desk.shot(f"colleague-checked-in-{width}")
        if width == args["widths"][-1]:
            button = page.get_by_role("button", name=f"Send a colleague instead of "
                                                      f"{args['stays']['name']}")
            page.get_by_label("Find a delegate").fill(args["stays"]["search"])
            button.wait_for()
            context.set_offline(True)
            expect(page.locator("#connection")).to_contain_text("Offline")
            expect(page.locator("#results li").first).to_contain_text(args["stays"]["name"])
            seen["offline_offered"] = button.count()
        context.close()
    return seen


SCENARIOS = {"desk": desk_scenario, "offline": offline_scenario,
             "colleague": colleague_scenario}


def main(scenario, base_url, args_json, screenshots):
    shots = Path(screenshots)
    shots.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM,
                                             args=CHROMIUM_ARGS + FAKE_CAMERA_ARGS)
        try:
            seen = SCENARIOS[scenario](browser, base_url, json.loads(args_json), shots)
        finally:
            browser.close()
    print(json.dumps(seen, ensure_ascii=False))


if __name__ == "__main__":
    main(*sys.argv[1:])
