"""Drive the desk page in Debian's chromium through Playwright, in a process of its own
(Playwright's sync API and eventlet's monkey-patching do not mix). Prints what it saw
as JSON; takes a screenshot of each step.

    python tests/badges/browser.py BASE_URL DESK_TOKEN SEARCH TICKET_TOKEN SCREENSHOT_DIR
"""

import json
import sys
from pathlib import Path

from playwright.sync_api import expect, sync_playwright

from tests.chromium import launch

SCAN = "Scan a badge or e-ticket QR code"


def status_includes(page, words: str) -> str:
    # expect(), not wait_for_function: the page's Content-Security-Policy forbids eval.
    expect(page.locator("#status")).to_contain_text(words)
    return page.locator("#status").inner_text()


def main(base_url, desk_token, search, ticket_token, screenshots):
    shots = Path(screenshots)
    shots.mkdir(parents=True, exist_ok=True)
    seen = {}
    with sync_playwright() as playwright:
        browser = launch(playwright)
        for name, viewport in [("laptop", {"width": 1280, "height": 800}),
                               ("tablet", {"width": 768, "height": 1024})]:
            page = browser.new_page(viewport=viewport)
            page.goto(f"{base_url}/desk")
            page.get_by_label("Desk token").fill("wrong-token")
            page.get_by_role("button", name="Open the desk").click()
            error = page.locator("#sign-in-error")
            error.wait_for()
            seen[f"{name}_wrong_token"] = error.inner_text()
            page.get_by_label("Desk token").fill(desk_token)
            page.keyboard.press("Enter")  # the keyboard alone works
            page.get_by_label(SCAN).wait_for()
            seen[f"{name}_focused"] = page.evaluate("document.activeElement.id")
            page.get_by_label("Find a delegate").fill(search)
            page.locator("#results li").first.wait_for()
            seen[f"{name}_results"] = page.locator("#results li").all_inner_texts()
            page.screenshot(path=shots / f"desk-{name}-search.png", full_page=True)
            if name == "laptop":
                with page.expect_popup() as popup:
                    page.get_by_role("button", name="Check in and print").first.click()
                seen["popup_url"] = popup.value.url
                seen["status_after_click"] = status_includes(page, "checked in")
                page.get_by_label(SCAN).fill(ticket_token)
                page.keyboard.press("Enter")
                seen["status_after_scan"] = status_includes(page, "already")
                page.get_by_label(SCAN).fill("forged.code")
                page.keyboard.press("Enter")
                seen["status_after_forged_scan"] = status_includes(page, "not one of")
                seen["focused_after_scan"] = page.evaluate("document.activeElement.id")
                page.screenshot(path=shots / "desk-laptop-after-check-in.png", full_page=True)
            page.close()
        browser.close()
    print(json.dumps(seen, ensure_ascii=False))


if __name__ == "__main__":
    main(*sys.argv[1:])
