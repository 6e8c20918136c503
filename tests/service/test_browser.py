"""Browser tests: Playwright driving Debian's chromium against a live uvicorn on loopback.

Screenshots of the main pages are taken on every run; with CONSENTRY_SCREENSHOTS=1
they replace the ones under docs/screenshots/ (otherwise they go to a temporary
directory, so a test run leaves the working tree clean).
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import tempfile
import threading
import time
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
import uvicorn

from consentry.pipeline import build
from consentry.policy import load_policy
from consentry.service import StaffRegistry, StaffRole, create_app
from consentry.store import SqlStore, open_store
from consentry.store.protocol import Member

from .conftest import CLOCK, MEMBERS, make_config

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parents[2]
SHOTS = ROOT / "docs" / "screenshots" if os.environ.get("CONSENTRY_SCREENSHOTS") == "1" else None
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """uvicorn serving a populated store (with one build) on a free loopback port."""
    root = tmp_path_factory.mktemp("live")
    store: SqlStore = open_store(f"sqlite:///{root / 'c.db'}")
    store.publish(load_policy(ROOT / "examples" / "policies" / "social-network.yaml"))
    created = datetime(2020, 1, 1, tzinfo=UTC)
    store.add_members([Member(m, c, date(1985, 6, 1), created) for m, c in MEMBERS.items()])
    lake = root / "lake.jsonl"
    rows = [
        {
            "record_id": f"r{i}",
            "member_id": m,
            "kind": "post",
            "visibility": "public",
            "created_at": "2024-12-01T00:00:00Z",
            "text": f"post {i}",
        }
        for i, m in enumerate(["us-alice", "us-bob", "de-dora", "gb-gary", "us-bob"])
    ]
    lake.write_text("".join(json.dumps(r) + "\n" for r in rows))
    build(store, "genai_training", [lake], root / "out", as_of=CLOCK, scrub=False)
    key = StaffRegistry(store).add_key("browser reviewer", StaffRole.REVIEWER).secret
    port = _free_port()
    server = uvicorn.Server(
        uvicorn.Config(
            create_app(store, make_config(public_lake=lake)), host="127.0.0.1", port=port, log_level="warning"
        )
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started and thread.is_alive():  # no wall-clock limit: it starts, or its thread ends
        time.sleep(0.05)
    assert server.started, "uvicorn did not start"
    yield {"base": f"http://127.0.0.1:{port}", "store": store, "key": key}
    server.should_exit = True
    thread.join(timeout=10)
    store.close()


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """One chromium for the module (Debian's package; never downloaded)."""
    from playwright.sync_api import sync_playwright

    exe = shutil.which("chromium")
    assert exe, "install Debian's chromium (apt-get install -y chromium)"
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=exe, args=ARGS)
        yield b
        b.close()


def _member_page(browser: Any, live: dict[str, Any], member: str, **context: Any) -> Any:
    page = browser.new_context(viewport={"width": 1100, "height": 900}, **context).new_page()
    page.goto(f"{live['base']}/settings/data-privacy")
    assert page.url.endswith("/demo/sign-in")
    page.select_option("#member_id", member)
    page.click("form.demo-sign-in button[type=submit]")
    page.wait_for_url("**/settings/data-privacy")
    return page


def _shot(page: Any, name: str) -> None:
    target = SHOTS or Path(tempfile.gettempdir()) / "consentry-screenshots"
    target.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(target / f"{name}.png"), full_page=True)
    assert (target / f"{name}.png").stat().st_size > 1000


def test_us_member_turns_generative_ai_off_and_on(browser: Any, live: dict[str, Any]) -> None:
    page = _member_page(browser, live, "us-alice")
    item = page.locator("#purpose-genai_training")
    assert item.get_attribute("data-enabled") == "on"
    _shot(page, "settings-us")
    item.get_by_role("button", name="Turn off").click()
    page.wait_for_load_state()
    assert page.locator("#purpose-genai_training").get_attribute("data-enabled") == "off"
    assert "You chose this." in page.locator("#purpose-genai_training").inner_text()
    page.locator("#purpose-genai_training").get_by_role("button", name="Turn on").click()
    page.wait_for_load_state()
    assert page.locator("#purpose-genai_training").get_attribute("data-enabled") == "on"
    choices = [e.choice.value for e in live["store"].events(member_id="us-alice", purpose="genai_training")]
    assert choices == ["deny", "allow"]
    page.goto(f"{live['base']}/settings/my-data")
    assert page.locator("table.choices tbody tr").count() == 2
    _shot(page, "my-data")
    page.context.close()


def test_german_member_sees_no_generative_ai_setting(browser: Any, live: dict[str, Any]) -> None:
    page = _member_page(browser, live, "de-dora")
    item = page.locator("#purpose-genai_training")
    assert item.get_attribute("data-control") == "not_in_region"
    assert item.get_by_role("button").count() == 0
    assert "does not apply in your region" in item.inner_text()
    _shot(page, "settings-de")
    page.context.close()


def test_objection_filed_then_upheld_in_console(browser: Any, live: dict[str, Any]) -> None:
    page = _member_page(browser, live, "us-bob")
    page.locator("#purpose-personalization").get_by_role("link", name="Object to this use").click()
    page.wait_for_url("**/settings/objection?purpose=personalization")
    assert page.locator("input[value=personalization]").is_checked()
    page.fill("#text", "I would rather not.")
    page.click("form.objection button[type=submit]")
    page.wait_for_url("**/settings/objection/obj_*")
    case_id = page.locator("dl.case").get_attribute("data-case")
    assert page.locator("#status").get_attribute("data-status") == "received"
    assert page.locator("#due-by").get_attribute("data-date") == "2025-02-14"
    assert page.locator("#due-by").inner_text() == "14 February 2025"
    assert "We received your objection (reference OBJ-" in page.locator(".flash").inner_text()
    _shot(page, "objection-confirmation")
    page.goto(f"{live['base']}/settings/data-privacy")
    pending = page.locator("#purpose-personalization")
    assert pending.get_attribute("data-enabled") == "off"
    assert "Paused while your objection is reviewed" in pending.inner_text()
    assert pending.locator(".badge").inner_text() == "Off"

    staff = browser.new_context(viewport={"width": 1300, "height": 900}).new_page()
    staff.goto(f"{live['base']}/admin/objections")
    assert staff.url.endswith("/admin/sign-in")
    staff.fill("#api_key", live["key"])
    staff.click("form[action='/admin/sign-in'] button[type=submit]")
    staff.wait_for_url("**/admin/objections")
    row = staff.locator(f"tr[data-case='{case_id}']")
    _shot(staff, "admin-objections")
    row.locator("select[name=outcome]").select_option("upheld")
    row.locator("form.decide button").click()
    staff.wait_for_load_state()
    assert staff.locator(f"table.closed tr[data-case='{case_id}'] .status").inner_text() == "Upheld"
    for name in ("policy", "builds", "ledger"):
        staff.goto(f"{live['base']}/admin/{name}")
        _shot(staff, f"admin-{name}")
    staff.goto(f"{live['base']}/admin/replay?member_id=us-bob&purpose=personalization&at=2025-03-01T00:00:00Z")
    assert staff.locator("#reason").inner_text() == "OBJECTION_UPHELD"
    _shot(staff, "admin-replay")
    staff.context.close()

    page.goto(f"{live['base']}/settings/objection/{case_id}")
    assert page.locator("#status").inner_text() == "Upheld"
    page.goto(f"{live['base']}/settings/data-privacy")
    text = page.locator("#purpose-personalization").inner_text()
    assert page.locator("#purpose-personalization").get_attribute("data-enabled") == "off"
    assert "Your objection was upheld." in text
    page.context.close()


def test_gpc_request_is_honoured(browser: Any, live: dict[str, Any]) -> None:
    page = _member_page(browser, live, "gb-gary", extra_http_headers={"Sec-GPC": "1"})
    assert page.locator("#gpc-notice").is_visible()
    ads = page.locator("#purpose-ads_partners")
    assert "Global Privacy Control" in ads.inner_text()
    events = live["store"].events(member_id="gb-gary", purpose="ads_partners")
    assert [(e.choice.value, e.source.value) for e in events] == [("deny", "gpc")]
    page.reload()
    assert len(live["store"].events(member_id="gb-gary")) == 1  # once per policy version
    _shot(page, "settings-gpc")
    page.context.close()


def test_forged_form_without_csrf_token_is_refused(browser: Any, live: dict[str, Any]) -> None:
    page = _member_page(browser, live, "us-bob")
    before = len(live["store"].events(member_id="us-bob"))
    # A same-origin forged form: the session cookie is sent, only the token is missing.
    response = page.request.post(
        f"{live['base']}/settings/data-privacy/genai_training", form={"enabled": "off"}, max_redirects=0
    )
    assert response.status == 403 and "security token" in response.text()
    # A cross-site form post: the SameSite cookie stays home, and nothing is recorded either.
    page.set_content(
        f'<form id="f" method="post" action="{live["base"]}/settings/data-privacy/genai_training">'
        '<input name="enabled" value="off"></form>'
    )
    with page.expect_navigation():
        page.evaluate("document.getElementById('f').submit()")
    assert "Something went wrong" in page.title() or page.url.endswith("/demo/sign-in")
    assert len(live["store"].events(member_id="us-bob")) == before
    page.context.close()


SIGNALS = ("content-usage", "tdm-reservation", "tdm-policy", "x-robots-tag")


def _signals_of(response: Any) -> dict[str, str]:
    headers = response.all_headers()
    return {n: headers[n] for n in SIGNALS if n in headers}


def test_public_pages_carry_the_members_signals_from_the_moment_the_setting_is_off(
    browser: Any, live: dict[str, Any]
) -> None:
    reserved = {
        "content-usage": "train-ai=n",
        "tdm-reservation": "1",
        "tdm-policy": "https://example.org/terms/2024-11-20",
        "x-robots-tag": "noai, noimageai",
    }
    visitor = browser.new_context().new_page()
    assert _signals_of(visitor.goto(f"{live['base']}/in/de-dora")) == reserved  # region excluded: always
    assert _signals_of(visitor.goto(f"{live['base']}/posts/r2")) == reserved  # de-dora's post
    assert _signals_of(visitor.goto(f"{live['base']}/posts/r0")) == {}  # us-alice allows
    assert "post 0" in visitor.content()
    page = _member_page(browser, live, "us-alice")
    page.locator("#purpose-genai_training").get_by_role("button", name="Turn off").click()
    page.wait_for_load_state()
    assert page.locator("#purpose-genai_training").get_attribute("data-enabled") == "off"
    assert _signals_of(visitor.goto(f"{live['base']}/posts/r0")) == reserved
    assert _signals_of(visitor.goto(f"{live['base']}/in/us-alice")) == reserved
    page.locator("#purpose-genai_training").get_by_role("button", name="Turn on").click()
    page.wait_for_load_state()
    assert _signals_of(visitor.goto(f"{live['base']}/in/us-alice")) == {}
    page.context.close()
    visitor.context.close()
