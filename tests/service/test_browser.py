"""Browser tests: Playwright driving Debian's chromium against a live uvicorn on loopback.

Screenshots of the main pages are taken on every run; with CONSENTRY_SCREENSHOTS=1
they replace the ones under docs/screenshots/ (otherwise they go to a temporary
directory, so a test run leaves the working tree clean).
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest

from consentry.pipeline import build
from consentry.policy import load_policy
from consentry.receipts.verify import verify_signed_receipt
from consentry.service import StaffRegistry, StaffRole, create_app
from consentry.store import SqlStore, open_store
from consentry.store.protocol import Member

from .conftest import CLOCK, MEMBERS, make_config
from .serving import serving

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parents[2]
AXE = ROOT / "tests" / "a11y" / "node_modules" / "axe-core" / "axe.min.js"
NOTICE_CLOCK = datetime(2025, 10, 1, tzinfo=UTC)
SHOTS = ROOT / "docs" / "screenshots" if os.environ.get("CONSENTRY_SCREENSHOTS") == "1" else None
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


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
    with serving(create_app(store, make_config(public_lake=lake))) as base:
        yield {"base": base, "store": store, "key": key}
    store.close()


#: Members of the European Union reading the pages in each language while 2025-11-03 is announced.
NOTICE_MEMBERS = {"en": ("de-anna", "DE"), "de": ("de-berta", "DE"), "fr": ("fr-chloe", "FR")}


@pytest.fixture(scope="module")
def live_notice(live: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """The same store served as of 2025-10-01: the 2025-11-03 terms are announced, not yet in force."""
    store = live["store"]
    created = datetime(2020, 1, 1, tzinfo=UTC)
    store.add_members([Member(m, c, date(1985, 6, 1), created) for m, c in NOTICE_MEMBERS.values()])
    with serving(create_app(store, make_config(clock_start=NOTICE_CLOCK))) as base:
        yield {**live, "base": base}


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
    context.setdefault("viewport", {"width": 1100, "height": 900})
    page = browser.new_context(**context).new_page()
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
    # The signed receipt the page offers downloads, and verifies against the store.
    with page.expect_download() as info:
        page.locator("table.choices tbody tr").first.get_by_role("link", name="Signed").click()
    download = info.value
    assert download.suggested_filename.endswith("-iso27560.jws.json")
    report = verify_signed_receipt(Path(download.path()).read_text(), live["store"])
    assert report.ok, report.to_dict()
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
    assert "Sent: your objection OBJ-" in page.locator(".flash").inner_text()
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
    row.locator("form.assign input[name=assignee]").fill("Ana Ruiz")
    row.locator("form.assign button").click()
    staff.wait_for_load_state()
    assert "assigned to Ana Ruiz." in staff.locator(".flash").inner_text()
    assert row.get_attribute("data-assignee") == "Ana Ruiz"
    _shot(staff, "admin-objections")
    row.locator("select[name=outcome]").select_option("upheld")
    row.locator("form.decide button").click()
    staff.wait_for_load_state()
    assert staff.locator(f"table.closed tr[data-case='{case_id}'] .status").inner_text() == "Upheld"
    assert "decided: Upheld." in staff.locator(".flash").inner_text()
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


def _axe(page: Any) -> list[str]:
    """axe-core's serious and critical violations on the page as loaded (rule id and the first nodes)."""
    assert AXE.is_file(), "install axe-core: bash scripts/axe-setup.sh (make test does)"
    if not page.evaluate("typeof axe !== 'undefined'"):
        page.evaluate(AXE.read_text())
    found = page.evaluate(
        """async () => (await axe.run(document, {resultTypes: ['violations']})).violations
            .filter(v => v.impact === 'serious' || v.impact === 'critical')
            .map(v => `${v.id} (${v.impact}): ${v.nodes.slice(0, 3).map(n => n.target.join(' ')).join(', ')}`)"""
    )
    return [f"{page.url}: {v}" for v in found]


BANNER_WORDS = {
    "en": ("Our terms change on 3 November 2025", "Done: Data for Generative AI Improvement is now off."),
    "de": ("Unsere Bedingungen ändern sich am 3. November 2025", "Erledigt: Daten zur Verbesserung generativer KI"),
    "fr": ("Nos conditions changent le 3 novembre 2025", "C’est fait : Données pour l’amélioration de l’IA"),
}


@pytest.mark.parametrize("language", ["en", "de", "fr"])
def test_member_in_the_notice_period_in_three_languages(
    browser: Any, live_notice: dict[str, Any], language: str
) -> None:
    member, _ = NOTICE_MEMBERS[language]
    page = _member_page(browser, live_notice, member, locale=language, bypass_csp=True)
    assert page.locator("html").get_attribute("lang") == language
    banner = page.locator("#notice-banner")
    heading, done = BANNER_WORDS[language]
    assert heading in banner.locator("h2").inner_text()
    assert banner.locator("li[data-purpose=genai_training]").count() == 1
    assert _axe(page) == []
    _shot(page, {"en": "settings-de-notice", "de": "settings-de-german", "fr": "settings-fr-french"}[language])
    banner.locator("form.turn-off-now button").click()
    page.wait_for_load_state()
    assert done in page.locator(".flash").inner_text()
    assert page.locator("#notice-banner .turned-off").count() == 1
    [event] = live_notice["store"].events(member_id=member, purpose="genai_training")
    assert (event.choice.value, event.policy_version) == ("deny", "2025-11-03")
    page.context.close()


def test_no_serious_or_critical_accessibility_violations_on_any_page(browser: Any, live: dict[str, Any]) -> None:
    store = live["store"]
    case = store.file_objection("gb-gary", ["personalization"], CLOCK, text=None)
    member = _member_page(browser, live, "gb-gary", bypass_csp=True)
    violations = _axe(member)
    probe = member.context.new_page()
    probe.set_content('<html lang="en"><title>t</title><body><main><img src="x.png"></main></body></html>')
    assert any("image-alt (critical)" in v for v in _axe(probe))  # axe runs, and would catch one
    probe.close()
    paths = {a.get_attribute("href") for a in member.locator("header nav a").all()}
    for path in sorted(paths | {f"/settings/objection/{case.case_id}", "/settings/objection/obj_0000000000000000"}):
        member.goto(f"{live['base']}{path}")
        violations += _axe(member)
    member.context.close()
    staff = browser.new_context(viewport={"width": 1300, "height": 900}, bypass_csp=True).new_page()
    staff.goto(f"{live['base']}/demo/sign-in")
    violations += _axe(staff)
    staff.goto(f"{live['base']}/admin/sign-in")
    violations += _axe(staff)
    staff.fill("#api_key", live["key"])
    staff.click("form[action='/admin/sign-in'] button[type=submit]")
    staff.wait_for_url("**/admin/objections")
    violations += _axe(staff)
    paths = {a.get_attribute("href") for a in staff.locator("header nav a").all()}
    replay = "/admin/replay?member_id=us-bob&purpose=personalization&at=2025-03-01T00:00:00Z"
    for path in sorted(paths | {replay, "/admin/objections?q=gary"}):
        staff.goto(f"{live['base']}{path}")
        violations += _axe(staff)
    for path in ("/in/de-dora", "/posts/r2"):  # the demo's public pages
        staff.goto(f"{live['base']}{path}")
        violations += _axe(staff)
    staff.context.close()
    assert violations == [], "\n".join(violations)
