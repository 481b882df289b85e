"""Attachments in an S3 bucket (`SANAD_OBJECT_STORE_URL`), on moto's loopback S3 server: a
reporter's file reaches the bucket sealed and nothing reaches the home's folder; a dashboard
on a second host (a copy of the home, the same database and bucket) opens it; withdrawal,
quick exit, closed-case retention and the orphan sweep delete the objects for real."""

from __future__ import annotations

import hashlib
import shutil
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import select
from starlette.testclient import TestClient

from caseworker.dashboard import Dashboard
from cli.main import main
from intake.home import Home, init_demo
from intake.retention import purge
from intake.service import IntakeService
from intake.settings import Settings
from storage.db import Database
from storage.models import Attachment, Case
from tests.conftest import S3Bucket
from tests.intake.test_conversations import COMPLAINT_EN, _script
from tests.intake.test_retention import DAY, _close, _report_with_file
from tests.support import ADMIN_PASSPHRASE, PASSPHRASE, RECOVERY_PASSPHRASE, Chat, Clock
from tests.web.conftest import DEMO_TOTP, login, post
from web import create_app

PHOTO = b"\xff\xd8\xff\xe0 a photograph of the bruises on my back, taken on 15 March " * 400


@pytest.fixture
def photo(tmp_path: Path) -> Path:
    path = tmp_path / "injury.jpg"
    path.write_bytes(PHOTO)
    return path


def _files(home: Path) -> list[Path]:
    return [p for p in (home / "attachments").rglob("*") if p.is_file()]


def _submit_with_photo(
    service: IntakeService, photo: Path, user: str = "reporter-1"
) -> tuple[str, str]:
    chat = Chat(service, user=user)
    replies = chat.run(_script(COMPLAINT_EN, photo))
    receipt = next(r for r in replies if r.kind == "receipt")
    return receipt.extra["case_ref"], receipt.extra["receipt"]


def _case_keys(service: IntakeService, bucket: S3Bucket, case_ref: str) -> list[str]:
    with service.db.transaction() as session:
        case_id = session.scalar(select(Case.id).where(Case.case_ref == case_ref))
    return [k for k in bucket.keys() if k.startswith(f"{bucket.prefix}/{case_id}/")]


def test_a_reporters_file_is_sealed_into_the_bucket_and_not_onto_the_disk(
    make_service: Callable[..., IntakeService], s3_bucket: S3Bucket, photo: Path
) -> None:
    service = make_service(object_store_url=s3_bucket.url)
    case_ref, _ = _submit_with_photo(service, photo)
    with service.db.transaction() as session:
        case = session.scalar(select(Case).where(Case.case_ref == case_ref))
        assert case is not None
        att = session.scalar(select(Attachment).where(Attachment.case_id == case.id))
        assert att is not None
        path = att.path
    assert s3_bucket.keys() == [f"{s3_bucket.prefix}/{path}"]  # under the URL's prefix
    assert path == f"{case.id}/{att.id}.sealed"  # the same key as the local folder's path
    assert _files(service.settings.home) == []
    sealed = s3_bucket.read(f"{s3_bucket.prefix}/{path}")
    assert len(sealed) > len(PHOTO)
    for probe in (PHOTO[:24], b"bruises on my back", hashlib.sha256(PHOTO).hexdigest().encode()):
        assert probe not in sealed


@pytest.mark.postgres
def test_a_dashboard_on_a_second_host_opens_the_file(
    make_service: Callable[..., IntakeService],
    settings: Settings,
    postgres_url: str,
    s3_bucket: S3Bucket,
    photo: Path,
    tmp_path: Path,
) -> None:
    first = replace(settings, database_url=postgres_url, object_store_url=s3_bucket.url)
    first.home.mkdir(parents=True)
    db = Database(postgres_url)
    init_demo(first, db, PASSPHRASE, DEMO_TOTP, ADMIN_PASSPHRASE, RECOVERY_PASSPHRASE)
    db.dispose()
    case_ref, _ = _submit_with_photo(
        make_service(postgres_url, object_store_url=s3_bucket.url), photo
    )
    # The second host: the home's keys and configuration, its own epoch folder; the files
    # are in neither home.
    copy = tmp_path / "home-b"
    shutil.copytree(first.home, copy, ignore=shutil.ignore_patterns("attachments", "*.db*"))
    second = replace(first, home=copy, epoch_dir=tmp_path / "epochs-b")
    assert _files(first.home) == _files(copy) == []
    home_b = Home(copy)  # the dashboard as `sanad web` (cli/_web.py) builds it on that host
    dashboard = Dashboard(
        Database(second.database_url),
        home_b.admin_public(),
        second.objects(),
        pepper=home_b.pepper(),
        manifest_pin=home_b.keys / "manifest-version",
    )
    client = TestClient(create_app(dashboard), follow_redirects=False)
    assert login(client, "demo", PASSPHRASE, DEMO_TOTP).status_code == 303
    page = client.get(f"/cases/{case_ref}").text
    att = page.split("/files/")[1].split("/reveal")[0]
    assert (
        post(client, f"/cases/{case_ref}/files/{att}/reveal", page=f"/cases/{case_ref}").status_code
        == 303
    )
    response = client.get(f"/cases/{case_ref}/files/{att}?download=1")
    assert response.status_code == 200 and response.content == PHOTO
    client.close()
    dashboard.db.dispose()


def test_withdrawal_deletes_the_objects(
    make_service: Callable[..., IntakeService], s3_bucket: S3Bucket, photo: Path, tmp_path: Path
) -> None:
    service = make_service(object_store_url=s3_bucket.url)
    kept, _ = _submit_with_photo(service, photo, user="someone-else")
    case_ref, code = _submit_with_photo(service, photo)
    back = Chat(service, user="reporter-1-again", open_now=False)
    back.say(code)
    more = tmp_path / "more.pdf"
    more.write_bytes(b"%PDF the summons they sent" * 40)
    back.say(f"/attach {more}")
    assert len(_case_keys(service, s3_bucket, case_ref)) == 2
    back.answer("addendum", "withdraw")
    back.answer("withdraw_confirm", "yes")
    assert back.outcome.finished
    assert _case_keys(service, s3_bucket, case_ref) == []
    assert len(_case_keys(service, s3_bucket, kept)) == 1  # another reporter's file stays


def test_quick_exit_deletes_the_drafts_objects(
    make_service: Callable[..., IntakeService], s3_bucket: S3Bucket, photo: Path
) -> None:
    service = make_service(object_store_url=s3_bucket.url)
    chat = Chat(service)
    chat.run(_script(COMPLAINT_EN[: COMPLAINT_EN.index(("evidence", "done"))], photo))
    assert len(s3_bucket.keys()) == 1
    chat.say("/exit")
    assert s3_bucket.keys() == []


def test_closed_case_retention_deletes_the_objects(
    make_service: Callable[..., IntakeService], s3_bucket: S3Bucket, clock: Clock, tmp_path: Path
) -> None:
    service = make_service(closed_case_retention_days=30, object_store_url=s3_bucket.url)
    old = _report_with_file(service, "amal", tmp_path)
    young = _report_with_file(service, "basel", tmp_path)
    _close(service, old, clock)
    clock.advance(26 * DAY)
    _close(service, young, clock)
    clock.advance(5 * DAY)
    assert len(_case_keys(service, s3_bucket, old)) == 1
    counts = purge(service)
    assert (counts.closed_cases, counts.attachments) == (1, 1)
    assert _case_keys(service, s3_bucket, old) == []
    assert len(_case_keys(service, s3_bucket, young)) == 1  # closed 5 days ago: kept
    assert _files(service.settings.home) == []


def test_the_purge_sweeps_orphans_and_strays_from_the_bucket(
    make_service: Callable[..., IntakeService], s3_bucket: S3Bucket, photo: Path
) -> None:
    service = make_service(object_store_url=s3_bucket.url)
    case_ref, _ = _submit_with_photo(service, photo)
    [listed] = _case_keys(service, s3_bucket, case_ref)
    case_group = listed.rsplit("/", 1)[0]
    # A draft still being written: its file stays.
    live = Chat(service, user="still-talking")
    live.run(_script(COMPLAINT_EN[: COMPLAINT_EN.index(("evidence", "done"))], photo))
    draft_keys = [k for k in s3_bucket.keys() if not k.startswith(case_group)]
    assert len(draft_keys) == 1
    # What a crash or a failed delete leaves: a group of no case or draft, and an object a
    # case no longer lists.
    orphan = f"{s3_bucket.prefix}/5b1f4a7e-0000-4000-8000-000000000000/lost.sealed"
    stray = f"{case_group}/deleted-but-still-there.sealed"
    for key in (orphan, stray):
        s3_bucket.client.put_object(Bucket=s3_bucket.name, Key=key, Body=b"ciphertext")
    counts = purge(service)
    assert counts.folders == 1
    assert s3_bucket.keys() == sorted([listed, *draft_keys])
    assert purge(service).folders == 0


def test_config_check_names_an_unreachable_bucket_in_one_line(
    s3_bucket: S3Bucket, tmp_path: Path
) -> None:
    runner = CliRunner()
    env = {"SANAD_HOME": str(tmp_path / "home"), "SANAD_OBJECT_STORE_URL": s3_bucket.url}
    ok = runner.invoke(main, ["config", "check"], env=env)
    assert ok.exit_code == 0, ok.output
    assert f"ok     objects    {s3_bucket.url}" in ok.output
    gone = runner.invoke(
        main, ["config", "check"], env={**env, "SANAD_OBJECT_STORE_URL": "s3://no-such-bucket/x"}
    )
    assert gone.exit_code == 1
    [line] = [ln for ln in gone.output.splitlines() if ln.startswith("FAILED")]
    assert line.startswith("FAILED objects ") and "no bucket no-such-bucket" in line
    bad = runner.invoke(
        main, ["config", "check"], env={**env, "SANAD_OBJECT_STORE_URL": "ftp://files"}
    )
    assert bad.exit_code != 0
    assert bad.output.strip().splitlines() == [
        "sanad: SANAD_OBJECT_STORE_URL must be s3://bucket[/prefix], not ftp://…"
    ]


def test_a_backup_carries_the_buckets_files_and_a_restore_puts_them_back(
    make_service: Callable[..., IntakeService], s3_bucket: S3Bucket, photo: Path, tmp_path: Path
) -> None:
    from intake.backup import make_backup, restore_backup
    from tests.storage.test_backup import _recovery

    service = make_service(object_store_url=s3_bucket.url)
    _submit_with_photo(service, photo)
    [key] = s3_bucket.keys()
    sealed = s3_bucket.read(key)
    private, public = _recovery(service)
    archive = tmp_path / "sanad.backup"
    make_backup(service.settings, service.db, public, archive)
    assert PHOTO[:24] not in archive.read_bytes()
    # Restored where the objects are gone: into another prefix of the bucket.
    target = replace(
        service.settings,
        home=tmp_path / "restored",
        database_url=f"sqlite:///{tmp_path / 'restored.db'}",
        object_store_url=f"s3://{s3_bucket.name}/restored",
    )
    db = Database(target.database_url)
    try:
        restore_backup(archive, private, target, db)
    finally:
        db.dispose()
    relative = key.removeprefix(f"{s3_bucket.prefix}/")
    assert s3_bucket.read(f"restored/{relative}") == sealed
    assert _files(target.home) == []
