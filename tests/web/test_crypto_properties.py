"""Crypto property 4 of crypto-design.md, second half: a revoked recipient opens no new
report (the first half, a key that is not a recipient opens nothing, is
tests/storage/test_crypto_keys.py::test_non_recipient_opens_nothing)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from caseworker.users import load_admin_key
from storage import accounts, cases, casework, crypto
from storage.caseworker_models import CaseNote
from storage.models import WrappedKey
from tests.support import ADMIN_PASSPHRASE, PASSPHRASE
from tests.web.conftest import OTHER_PASSPHRASE, Site


def _open(site: Site, ref: str, name: str, passphrase: str) -> cases.OpenedCase:
    with site.db.transaction() as session:
        user = accounts.get_user(session, name)
        case = cases.by_ref(session, ref)
        assert user is not None and case is not None
        return cases.open_case(session, case, accounts.unlock(user, passphrase), user.key_id)


def test_a_revoked_recipient_opens_no_new_report(site: Site) -> None:
    """Crypto property 4 (crypto-design.md): once a recipient is taken out of the signed
    manifest, reports stored after that are not sealed to them; once their access to a case
    is revoked, its later notes are not either."""
    site.add_user("carol", "caseworker")
    before = site.make_case(fields={"narrative": "before the revocation"})
    assert _open(site, before, "carol", OTHER_PASSPHRASE).fields["narrative"]
    admin = load_admin_key((site.home.offline / "admin-signing.pem").read_bytes(), ADMIN_PASSPHRASE)
    now = datetime.now(UTC)
    with site.db.transaction() as session:
        kept = [
            r
            for r in accounts.current_recipients(session, site.home.admin_public())
            if r.label != "user:carol"
        ]
        accounts.publish_manifest(session, admin, kept, now)
    after = site.make_case(fields={"narrative": "after the revocation"})
    with pytest.raises(crypto.CryptoError):
        _open(site, after, "carol", OTHER_PASSPHRASE)
    assert _open(site, after, "demo", PASSPHRASE).fields["narrative"] == "after the revocation"

    with site.db.transaction() as session:  # revoked from the older case, then a new note
        case = cases.by_ref(session, before)
        carol = accounts.get_user(session, "carol")
        assert case is not None and carol is not None
        casework.revoke(session, case, carol, "demo", now)
        casework.add_note(
            session, case, "written after the revocation", "demo", site.home.admin_public(), now
        )
    with pytest.raises(crypto.CryptoError):
        _open(site, before, "carol", OTHER_PASSPHRASE)
    with site.db.transaction() as session:  # the note's key is wrapped to demo, not carol
        case = cases.by_ref(session, before)
        carol = accounts.get_user(session, "carol")
        demo = accounts.get_user(session, "demo")
        assert case is not None and carol is not None and demo is not None
        note = session.scalar(select(CaseNote).where(CaseNote.case_id == case.id))
        assert note is not None
        holders = set(
            session.scalars(
                select(WrappedKey.key_id).where(
                    WrappedKey.case_id == case.id, WrappedKey.seq == note.seq
                )
            )
        )
        assert bytes(demo.key_id) in holders and bytes(carol.key_id) not in holders
