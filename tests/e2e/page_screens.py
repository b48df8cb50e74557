"""`make screens`: the passenger page at 375 px and 1280 px, in English and Arabic, saved under docs/screens/."""

from __future__ import annotations

import asyncio
import sys
import tempfile
from pathlib import Path

from playwright.async_api import async_playwright

from infra import crypto
from tests.e2e.page_browser import chromium, served, small_world

OUT = Path(__file__).resolve().parents[2] / "docs" / "screens"
WIDTHS = (375, 1280)
LOCALES = ("en", "ar")


async def main() -> int:
    path = chromium()
    if path is None:
        print("Chromium is not installed: apt-get install chromium", file=sys.stderr)
        return 1
    OUT.mkdir(parents=True, exist_ok=True)
    crypto.configure(crypto.Keyring.from_secrets([("k1", "screens-only-key")], "screens-only-blind-key"))
    with tempfile.TemporaryDirectory() as tmp:
        async with served(f"sqlite+aiosqlite:///{Path(tmp) / 'rebook.db'}", small_world()) as app, async_playwright() as p:
            browser = await p.chromium.launch(executable_path=path, args=["--no-sandbox"])
            convs = await app.conversations()
            for n, locale in enumerate(LOCALES):
                pages = {
                    "options": await app.link(convs[2 * n], locale=locale),
                    "expired": await app.link(convs[2 * n + 1], locale=locale, expired=True),
                }
                for width in WIDTHS:
                    context = await browser.new_context(locale=locale, viewport={"width": width, "height": 900})
                    page = await context.new_page()
                    for state, url in pages.items():
                        await page.goto(url)
                        await page.screenshot(path=str(OUT / f"page-{state}-{locale}-{width}.png"), full_page=True)
                    await context.close()
                booked = await browser.new_context(locale=locale, viewport={"width": WIDTHS[0], "height": 900})
                page = await booked.new_page()
                await page.goto(pages["options"])
                await page.click("ol.options li:first-child button")
                for width in WIDTHS:
                    await page.set_viewport_size({"width": width, "height": 900})
                    await page.screenshot(path=str(OUT / f"page-booked-{locale}-{width}.png"), full_page=True)
                await booked.close()
            await browser.close()
    print(f"screenshots in {OUT}")
    return 0


if __name__ == "__main__":
    raise SystemExit(asyncio.run(main()))
