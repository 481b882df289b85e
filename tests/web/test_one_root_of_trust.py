"""One root of trust: the signed manifest is the only source of recipient keys (December
2026 review, findings 2, 3 and 18). Each test performs the review's attack as a database
writer and shows it gains nothing."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import delete, select

from caseworker.users import Cancelled, add_user, load_admin_key
from storage import accounts, cases, casework, crypto
from storage.models import RecipientManifest, User, WrappedKey
from tests.cli.conftest import sanad
from tests.support import ADMIN_PASSPHRASE, PASSPHRASE
from tests.web.conftest import OTHER_PASSPHRASE, Site


def _rogue(site: Site, name: str) -> tuple[object, bytes]:
    """A users row written straight into the database, with the attacker's key."""
    private, public = crypto.generate_keypair()
    with site.db.transaction() as session:
        session.add(
            User(
                id=str(uuid.uuid4()),
                name=name,
                role="caseworker",
                public_key=public,
                key_id=crypto.key_id(public),
                private_key_blob=b"x" * 113,
                created_at=datetime.now(UTC),
            )
        )
    return private, public


def _labels(site: Site) -> list[str]:
    with site.db.transaction() as session:
        return sorted(
            r.label
            for r in accounts.current_recipients(
                session, site.home.admin_public(), site.home.manifest_pin()
            )
        )


def test_users_add_signs_the_previous_manifest_plus_one_key(site: Site) -> None:
    """Finding 2: a rogue reader row was signed into the manifest at the admin's next
    `users add`. Now the new manifest is the previous verified one plus the new key, and the
    admin is shown each recipient before signing."""
    _rogue(site, "zz-backup-svc")
    shown: list[list[str]] = []
    admin = load_admin_key((site.home.offline / "admin-signing.pem").read_bytes(), ADMIN_PASSPHRASE)
    add_user(
        site.db,
        "newhire",
        "caseworker",
        OTHER_PASSPHRASE,
        site.settings.user_kdf,
        site.home.admin_public(),
        None,
        admin,
        confirm=lambda rs: shown.append([r.label for r in rs]) or True,
        pin=site.home.manifest_pin(),
    )
    assert _labels(site) == ["organisation-recovery", "user:demo", "user:newhire"]
    assert sorted(shown[0]) == _labels(site)
    # Declined: nothing at all changes (no account, no manifest).
    with pytest.raises(Cancelled):
        add_user(
            site.db,
            "second",
            "caseworker",
            OTHER_PASSPHRASE,
            site.settings.user_kdf,
            site.home.admin_public(),
            None,
            admin,
            confirm=lambda rs: False,
        )
    with site.db.transaction() as session:
        assert accounts.get_user(session, "second") is None


def test_grant_refuses_a_key_swapped_in_the_users_table(site: Site) -> None:
    """Finding 3: grants wrapped to whatever public key the users row held. Now a key that
    is not the one in the signed manifest gets nothing, and the grant is refused."""
    site.add_user("cw2", "caseworker")
    ref = site.make_case({"narrative": "RTMKEN16-narrative"})
    _, attacker_pub = crypto.generate_keypair()
    with site.db.transaction() as session:
        user = accounts.get_user(session, "cw2")
        assert user is not None
        user.public_key = attacker_pub  # key_id left as it was: the review's variant
    who = site.dashboard.login("demo", PASSPHRASE, _totp(site, "demo"))
    with pytest.raises(Exception, match=r"does not match its key id|not in the signed"):
        site.dashboard.grant(who, ref, "cw2")
    with site.db.transaction() as session:  # and with key_id rewritten too
        user = accounts.get_user(session, "cw2")
        assert user is not None
        user.key_id = crypto.key_id(attacker_pub)
    with pytest.raises(Exception, match="not in the signed"):
        site.dashboard.grant(who, ref, "cw2")
    with site.db.transaction() as session:
        kids = set(session.scalars(select(WrappedKey.key_id)))
    assert crypto.key_id(attacker_pub) not in kids


def test_notes_are_not_wrapped_to_a_row_written_into_the_database(site: Site) -> None:
    """Finding 3 (notes): a users row plus one junk wrapped-key row made the attacker a
    recipient of every new note. Now notes go only to keys in the signed manifest."""
    ref = site.make_case({"narrative": "x"})
    _, mallory_pub = _rogue(site, "mallory")
    with site.db.transaction() as session:
        case = cases.by_ref(session, ref)
        assert case is not None
        session.add(
            WrappedKey(case_id=case.id, seq=99, key_id=crypto.key_id(mallory_pub), wrapped=b"junk")
        )
    with site.db.transaction() as session:
        case = cases.by_ref(session, ref)
        assert case is not None
        note = casework.add_note(
            session, case, "NOTEMARK", "demo", site.home.admin_public(), datetime.now(UTC)
        )
        wrapped = set(
            session.scalars(
                select(WrappedKey.key_id).where(
                    WrappedKey.case_id == case.id, WrappedKey.seq == note.seq
                )
            )
        )
    assert crypto.key_id(mallory_pub) not in wrapped and len(wrapped) == 2  # demo, recovery


def test_deleting_newer_manifests_is_refused_as_a_rollback(site: Site) -> None:
    """Finding 18: deleting newer manifest rows silently fell back to an older one. The
    highest version seen is pinned in the home's keys folder; an older one is refused."""
    site.add_user("cw3", "caseworker")
    assert "user:cw3" in _labels(site)
    assert site.home.manifest_pin().floor() == 2
    with site.db.transaction() as session:
        session.execute(delete(RecipientManifest).where(RecipientManifest.version > 1))
    with pytest.raises(crypto.ManifestError, match="rollback refused") as caught:
        _labels(site)
    assert "\n" not in str(caught.value)


def _totp(site: Site, name: str) -> str:
    import pyotp

    return pyotp.TOTP(site.secrets[name]).now()


def test_users_add_cli_lists_fingerprints_and_needs_yes_without_a_terminal(
    cli_env: dict[str, str],
) -> None:
    """Finding 2 (command line): `users add` shows each recipient with its fingerprint; with
    no terminal and no --yes it changes nothing and exits 2 (contracts.md)."""
    sanad(cli_env, "init", "--demo")
    env = cli_env
    refused = sanad(env, "users", "add", "nina", "--role", "caseworker", check=False, stdin="")
    assert refused.returncode == 2 and "--yes" in refused.stderr
    assert "Traceback" not in refused.stderr
    done = sanad(env, "users", "add", "nina", "--role", "caseworker", "--yes", stdin="")
    lines = [
        ln.split()
        for ln in done.stdout.splitlines()
        if ln.startswith("  user:") or ln.startswith("  organisation-recovery")
    ]
    assert sorted(ln[0] for ln in lines) == ["organisation-recovery", "user:demo", "user:nina"]
    assert all(len(ln) == 9 and all(len(g) == 4 for g in ln[1:]) for ln in lines)
    assert (Path(cli_env["SANAD_HOME"]) / "keys" / "manifest-version").read_text() == "2\n"
    again = sanad(env, "users", "add", "nina", "--role", "caseworker", "--yes", check=False)
    assert again.returncode != 0  # already exists: no second manifest either
