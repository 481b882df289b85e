"""The dashboard in a real browser: Debian's Chromium driven by Playwright. A caseworker logs
in with TOTP, sees the queue in Arabic (dir="rtl"), claims a case, reveals a blurred file,
changes the status, writes a note and exports the PDF. Screenshots go to test-artefacts/browser/."""

from __future__ import annotations

import os
import socket
import struct
import threading
import time
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.support import PASSPHRASE
from tests.web.conftest import DEMO_TOTP, Site, totp_code

CHROMIUM = os.environ.get("SANAD_CHROMIUM", "/usr/bin/chromium")
ARTEFACTS = Path(__file__).resolve().parents[2] / "test-artefacts" / "browser"
LAUNCH_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(
        not os.path.exists(CHROMIUM),
        reason=f"Chromium not found at {CHROMIUM}: run scripts/setup as root "
        "(apt-get install chromium) or set SANAD_CHROMIUM",
    ),
]


def _png(width: int = 40, height: int = 30) -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data))
            + kind
            + data
            + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
        )

    rows = b"".join(b"\x00" + bytes([200, 30, 30]) * width for _ in range(height))
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
        + chunk(b"IDAT", zlib.compress(rows))
        + chunk(b"IEND", b"")
    )


@pytest.fixture
def server(site: Site) -> Iterator[str]:
    import uvicorn

    from web import create_app

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    config = uvicorn.Config(
        create_app(site.dashboard),
        host="127.0.0.1",
        port=port,
        log_level="warning",
        lifespan="off",
        ws="none",
        access_log=False,
    )
    srv = uvicorn.Server(config)
    thread = threading.Thread(target=srv.run, daemon=True)
    thread.start()
    deadline = time.time() + 10
    while not srv.started and time.time() < deadline:
        time.sleep(0.05)
    assert srv.started, "the dashboard did not start"
    yield f"http://127.0.0.1:{port}"
    srv.should_exit = True
    thread.join(timeout=10)


def test_caseworker_works_a_case_in_arabic(site: Site, server: str, browser: Any) -> None:
    from playwright.sync_api import expect

    ARTEFACTS.mkdir(parents=True, exist_ok=True)
    ref = site.make_case(
        fields={"report_type": "complaint", "narrative": "احتجزوني ثلاثة أيام وضربوني بالكابلات."},
        priority=1,
        reasons=("current_danger",),
        files=[("injury.png", "image/png", _png())],
    )
    context = browser.new_context(
        locale="ar", extra_http_headers={"Accept-Language": "ar,en;q=0.5"}
    )
    page = context.new_page()
    page.goto(f"{server}/login")
    expect(page.locator("html")).to_have_attribute("dir", "rtl")
    page.fill("input[name=username]", "demo")
    page.fill("input[name=passphrase]", PASSPHRASE)
    page.fill("input[name=totp]", totp_code(DEMO_TOTP))
    page.screenshot(path=str(ARTEFACTS / "01-login-ar.png"), full_page=True)
    page.click("button[type=submit]")
    page.wait_for_url(f"{server}/queue")
    expect(page.locator("html")).to_have_attribute("dir", "rtl")
    expect(page.locator("h1")).to_have_text("قائمة الفرز")
    row = page.locator(f"tr[data-case='{ref}']")
    # the reason is shown in words; the code stays only as a data attribute (issue 16)
    expect(row.locator("[data-reason='current_danger']")).to_have_count(1)
    expect(row).not_to_contain_text("current_danger")
    page.screenshot(path=str(ARTEFACTS / "02-queue-ar.png"), full_page=True)

    row.locator("button.claim").click()
    expect(page.locator(".flash.ok")).to_contain_text(ref)
    expect(row).to_contain_text("demo")

    page.click(f"a[href='/cases/{ref}']")
    expect(page.locator("h1")).to_contain_text(ref)
    expect(page.locator(".reporter-text").first).to_be_visible()
    expect(page.locator(".blurred")).to_be_visible()
    expect(page.locator("img.revealed")).to_have_count(0)
    page.screenshot(path=str(ARTEFACTS / "03-case-blurred.png"), full_page=True)

    page.click("button.reveal")
    image = page.locator("img.revealed")
    expect(image).to_be_visible()
    page.wait_for_function("document.querySelector('img.revealed').naturalWidth > 0")
    page.screenshot(path=str(ARTEFACTS / "04-file-revealed.png"), full_page=True)

    page.select_option("select[name=to]", "under_assessment")
    page.select_option("form[action$='/status'] select[name=reason]", "assessment_started")
    page.click("#change-status")
    expect(page.locator("#case-status")).to_have_text("قيد التقييم")

    page.fill("textarea[name=text]", "تواصلتُ مع المبلّغ؛ سيرسل تقريرًا طبيًا.")
    page.click("#save-note")
    expect(page.locator(".note-text")).to_have_text("تواصلتُ مع المبلّغ؛ سيرسل تقريرًا طبيًا.")
    page.screenshot(path=str(ARTEFACTS / "05-after-note.png"), full_page=True)

    with page.expect_download() as download_info:
        page.click("#export-pdf")
    download = download_info.value
    pdf_path = ARTEFACTS / "case-ar.pdf"
    download.save_as(str(pdf_path))
    from pypdf import PdfReader

    text = "".join(pg.extract_text() for pg in PdfReader(str(pdf_path)).pages)
    assert "احتجزوني ثلاثة أيام وضربوني بالكابلات" in text

    page.click("#switch-lang")
    expect(page.locator("html")).to_have_attribute("dir", "ltr")
    expect(page.locator("#case-status")).to_have_text("Under assessment")
    page.screenshot(path=str(ARTEFACTS / "06-case-en.png"), full_page=True)
    context.close()
