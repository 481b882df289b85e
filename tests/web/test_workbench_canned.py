"""Issue 16 item 3: canned replies in both languages, kept by supervisors, used from the one
conversation box of a case (without a script: the choice fills the box on the server)."""

from __future__ import annotations

import re

from tests.support import PASSPHRASE
from tests.web.conftest import DEMO_TOTP, OTHER_PASSPHRASE, Site, login, post


def test_supervisors_keep_canned_replies_and_caseworkers_use_them(site: Site) -> None:
    site.add_user("sara", "supervisor")
    ref = site.make_case()
    boss = site.client()
    assert login(boss, "sara", OTHER_PASSPHRASE, site.secrets["sara"]).status_code == 303
    post(
        boss,
        "/canned/add",
        {"lang": "ar", "title": "طمأنة", "body": "وصلنا بلاغك، وسنتواصل معك قريبًا."},
        page="/canned",
    )
    post(
        boss,
        "/canned/add",
        {
            "lang": "en",
            "title": "Received",
            "body": "We have your report and will write again soon.",
        },
        page="/canned",
    )
    post(boss, "/canned/add", {"lang": "", "title": "x", "body": "y"}, page="/canned")
    listing = boss.get("/canned?lang=en").text
    assert "choose the reply&#39;s language" in listing or "choose the reply's language" in listing
    assert listing.count('class="canned"') == 2

    worker = site.client()
    assert login(worker, "demo", PASSPHRASE, DEMO_TOTP).status_code == 303
    # a caseworker uses them but does not change them
    assert (
        post(
            worker, "/canned/add", {"lang": "en", "title": "t", "body": "b"}, page="/canned"
        ).status_code
        == 403
    )
    assert 'action="/canned/add"' not in worker.get("/canned").text
    page = worker.get(f"/cases/{ref}?lang=en").text
    ids = re.findall(r'<option value="(\d+)" lang="(ar|en)"', page)
    assert {lang for _, lang in ids} == {"ar", "en"}
    arabic_id = next(i for i, lang in ids if lang == "ar")
    filled = worker.get(f"/cases/{ref}?canned={arabic_id}").text
    box = re.search(r'<textarea name="message" id="reply-text"[^>]*>(.*?)</textarea>', filled, re.S)
    assert box and box.group(1) == "وصلنا بلاغك، وسنتواصل معك قريبًا."
    assert 'lang="ar">' in box.group(0)
    # the one conversation box sends it, like any message to the reporter
    post(
        worker,
        f"/cases/{ref}/action",
        {"kind": "write_back", "message": box.group(1)},
        page=f"/cases/{ref}",
    )
    thread = worker.get(f"/cases/{ref}").text
    assert thread.count('data-from="caseworker"') == 1 and "وصلنا بلاغك" in thread
    # supervisors remove one; the Arabic one stays
    english_id = next(i for i, lang in ids if lang == "en")
    post(boss, "/canned/remove", {"id": english_id}, page="/canned")
    assert boss.get("/canned").text.count('class="canned"') == 1
