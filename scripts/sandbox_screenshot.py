"""Make docs/sandbox.png, the README's picture of `minesync-bot sandbox`.

Runs a fresh sandbox, drives its page in Debian's Chromium as a person would (an invite, a new
user, the members list and a role change), and saves the screenshot:
    .venv/bin/python scripts/sandbox_screenshot.py [OUTPUT]
"""

from __future__ import annotations

import asyncio
import sys
import tempfile
from pathlib import Path

from playwright.async_api import async_playwright, expect

from sandbox.chromium import CHROMIUM, CHROMIUM_FLAGS
from sandbox.runtime import Sandbox

ROOT = Path(__file__).resolve().parents[1]


async def main(output: Path) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        async with Sandbox(port=0, database_path=Path(tmp) / "sandbox.db") as sandbox:
            async with async_playwright() as playwright:
                browser = await playwright.chromium.launch(
                    executable_path=str(CHROMIUM), args=CHROMIUM_FLAGS
                )
                page = await browser.new_page(viewport={"width": 1440, "height": 860})
                await page.goto(sandbox.url)
                await page.wait_for_selector("body[data-version]", state="attached")

                async def command(text: str) -> None:
                    await page.fill("[data-testid=composer]", text)
                    await page.press("[data-testid=composer]", "Enter")

                await command("/minesync invite nia@demo-mine.example.com viewer")
                await command("/minesync create")
                await page.fill("#input-name", "Quinn Quarry")
                await page.fill("#input-email", "quinn@demo-mine.example.com")
                await page.fill("#input-password", "correct-horse-battery")
                await page.select_option("#input-role", "technician")
                await page.locator("[data-testid=modal] [data-role=submit]").click()
                done = page.locator("[data-testid=modal]").get_by_role("button", name="Done")
                await done.click()
                await command("/minesync members")
                members = page.locator("#messages .message", has_text="Members of").last
                await expect(members).to_be_visible()
                row = members.locator(".block-section", has_text="Bo Driller")
                await row.locator("select").select_option(label="Viewer")
                audit = page.locator("#audit-messages .message", has_text="bo@demo-mine")
                await expect(audit).to_be_visible()
                await page.wait_for_timeout(300)
                await page.screenshot(path=str(output))
                await browser.close()
    print(f"wrote {output}")


if __name__ == "__main__":
    target = Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "docs" / "sandbox.png"
    asyncio.run(main(target))
