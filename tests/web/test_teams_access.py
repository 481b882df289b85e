"""The dashboard with teams (issue 14): a case routed to the reprisals team opens for its
members only; a caseworker of another team asks for access, a supervisor of the team
approves (a grant) or refuses, and the requester sees the answer; an admin disables an
account and its open session ends at once."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pyotp
from starlette.testclient import TestClient

from caseworker import lifecycle
from caseworker.users import add_user, load_admin_key
from intake.routing import Routing, recipients_for_report
from storage import cases, casework, crypto, teams
from tests.support import ADMIN_PASSPHRASE, PASSPHRASE
from web import create_app

from .conftest import DEMO_TOTP, OTHER_PASSPHRASE, Site, login, post

ROUTING = (
    "default_team: complaints\nrules:\n  - when: {report_type: reprisal}\n    teams: [reprisals]\n"
)


def setup_teams(site: Site) -> None:
    key = load_admin_key((site.home.offline / "admin-signing.pem").read_bytes(), ADMIN_PASSPHRASE)
    pub = site.home.admin_public()
    for team in ("reprisals", "complaints"):
        lifecycle.add_team(site.db, team, key, pub)
    for name, role, team_names in (
        ("rita", "caseworker", ["reprisals"]),
        ("sup", "supervisor", ["reprisals"]),
        ("colin", "caseworker", ["complaints"]),
        ("adam", "admin", []),
    ):
        secret = pyotp.random_base32()
        add_user(
            site.db,
            name,
            role,
            OTHER_PASSPHRASE,
            site.settings.user_kdf,
            pub,
            secret,
            key,
            team_names=team_names,
        )
        site.secrets[name] = secret
    (site.home.root / "config" / "routing.yaml").write_text(ROUTING, encoding="utf-8")


def routed_case(site: Site, report_type: str) -> str:
    """A report stored as the intake stores it: sealed to the teams routing.yaml chooses."""
    routing = Routing.load(site.home.root)
    fields = {"consent_store": "yes", "report_type": report_type, "narrative": "An account."}
    case_id, key, now = str(uuid.uuid4()), crypto.new_data_key(), datetime.now(UTC)
    with site.db.transaction() as session:
        routed = recipients_for_report(
            session, site.home.admin_public(), None, routing, fields, 3, None
        )
        case = cases.store_report(
            session,
            cases.ReportToStore(
                case_id=case_id,
                data_key=key,
                fields=fields,
                files=[],
                consent={"consent_store": {"value": "yes", "at": now.isoformat()}},
                report_type=report_type,
                priority=3,
                reasons=("default",),
                channel="console",
                lang="en",
                flow_version="test",
            ),
            routed.recipients,
            crypto.new_receipt(crypto.TEST_KDF),
            now,
        )
        teams.record_case_teams(session, case.id, routed.teams, now)
        return case.case_ref


def client_for(site: Site, name: str) -> TestClient:
    client = site.client()
    assert login(client, name, OTHER_PASSPHRASE, site.secrets[name]).status_code == 303
    return client


def test_routed_case_access_requests_and_disable(site: Site) -> None:
    setup_teams(site)
    ref = routed_case(site, "reprisal")
    rita, colin, sup = (client_for(site, n) for n in ("rita", "colin", "sup"))
    page = rita.get(f"/cases/{ref}")
    assert page.status_code == 200 and 'data-case-teams="reprisals"' in page.text
    assert colin.get(f"/cases/{ref}").status_code == 404

    # colin sees the case in the queue without access and asks for it
    queue = colin.get("/queue").text
    assert f'href="/access?case={ref}"' in queue
    asked = post(
        colin,
        f"/cases/{ref}/request_access",
        {"reason": "The reporter phoned me about it."},
        page=f"/access?case={ref}",
    )
    assert asked.status_code == 303 and asked.headers["location"] == "/access"
    mine = colin.get("/access").text
    assert 'data-status="pending"' in mine and "Waiting for a supervisor" in mine
    post(colin, f"/cases/{ref}/request_access", {"reason": "again"}, page="/access")
    assert "You already asked for this case" in colin.get("/access").text

    # a caseworker of the team cannot decide; the team's supervisor can
    assert "data-request" not in rita.get("/access").text.split('data-list="mine"')[0]
    pending = sup.get("/access").text
    assert ref in pending and "The reporter phoned me about it." in pending
    rid = pending.split('data-request="')[1].split('"')[0]
    assert post(rita, f"/access/{rid}/approve", page="/access").status_code == 303
    assert colin.get(f"/cases/{ref}").status_code == 404  # rita's approval did nothing
    assert post(sup, f"/access/{rid}/approve", page="/access").status_code == 303
    assert 'data-status="approved"' in colin.get("/access").text
    assert colin.get(f"/cases/{ref}").status_code == 200  # the grant is real: it decrypts

    # a refusal is shown to the requester too, in Arabic as well
    demo = site.client()
    assert login(demo, "demo", PASSPHRASE, DEMO_TOTP).status_code == 303
    post(demo, f"/cases/{ref}/request_access", {"reason": "سبب"}, page="/access")
    rid2 = sup.get("/access").text.split('data-request="')[1].split('"')[0]
    post(sup, f"/access/{rid2}/refuse", page="/access")
    shown = demo.get("/access?lang=ar").text
    assert 'data-status="refused"' in shown and "مرفوض" in shown and 'dir="rtl"' in shown

    # an admin lists the accounts and disables rita: her open session ends at once
    adam = client_for(site, "adam")
    users = adam.get("/admin/users").text
    assert 'data-user="rita"' in users and "reprisals" in users
    assert colin.get("/admin/users").status_code == 403
    done = post(adam, "/admin/users/rita/disable", page="/admin/users")
    assert done.status_code == 303
    assert 'data-user="rita" data-disabled="yes"' in adam.get("/admin/users").text
    after = rita.get(f"/cases/{ref}")
    assert after.status_code == 303 and after.headers["location"] == "/login?ended=1"
    assert (
        login(
            site.client(), "rita", OTHER_PASSPHRASE, site.secrets["rita"], step_offset=1
        ).status_code
        == 401
    )
    # and the intake no longer seals to her, before the manifest is even re-signed
    later = routed_case(site, "reprisal")
    with site.db.transaction() as session:
        case = cases.by_ref(session, later)
        assert case is not None
        names = {u.name for u in casework.readers(session, case)}
    assert "rita" not in names and "sup" in names
    with site.db.transaction() as session:
        from storage.models import AuditEntry

        actions = {a.action for a in session.query(AuditEntry)}
    assert {
        "access.request",
        "access.approve",
        "access.refuse",
        "user.disable",
        "users.read",
    } <= actions


def test_share_a_case_with_another_team(site: Site) -> None:
    setup_teams(site)
    ref = routed_case(site, "reprisal")
    sup, colin = client_for(site, "sup"), client_for(site, "colin")
    assert colin.get(f"/cases/{ref}").status_code == 404
    assert (
        post(
            sup, f"/cases/{ref}/share_team", {"team": "complaints"}, page=f"/cases/{ref}"
        ).status_code
        == 303
    )
    page = colin.get(f"/cases/{ref}")
    assert page.status_code == 200 and "complaints" in page.text
    assert (
        post(
            sup, f"/cases/{ref}/move_team", {"team": "complaints"}, page=f"/cases/{ref}"
        ).status_code
        == 303
    )
    rita = client_for(site, "rita")
    assert rita.get(f"/cases/{ref}").status_code == 404  # moved away from her team
    with site.db.transaction() as session:
        from storage.models import AuditEntry

        actions = {a.action for a in session.query(AuditEntry)}
    assert {"case.share_team", "case.move_team"} <= actions


def test_own_passphrase_and_an_admins_totp_reset_on_the_dashboard(site: Site) -> None:
    """Issue 14 item 2 from the dashboard: anyone changes their own passphrase (only the new
    one works after); an admin resets a colleague's second factor, shown once, their open
    session ends and only the new codes work."""
    setup_teams(site)
    app = create_app(site.dashboard)  # one dashboard process serving both of them
    adam, colin = (TestClient(app, follow_redirects=False) for _ in range(2))
    assert login(colin, "colin", OTHER_PASSPHRASE, site.secrets["colin"]).status_code == 303
    assert login(adam, "adam", OTHER_PASSPHRASE, site.secrets["adam"]).status_code == 303
    form = colin.get("/account/passphrase?lang=ar")
    assert form.status_code == 200 and 'dir="rtl"' in form.text and "عبارة المرور" in form.text
    wrong = post(
        colin,
        "/account/passphrase",
        {"current": "not it", "new": "a new long one", "repeat": "a new long one"},
        page="/account/passphrase",
    )
    assert wrong.headers["location"] == "/account/passphrase"
    assert "غير صحيحة" in colin.get("/account/passphrase").text  # said in Arabic
    done = post(
        colin,
        "/account/passphrase",
        {"current": OTHER_PASSPHRASE, "new": "a new long one", "repeat": "a new long one"},
        page="/account/passphrase",
    )
    assert done.status_code == 303 and done.headers["location"] == "/"
    # (the wrong passphrase is refused before the code is looked at: the step stays unused)
    assert (
        login(
            site.client(), "colin", OTHER_PASSPHRASE, site.secrets["colin"], step_offset=1
        ).status_code
        == 401
    )
    assert (
        login(
            site.client(), "colin", "a new long one", site.secrets["colin"], step_offset=1
        ).status_code
        == 303
    )

    shown = post(adam, "/admin/users/colin/reset-totp", page="/admin/users")
    assert shown.status_code == 200 and "Shown once" in shown.text
    secret = shown.text.split("data-totp-secret>")[1].split("<")[0]
    assert secret != site.secrets["colin"]
    assert secret not in adam.get("/admin/users").text  # once
    after = colin.get("/queue")
    assert after.status_code == 303 and after.headers["location"] == "/login?ended=1"
    assert login(site.client(), "colin", "a new long one", site.secrets["colin"]).status_code == 401
    assert login(site.client(), "colin", "a new long one", secret).status_code == 303
    assert post(client_for(site, "rita"), "/admin/users/colin/reset-totp").status_code == 403
    with site.db.transaction() as session:
        from storage.models import AuditEntry

        actions = {a.action for a in session.query(AuditEntry)}
    assert {"user.passwd", "user.totp_reset"} <= actions
