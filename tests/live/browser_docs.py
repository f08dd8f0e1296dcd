"""/docs in a real browser, the way a newcomer meets it (run by .ci/run against a live server).

Loads `/docs` in the system's Chromium (Debian `chromium`, driven by Playwright; no browser
is downloaded), with every request to anywhere but the server refused and recorded. Then:
every operation of `openapi.json` is drawn, Authorize signs in with the OAuth2 password flow,
and "Try it out" on `GET /v1/me` answers 200. A screenshot is saved either way. Exits 1 on
any failure.

    python -m tests.live.browser_docs --base-url http://127.0.0.1:8000 \
        --username brand@glowlabs.example --password briefboard-demo
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
from pathlib import Path
from urllib.parse import urlsplit

import httpx
from playwright.sync_api import Page, Route, sync_playwright

METHODS = {"get", "post", "put", "patch", "delete"}
TIMEOUT_MS = 30_000


def chromium_path() -> str:
    for candidate in (os.environ.get("CHROMIUM"), "chromium", "chromium-browser"):
        found = candidate and shutil.which(candidate)
        if found:
            return found
    raise SystemExit("no chromium found: apt-get install -y chromium (or set CHROMIUM)")


def documented_operations(base_url: str) -> set[tuple[str, str]]:
    document = httpx.get(f"{base_url}/openapi.json", timeout=30).raise_for_status().json()
    return {
        (method.upper(), path)
        for path, item in document["paths"].items()
        for method in item
        if method in METHODS
    }


def drawn_operations(page: Page) -> set[tuple[str, str]]:
    rows = page.eval_on_selector_all(
        ".opblock",
        """blocks => blocks.map(b => [
            (b.querySelector('.opblock-summary-method') || {}).textContent || '',
            (b.querySelector('.opblock-summary-path') || {}).getAttribute
                ? b.querySelector('.opblock-summary-path').getAttribute('data-path') : ''
        ])""",
    )
    return {(method.strip().upper(), path) for method, path in rows}


def authorize(page: Page, username: str, password: str) -> None:
    page.click("button.btn.authorize")
    dialog = page.locator(".dialog-ux .modal-ux")
    dialog.wait_for(timeout=TIMEOUT_MS)
    dialog.locator("#oauth_username").fill(username)
    dialog.locator("#oauth_password").fill(password)
    dialog.locator(".auth-btn-wrapper button.authorize").click()
    # Signed in: the dialog offers Logout instead of Authorize.
    dialog.locator(".auth-btn-wrapper button", has_text="Logout").wait_for(timeout=TIMEOUT_MS)
    errors = dialog.locator(".errors").all_inner_texts()
    if any(text.strip() for text in errors):
        raise AssertionError(f"Authorize failed: {errors}")
    dialog.locator("button.close-modal").click()


def try_get_me(page: Page) -> str:
    block = page.locator(".opblock.opblock-get").filter(
        has=page.locator('.opblock-summary-path[data-path="/v1/me"]')
    )
    block.locator(".opblock-summary-control").click()
    block.locator("button.try-out__btn").click()
    block.locator("button.execute").click()
    status = block.locator(".live-responses-table .response .response-col_status").first
    status.wait_for(timeout=TIMEOUT_MS)
    return status.inner_text().strip()


def check_redoc(page: Page, base_url: str, expected: set[tuple[str, str]], shot: Path) -> list[str]:
    """/redoc draws one section per operation (`operation/<operationId>`)."""
    page.goto(f"{base_url}/redoc", wait_until="networkidle", timeout=TIMEOUT_MS)
    try:
        page.wait_for_selector("[data-section-id^='operation/']", timeout=TIMEOUT_MS)
    except Exception:
        return ["/redoc drew no operation"]
    sections = page.eval_on_selector_all(
        "[data-section-id^='operation/']", "els => els.map(e => e.dataset.sectionId)"
    )
    page.screenshot(path=str(shot.with_name("redoc.png")))
    # Redoc draws the webhooks (event payloads) as operations too: every operation id of the
    # document's paths and webhooks, and nothing else.
    document = httpx.get(f"{base_url}/openapi.json", timeout=30).raise_for_status().json()
    ids = {
        f"operation/{operation['operationId']}"
        for section in ("paths", "webhooks")
        for item in document.get(section, {}).values()
        for method, operation in item.items()
        if method in METHODS
    }
    assert len(ids) >= len(expected)
    drawn = set(sections)
    if drawn != ids:
        return [f"/redoc: not drawn {sorted(ids - drawn)}, unexpected {sorted(drawn - ids)}"]
    return []


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base-url", default="http://127.0.0.1:8000")
    parser.add_argument("--username", required=True)
    parser.add_argument("--password", required=True)
    parser.add_argument("--screenshot", default="artefacts/docs.png")
    args = parser.parse_args()
    base_url = args.base_url.rstrip("/")
    server_host = urlsplit(base_url).hostname
    expected = documented_operations(base_url)
    outside: list[str] = []

    def only_the_server(route: Route) -> None:
        url = route.request.url
        if urlsplit(url).hostname == server_host or url.startswith(("data:", "blob:")):
            route.continue_()
        else:
            outside.append(url)
            route.abort()

    screenshot = Path(args.screenshot)
    screenshot.parent.mkdir(parents=True, exist_ok=True)
    failures: list[str] = []
    with sync_playwright() as pw:
        browser = pw.chromium.launch(
            executable_path=chromium_path(),
            headless=True,
            # As root (CI) Chromium needs --no-sandbox; small /dev/shm in containers.
            args=["--no-sandbox", "--disable-dev-shm-usage"],
        )
        try:
            context = browser.new_context(viewport={"width": 1280, "height": 900})
            context.route("**/*", only_the_server)
            page = context.new_page()
            page.goto(f"{base_url}/docs", wait_until="networkidle", timeout=TIMEOUT_MS)
            try:
                page.wait_for_selector(".swagger-ui .opblock", timeout=TIMEOUT_MS)
            except Exception:
                failures.append("no operation was drawn")
            rendered_error = page.locator(".swagger-ui .errors-wrapper").all_inner_texts()
            if rendered_error:
                failures.append(f"Swagger UI reports errors: {rendered_error}")
            if not failures:
                missing = expected - drawn_operations(page)
                if missing:
                    failures.append(f"{len(missing)} operations not drawn: {sorted(missing)}")
                try:
                    authorize(page, args.username, args.password)
                    status = try_get_me(page)
                    if status != "200":
                        failures.append(f"Try it out on GET /v1/me answered {status}")
                except Exception as exc:
                    failures.append(f"Authorize / Try it out failed: {exc}")
            page.screenshot(path=str(screenshot), full_page=False)
            failures += check_redoc(context.new_page(), base_url, expected, screenshot)
        finally:
            browser.close()
    if outside:
        failures.append(f"requests left the server: {sorted(set(outside))}")
    for failure in failures:
        print(f"browser check FAILED: {failure}", file=sys.stderr)
    if not failures:
        print(
            f"browser check: {len(expected)} operations drawn in /docs and /redoc, "
            "Authorize and Try it out OK"
        )
    print(f"screenshot: {screenshot}")
    return 1 if failures else 0


if __name__ == "__main__":
    raise SystemExit(main())
