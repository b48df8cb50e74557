"""The passenger page in a real browser: no WCAG 2.1 A/AA violation (axe-core) in any state, in English
and Arabic; a booking made with the keyboard alone; nothing scrolls sideways at 320 px."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from axe_playwright_python.async_playwright import Axe
from playwright.async_api import async_playwright

from tests.e2e.page_browser import (
    WCAG_A_AA,
    Served,
    browser_required,
    chromium,
    served,
    small_world,
)
from tests.gateway.conftest import World


@pytest.fixture(scope="module")
def world() -> World:
    return small_world()


@pytest.fixture
def browser_path() -> str:
    path = chromium()
    if path is None:
        message = "Chromium is not installed (apt-get install chromium)"
        if browser_required():
            pytest.fail(message)
        pytest.skip(message)
    return path


@pytest.fixture
async def app(tmp_path: Path, world: World) -> AsyncIterator[Served]:
    async with served(f"sqlite+aiosqlite:///{tmp_path / 'rebook.db'}", world) as s:
        yield s


@pytest.fixture
async def browser(browser_path: str) -> AsyncIterator[Any]:
    async with async_playwright() as p:
        b = await p.chromium.launch(executable_path=browser_path, args=["--no-sandbox"])
        try:
            yield b
        finally:
            await b.close()


async def _violations(page: Any) -> list[str]:
    result = await Axe().run(page, options={"runOnly": {"type": "tag", "values": WCAG_A_AA}})
    return [f"{v['id']}: {v['help']} ({len(v['nodes'])} nodes)" for v in result.response["violations"]]


async def _states(app: Served, browser: Any, locale: str) -> dict[str, list[str]]:
    """Every page state a passenger can reach, each checked by axe."""
    convs = await app.conversations()
    found: dict[str, list[str]] = {}
    context = await browser.new_context(locale=locale, viewport={"width": 375, "height": 800})
    page = await context.new_page()

    async def check(name: str) -> None:
        assert (await page.evaluate("document.documentElement.lang")) == locale, name
        if locale == "ar":
            assert (await page.evaluate("document.documentElement.dir")) == "rtl", name
        found[name] = await _violations(page)

    url = await app.link(convs[0], locale=locale)
    await page.goto(url)
    await check("options")
    await page.click("ol.options li:first-child button")
    await check("booked")
    await page.goto(url + "?notice=already_booked")
    await check("notice")

    second = await app.link(convs[1], locale=locale)
    await page.goto(second)
    option_id = await page.get_attribute("ol.options li:first-child input[name=option_id]", "value")
    await page.goto(f"{second}/confirm/{option_id}")
    await check("confirm")
    await page.goto(second)
    await page.click("form[action$='/agent'] button")
    await check("escalated")
    await page.evaluate("document.querySelector('input[name=csrf]').value = 'forged'")
    await page.click("form[action$='/refund'] button")
    await check("forbidden")

    expired = await app.link(convs[2], locale=locale, expired=True)
    await page.goto(expired)
    await check("expired")
    await page.click("form[action$='/renew'] button")
    await check("renewed")

    token = second.rsplit("/", 1)[1]
    await page.goto(f"{app.base}/email/unsubscribe/{token}")
    await check("unsubscribe")
    await page.click("form button")
    await check("unsubscribed")
    await context.close()
    return found


@pytest.mark.slow
@pytest.mark.parametrize("locale", ["en", "ar"])
async def test_no_wcag_a_or_aa_violation_in_any_page_state(app: Served, browser: Any, locale: str) -> None:
    found = await _states(app, browser, locale)

    assert set(found) == {
        "options", "booked", "notice", "confirm", "escalated", "forbidden", "expired", "renewed", "unsubscribe", "unsubscribed",
    }
    assert {name: v for name, v in found.items() if v} == {}


@pytest.mark.slow
async def test_a_booking_with_the_keyboard_alone(app: Served, browser: Any) -> None:
    url = await app.link((await app.conversations())[0])
    context = await browser.new_context(viewport={"width": 375, "height": 800})
    page = await context.new_page()
    await page.goto(url)
    wanted = await page.inner_text("ol.options li:first-child button")

    focused = []
    for _ in range(40):
        await page.keyboard.press("Tab")
        focused.append(await page.evaluate("document.activeElement.textContent.trim()"))
        if focused[-1] == wanted:
            break
    assert focused[0] == "Skip to content"
    assert focused[-1] == wanted, focused
    await page.keyboard.press("Enter")
    await page.wait_for_url("**notice=booked")

    assert "Your new itinerary" in await page.inner_text("main")
    await context.close()


@pytest.mark.slow
@pytest.mark.parametrize("locale", ["en", "ar"])
async def test_nothing_scrolls_sideways_at_320_px(app: Served, browser: Any, locale: str) -> None:
    url = await app.link((await app.conversations())[0], locale=locale)
    context = await browser.new_context(viewport={"width": 320, "height": 640})
    page = await context.new_page()
    await page.goto(url)

    assert await page.evaluate("document.documentElement.scrollWidth") <= 320
    await context.close()
