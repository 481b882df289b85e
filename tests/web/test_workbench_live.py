"""Issue 16 item 6: unread badges and the live queue, over HTTP (the browser side is in
test_browser_workbench.py). A case is "new" to a caseworker until they open it, and again
when it changes after that; an open queue asks GET /queue/changes what arrived or changed
since it was loaded, and that polling never keeps an idle session alive."""

from __future__ import annotations

import html
import re
import time
from typing import Any

from starlette.testclient import TestClient

from tests.support import PASSPHRASE
from tests.web.conftest import OTHER_PASSPHRASE, Site, login, post
from web.app import WebApp


def _rows(client: TestClient) -> dict[str, bool]:
    """Case reference → whether the queue marks it new to this caseworker."""
    page = client.get("/queue?sort=ref").text
    return {
        m.group(1): bool(m.group(2))
        for m in re.finditer(r'<tr class="p\d" data-case="([^"]+)"( data-unseen="1")?>', page)
    }


def _changes_url(client: TestClient) -> str:
    match = re.search(r'id="live"[^>]* data-url="([^"]+)"', client.get("/queue").text)
    assert match, "the queue has no live notice"
    return html.unescape(match.group(1))


def _changes(client: TestClient, url: str, lang: str = "en") -> dict[str, Any]:
    response = client.get(f"{url}&lang={lang}")
    assert response.status_code == 200
    assert response.headers["cache-control"] == "no-store"
    data: dict[str, Any] = response.json()
    return data


def test_new_cases_carry_a_badge_until_opened_and_the_queue_says_what_changed(
    any_site: Site,
) -> None:
    any_site.add_user("sara", "supervisor")  # before the cases: they are sealed to her too
    first, second = any_site.make_case(priority=2), any_site.make_case(priority=3)
    demo = any_site.client()
    assert login(demo, "demo", PASSPHRASE, any_site.secrets["demo"]).status_code == 303
    assert _rows(demo) == {first: True, second: True}
    assert demo.get(f"/cases/{first}").status_code == 200
    assert _rows(demo) == {first: False, second: True}  # opened: no longer new to demo
    sara = any_site.client()
    assert login(sara, "sara", OTHER_PASSPHRASE, any_site.secrets["sara"]).status_code == 303
    assert _rows(sara) == {first: True, second: True}  # each caseworker has their own

    url = _changes_url(demo)  # the queue as demo loaded it, now
    assert _changes(demo, url) == {"changed": 0, "text": ""}
    time.sleep(0.01)
    assert post(sara, f"/cases/{first}/claim").status_code == 303  # a colleague acts
    assert _changes(demo, url)["text"] == "1 case arrived or changed since this page was loaded."
    assert _changes(demo, url, "ar")["text"] == "١ حالة وردت أو تغيّرت منذ تحميل هذه الصفحة."
    third = any_site.make_case(priority=1)  # a report arrives
    assert _changes(demo, url) == {
        "changed": 2,
        "text": "2 cases arrived or changed since this page was loaded.",
    }
    assert _changes(demo, url, "ar")["text"] == "٢ حالتان وردتا أو تغيّرتا منذ تحميل هذه الصفحة."
    assert _rows(demo) == {first: True, second: True, third: True}  # changed since opened
    assert demo.get(f"/cases/{first}").status_code == 200
    assert _changes(demo, url)["changed"] == 1  # only the new report now
    # the view's own filters apply: priority 3 holds none of the changes
    assert _changes(demo, url.replace("since=", "priority=3&since="))["changed"] == 0
    # what sara did herself does not come back to her as news
    sara_url = _changes_url(sara)
    assert sara.get(f"/cases/{second}").status_code == 200
    assert _changes(sara, sara_url)["changed"] == 0


def test_polling_the_queue_does_not_keep_an_idle_session_alive(site: Site) -> None:
    now = [time.time()]
    app = WebApp(site.dashboard, idle_seconds=900, clock=lambda: now[0]).build()
    client = TestClient(app, follow_redirects=False)
    assert login(client, "demo", PASSPHRASE, site.secrets["demo"]).status_code == 303
    url = _changes_url(client)
    now[0] += 600
    assert client.get(url).status_code == 200  # ten minutes on: still logged in
    now[0] += 360  # sixteen minutes after the last thing the caseworker did
    ended = client.get(url)
    assert ended.status_code == 401 and ended.json() == {"error": "login"}
    assert client.get("/queue").headers["location"].startswith("/login")


def test_the_changes_endpoint_refuses_strangers_and_bad_times(demo: TestClient, site: Site) -> None:
    stranger = site.client()
    assert stranger.get("/queue/changes?since=2026-12-01T00:00:00%2B00:00").status_code == 401
    for since in ("", "yesterday", "2026-12-01T00:00:00"):  # no time zone: refused too
        assert demo.get("/queue/changes", params={"since": since}).status_code == 400
