"""Open the "hold expired" email's link in Debian's chromium (Playwright, in a process of
its own, as tests/registration/browser.py does) and say how the booking form is filled in,
or what problem it shows.
Prints what it saw as JSON on its last line; takes a screenshot.

    python -m tests.notifications.rebook_browser BASE_URL LINK SCREENSHOT_DIR
"""

import json
import sys
from pathlib import Path

from playwright.sync_api import expect, sync_playwright

from tests.chromium import launch
from tests.registration.browser import Visit, delegate

DELEGATE_FIELDS = ("given_name", "family_name", "name_order", "pronouns", "organisation",
                   "country", "email", "member_code", "discount_code")
BUYER_FIELDS = ("name", "email", "organisation", "country", "billing_address", "vat_number",
                "purchase_order")


def form(visit) -> dict:
    """Each delegate's fields and choices, and the booking contact's."""
    page = visit.page
    delegates = []
    for number in range(1, page.locator("#delegates .delegate").count() + 1):
        section = delegate(visit, number)
        uid = section.get_attribute("id")
        delegates.append({
            **{name: page.locator(f"#{uid}-{name}").input_value() for name in DELEGATE_FIELDS},
            "ticket_type": [i.get_attribute("value") for i in section.locator(
                ".ticket-choices input:checked").all()],
            "add_ons": sorted(i.get_attribute("value") for i in section.locator(
                ".add-on-choices input:checked").all())})
    return {"delegates": delegates,
            "buyer_is_delegate": page.locator("#buyer-is-delegate").is_checked(),
            "buyer": {name: page.locator(f"#buyer-{name}").input_value()
                      for name in BUYER_FIELDS}}


def main(base_url, link, screenshots):
    shots = Path(screenshots)
    shots.mkdir(parents=True, exist_ok=True)
    seen = {"console_errors": [], "requests": []}
    with sync_playwright() as playwright:
        browser = launch(playwright)
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        page.on("console", lambda message: message.type == "error" and seen[
            "console_errors"].append(message.text))
        page.on("pageerror", lambda error: seen["console_errors"].append(str(error)))
        page.on("request", lambda request: seen["requests"].append(
            {"url": request.url, "order_token": request.headers.get("x-order-token")}))
        visit = Visit(page, base_url, shots, "rebook")
        try:
            visit.goto(link)
            expect(page.locator("#register-form")).to_be_visible(timeout=20000)
            seen["form"] = form(visit)
            seen["url_after"] = page.url
            summary = page.locator("#register-form .error-summary")
            seen["problem"] = summary.inner_text().strip() if summary.is_visible() else None
            visit.shot("filled")
        except Exception:
            visit.shot("failed")
            raise
        finally:
            browser.close()
            print(json.dumps(seen, ensure_ascii=False))


if __name__ == "__main__":
    main(*sys.argv[1:])
