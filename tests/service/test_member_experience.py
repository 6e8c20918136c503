"""What members read: the notice banner, their language, words instead of codes, a confirmation per action."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest
from fastapi.testclient import TestClient

from consentry.service import create_app
from consentry.service.i18n import LANGUAGES, case_reference, negotiate, translator
from consentry.service.notices import notice_for
from consentry.store import SqlStore
from consentry.vocab import Mode

from .conftest import make_config, sign_in

BEFORE_EUROPE = datetime(2025, 10, 1, tzinfo=UTC)  # 2025-11-03 announced, not yet in force
RAW = re.compile(
    r"\b(genai_training|ads_partners|content_moderation|personalization|deny|allow|obj_[0-9a-f]+|[A-Z]+_[A-Z_]+)\b"
)


def _text(html: str) -> str:
    """The words a person sees: no tags, no attributes."""
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def _client(store: SqlStore, member: str, at: datetime, **headers: str) -> TestClient:
    client = TestClient(create_app(store, make_config(clock_start=at)), headers=headers)
    sign_in(client, member)
    return client


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("de-DE,de;q=0.9,en;q=0.5", "de"),
        ("fr-CH, en;q=0.8", "fr"),
        ("es, en-GB;q=0.7", "en"),
        ("", "en"),
        ("en;q=0.1, de;q=0.9", "de"),
        ("xx, *", "en"),
    ],
)
def test_accept_language_picks_the_best_page_language(header: str, expected: str) -> None:
    assert negotiate(header) == expected


def test_the_german_member_is_told_before_the_terms_change_and_can_turn_it_off_now(svc_store: SqlStore) -> None:
    banner = notice_for(svc_store.policy(), "DE", BEFORE_EUROPE)
    assert banner is not None and banner.version.version == "2025-11-03"
    change = {c.purpose: c for c in banner.changes}["genai_training"]
    assert (change.before, change.after, change.can_turn_off_now) == (Mode.EXCLUDED, Mode.OPT_OUT, True)
    assert notice_for(svc_store.policy(), "US", BEFORE_EUROPE) is None  # nothing changes for them
    assert notice_for(svc_store.policy(), "DE", datetime(2025, 12, 1, tzinfo=UTC)) is None  # notice served

    with _client(svc_store, "de-dora", BEFORE_EUROPE, **{"Accept-Language": "de"}) as c:
        html = c.get("/settings/data-privacy").text
        assert 'id="notice-banner"' in html and '<html lang="de">' in html
        assert "Unsere Bedingungen ändern sich am 3. November 2025" in html
        assert "Wir werden künftig auch öffentliche Inhalte" in html  # the policy's own words, in German
        assert "ab 17. November 2025 genutzt" in html  # from when: the notice's end
        r = c.post("/settings/data-privacy/genai_training", data={"enabled": "off"}, follow_redirects=False)
        assert r.status_code == 303
        after = c.get("/settings/data-privacy").text
        assert "Erledigt: Daten zur Verbesserung generativer KI ist jetzt aus." in after
        assert "Sie haben es ausgeschaltet" in after
        assert "Erledigt" not in c.get("/settings/data-privacy").text  # a confirmation shows once
    [event] = svc_store.events(member_id="de-dora", purpose="genai_training")
    assert (event.choice.value, event.policy_version) == ("deny", "2025-11-03")
    with _client(svc_store, "us-alice", BEFORE_EUROPE) as c:
        assert 'id="notice-banner"' not in c.get("/settings/data-privacy").text


def test_a_members_own_language_overrides_the_browser_and_auto_restores_it(svc_store: SqlStore) -> None:
    with _client(svc_store, "us-bob", datetime(2025, 1, 15, tzinfo=UTC), **{"Accept-Language": "de"}) as c:
        assert "<h1>Datenschutz</h1>" in c.get("/settings/data-privacy").text
        c.post("/settings/language", data={"language": "fr", "back": "/settings/my-data"}, follow_redirects=False)
        assert svc_store.languages.get("us-bob") == "fr"
        page = c.get("/settings/my-data").text
        assert "<h1>Mes données</h1>" in page and "Les pages sont maintenant en Français." in page
        c.post("/settings/language", data={"language": "auto"})
        assert svc_store.languages.get("us-bob") is None
        assert "<h1>Datenschutz</h1>" in c.get("/settings/data-privacy").text
        assert c.post("/settings/language", data={"language": "tlh"}).status_code == 422


@pytest.mark.parametrize("language", list(LANGUAGES))
def test_pages_show_words_never_codes_or_ids(svc_store: SqlStore, language: str) -> None:
    with _client(svc_store, "us-bob", datetime(2025, 1, 15, tzinfo=UTC), **{"Accept-Language": language}) as c:
        c.post("/settings/data-privacy/genai_training", data={"enabled": "off"})
        r = c.post("/settings/objection", data={"purposes": ["personalization"], "text": "no"}, follow_redirects=False)
        case_url = r.headers["location"]
        for path in ("/settings/data-privacy", "/settings/objection", case_url, "/settings/my-data"):
            seen = _text(c.get(path).text)
            assert not RAW.findall(seen), (path, RAW.findall(seen))
        case_id = case_url.rsplit("/", 1)[1]
        assert case_reference(case_id) in c.get(case_url).text
    assert re.fullmatch(r"OBJ(-[0-9A-F]{4}){4}", case_reference(case_id))


def test_the_gpc_banner_names_the_uses_the_signal_covers(svc_store: SqlStore) -> None:
    with _client(svc_store, "gb-gary", datetime(2025, 1, 15, tzinfo=UTC), **{"Sec-GPC": "1"}) as c:
        notice = re.search(r'id="gpc-notice">(.*?)</p>', c.get("/settings/data-privacy").text, re.S)
        assert notice and "Sharing with advertising partners" in notice.group(1)
        assert "Personalised feed" not in notice.group(1)


def test_every_catalogue_translates_every_message() -> None:
    from babel.messages.pofile import read_po

    from consentry.service.i18n import LOCALE_DIR

    template = {m.id for m in read_po((LOCALE_DIR / "messages.pot").open("rb")) if m.id}
    for language in LANGUAGES:
        if language == "en":
            continue
        catalogue = read_po((LOCALE_DIR / language / "LC_MESSAGES" / "messages.po").open("rb"))
        translated = {m.id for m in catalogue if m.id and m.string}
        assert template <= translated, (language, sorted(template - translated)[:5])
        tr = translator(language)
        for m in catalogue:  # the compiled catalogue the pages read is the one in the .po
            if isinstance(m.id, tuple):
                assert tr.ngettext(m.id[0], m.id[1], 5) in m.string, (language, m.id)
            elif m.id:
                assert tr.gettext(m.id) == m.string, (language, m.id)


def test_the_message_template_holds_every_marked_message() -> None:
    from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
    from babel.messages.pofile import read_po

    from consentry.service.i18n import LOCALE_DIR

    service = LOCALE_DIR.parent
    found = {
        message
        for _, _, message, _, _ in extract_from_dir(
            str(service),
            method_map=[("**.py", "python"), ("templates/**.html", "jinja2")],
            options_map={"templates/**.html": {"extensions": "jinja2.ext.i18n"}},
            keywords={**DEFAULT_KEYWORDS, "N_": None},
        )
    }
    template = {m.id for m in read_po((LOCALE_DIR / "messages.pot").open("rb")) if m.id}
    assert found == template, "re-extract the catalogues (docs/i18n.md): " + repr(sorted(found ^ template)[:5])


def test_signing_out_is_confirmed_on_the_sign_in_page(svc_store: SqlStore) -> None:
    with _client(svc_store, "us-alice", datetime(2025, 1, 15, tzinfo=UTC), **{"Accept-Language": "fr"}) as c:
        r = c.post("/sign-out", follow_redirects=True)
        assert r.url.path == "/demo/sign-in" and "Vous êtes déconnecté." in r.text
        assert "Vous êtes déconnecté." not in c.get("/demo/sign-in").text
