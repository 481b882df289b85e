"""Retention of closed cases and their files, on SQLite and PostgreSQL: past the retention the
content is really gone (rows, sealed files, and on SQLite the bytes of the database file and its
WAL), a tombstone stays in the register, and nothing younger or still open is touched."""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import create_engine, func, select, text
from sqlalchemy.engine import make_url

from caseworker.cases import AccessDenied
from intake.home import Home
from intake.retention import DailyPurge, PurgeCounts, purge, vacuum_postgres
from intake.service import IntakeService
from storage import casework
from storage.caseworker_models import CaseNote
from storage.models import Attachment, Case, CaseEvent, CaseField, WrappedKey
from tests.cli.conftest import sanad
from tests.intake.test_coming_back import _report
from tests.support import Chat, Clock, open_report

DAY = 24 * 3600


def _now(clock: Clock) -> datetime:
    return datetime.fromtimestamp(clock(), UTC)


def _report_with_file(service: IntakeService, user: str, tmp_path: Path) -> str:
    """A submitted report, then a file and a sentence added with the receipt."""
    case_ref, code = _report(service, user)
    back = Chat(service, user=user, open_now=False)
    back.say(code)
    doc = tmp_path / f"{user}.pdf"
    doc.write_bytes(b"%PDF evidence of " + user.encode() * 200)
    back.say(f"/attach {doc}")
    back.say("They came back last night.")
    return case_ref


def _close(service: IntakeService, case_ref: str, clock: Clock) -> None:
    with service.db.transaction() as session:
        case = session.scalar(select(Case).where(Case.case_ref == case_ref))
        assert case is not None
        now = _now(clock)
        casework.change_status(session, case, "under_assessment", "assessment_started", "demo", now)
        casework.change_status(session, case, "closed", "resolved", "demo", now)


def _content(service: IntakeService, case_ref: str) -> dict[str, object]:
    with service.db.transaction() as session:
        case = session.scalar(select(Case).where(Case.case_ref == case_ref))
        assert case is not None

        def count(model: type) -> int:
            return int(
                session.scalar(
                    select(func.count()).select_from(model).where(model.case_id == case.id)  # type: ignore[attr-defined]
                )
                or 0
            )

        sealed = [
            bytes(s)
            for s in session.scalars(select(CaseField.sealed).where(CaseField.case_id == case.id))
        ]
        return {
            "fields": count(CaseField),
            "keys": count(WrappedKey),
            "attachments": count(Attachment),
            "notes": count(CaseNote),
            "status": case.status,
            "events": [
                e.kind
                for e in session.scalars(select(CaseEvent).where(CaseEvent.case_id == case.id))
            ],
            "sealed": sealed,
            "files": [
                p
                for p in service.settings.attachments_dir.rglob("*.sealed")
                if p.parent.name == case.id
            ],
        }


def _sqlite_bytes(service: IntakeService) -> bytes:
    path = Path(make_url(service.db.url).database or "")
    return b"".join(
        p.read_bytes() for p in (path, path.with_name(path.name + "-wal")) if p.exists()
    )


def test_closed_case_content_goes_after_its_retention_and_a_tombstone_stays(
    make_service: Callable[..., IntakeService], database_url: str, clock: Clock, tmp_path: Path
) -> None:
    service = make_service(database_url, closed_case_retention_days=30)
    old = _report_with_file(service, "amal", tmp_path)
    young = _report_with_file(service, "basel", tmp_path)
    still_open = _report_with_file(service, "carim", tmp_path)
    _close(service, old, clock)
    with service.db.transaction() as session:
        case = session.scalar(select(Case).where(Case.case_ref == old))
        assert case is not None
        casework.add_note(
            session,
            case,
            "called the family",
            "demo",
            Home(service.settings.home).admin_public(),
            _now(clock),
        )
    clock.advance(26 * DAY)
    _close(service, young, clock)
    clock.advance(5 * DAY)  # old: closed 31 days ago; young: 5 days; still_open: never closed
    before = {ref: _content(service, ref) for ref in (old, young, still_open)}
    assert before[old]["fields"] and before[old]["files"] and before[old]["notes"] == 1
    if service.db.is_sqlite:  # the scan can see a sealed answer while it is there
        assert all(s[-24:] in _sqlite_bytes(service) for s in before[old]["sealed"])  # type: ignore[attr-defined]

    counts = purge(service)

    assert counts.closed_cases == 1 and counts.attachments == 1
    after = _content(service, old)
    assert (
        after["fields"],
        after["keys"],
        after["attachments"],
        after["notes"],
        after["files"],
    ) == (0, 0, 0, 0, [])
    assert after["status"] == "closed" and after["events"][-1] == "content_expired"  # type: ignore[index]
    with pytest.raises(AccessDenied):
        open_report(service, old)
    for ref in (young, still_open):  # untouched
        assert _content(service, ref) == before[ref]
        assert open_report(service, ref)["attachments"]
    if service.db.is_sqlite:
        disk = _sqlite_bytes(service)
        assert not any(s[-24:] in disk for s in before[old]["sealed"])  # type: ignore[attr-defined]
        assert all(s[-24:] in disk for s in before[young]["sealed"])  # type: ignore[attr-defined]
    assert purge(service) == PurgeCounts()  # once only


def test_files_of_closed_cases_go_first_when_their_retention_is_shorter(
    make_service: Callable[..., IntakeService], database_url: str, clock: Clock, tmp_path: Path
) -> None:
    service = make_service(
        database_url, closed_case_retention_days=365, attachment_retention_days=7
    )
    old = _report_with_file(service, "amal", tmp_path)
    young = _report_with_file(service, "basel", tmp_path)
    _close(service, old, clock)
    clock.advance(5 * DAY)
    _close(service, young, clock)
    clock.advance(3 * DAY)
    counts = purge(service)
    assert (counts.closed_cases, counts.attachments) == (0, 1)
    report = open_report(service, old)
    assert report["attachments"] == [] and report["fields"]  # answers stay
    assert _content(service, old)["events"][-1] == "attachments_expired"  # type: ignore[index]
    assert len(open_report(service, young)["attachments"]) == 1


def test_without_a_retention_closed_cases_are_kept(
    make_service: Callable[..., IntakeService], clock: Clock, tmp_path: Path
) -> None:
    service = make_service()
    ref = _report_with_file(service, "amal", tmp_path)
    _close(service, ref, clock)
    clock.advance(3650 * DAY)
    assert purge(service).closed_cases == 0
    assert open_report(service, ref)["attachments"]


def test_a_running_bot_purges_in_the_background(
    make_service: Callable[..., IntakeService],
    clock: Clock,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    service = make_service(closed_case_retention_days=1)
    ref = _report_with_file(service, "amal", tmp_path)
    _close(service, ref, clock)
    clock.advance(2 * DAY)
    caplog.set_level("INFO")
    logging.getLogger("sanad.intake").info("another module's record, not counted")
    job = DailyPurge(service, interval=3600).start()
    try:
        for _ in range(3000):  # up to 30 s on a loaded machine
            if job.runs:
                break
            job._stop.wait(0.01)
    finally:
        job.stop()
    assert job.runs == 1 and job.last is not None and job.last.closed_cases == 1
    assert _content(service, ref)["fields"] == 0
    assert [r.getMessage() for r in caplog.records if r.name == "sanad.retention"] == [
        "purge done drafts=1 folders=0 closed_cases=1 attachments=1"
    ]  # the addendum draft too


@pytest.mark.postgres
def test_vacuum_full_removes_deleted_rows_from_postgres_table_files(
    make_service: Callable[..., IntakeService], postgres_url: str, clock: Clock, tmp_path: Path
) -> None:
    """Deleted rows stay in PostgreSQL's table files after a purge, and after a plain VACUUM;
    VACUUM FULL (`sanad purge --vacuum`) removes them. Reads the server's files, so it needs
    the server on this machine and its data directory readable (else skipped)."""
    service = make_service(postgres_url, closed_case_retention_days=1)
    kept = _report_with_file(service, "basel", tmp_path)  # rows before and after the old
    ref = _report_with_file(service, "amal", tmp_path)
    sealed = _content(service, ref)["sealed"]
    Chat(service, user="basel", open_now=False).say("And one more thing they did.")
    _close(service, ref, clock)
    clock.advance(2 * DAY)
    engine = create_engine(postgres_url, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as conn:
            datadir = Path(conn.execute(text("SHOW data_directory")).scalar_one())
            relpath = conn.execute(text("SELECT pg_relation_filepath('case_fields')")).scalar_one()

            def on_disk() -> bytes:
                conn.execute(text("CHECKPOINT"))
                path = datadir / relpath
                return b"".join(p.read_bytes() for p in path.parent.glob(path.name + "*"))

            if not os.access(datadir / relpath, os.R_OK):
                pytest.skip("the PostgreSQL data files are not readable here")
            assert all(s[-24:] in on_disk() for s in sealed)  # type: ignore[attr-defined]
            assert purge(service).closed_cases == 1
            assert any(s[-24:] in on_disk() for s in sealed)  # type: ignore[attr-defined]
            conn.execute(text("VACUUM case_fields"))  # plain: marks the space free, no more
            assert any(s[-24:] in on_disk() for s in sealed)  # type: ignore[attr-defined]
            vacuum_postgres(service.db)
            relpath = conn.execute(text("SELECT pg_relation_filepath('case_fields')")).scalar_one()
            disk = on_disk()
            assert not any(s[-24:] in disk for s in sealed)  # type: ignore[attr-defined]
            assert all(s[-24:] in disk for s in _content(service, kept)["sealed"])  # type: ignore[attr-defined]
    finally:
        engine.dispose()


# ---- `sanad purge` ---------------------------------------------------------------------------


def test_purge_help_documents_every_retention_setting(cli_env: dict[str, str]) -> None:
    out = sanad(cli_env, "purge", "--help").stdout
    for name in (
        "SANAD_CLOSED_CASE_RETENTION_DAYS",
        "SANAD_ATTACHMENT_RETENTION_DAYS",
        "SANAD_DRAFT_EPOCH_SECONDS",
        "SANAD_PURGE_INTERVAL_SECONDS",
        "--vacuum",
    ):
        assert name in out


def test_a_bad_retention_setting_is_one_clear_error(cli_env: dict[str, str]) -> None:
    proc = sanad(dict(cli_env, SANAD_CLOSED_CASE_RETENTION_DAYS="a month"), "purge", check=False)
    assert proc.returncode != 0 and "Traceback" not in proc.stderr
    assert "SANAD_CLOSED_CASE_RETENTION_DAYS must be a whole number" in proc.stderr


@pytest.mark.parametrize(
    "backend", ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]
)
def test_purge_says_what_vacuum_is_needed_and_runs_it(
    cli_env: dict[str, str], backend: str, request: pytest.FixtureRequest
) -> None:
    env = dict(cli_env, SANAD_CLOSED_CASE_RETENTION_DAYS="30")
    if backend == "postgresql":
        env["SANAD_DATABASE_URL"] = request.getfixturevalue("postgres_url")
    sanad(env, "init", "--demo")
    plain = sanad(env, "purge").stdout
    vacuum = sanad(env, "purge", "--vacuum").stdout
    assert plain.startswith("Removed 0 expired draft(s) and 0 folder(s) of abandoned files.")
    assert "Removed the content of 0 closed case(s) past retention" in plain
    if backend == "sqlite":
        assert "VACUUM" not in plain and "WAL was truncated" in vacuum
    else:
        assert "until VACUUM FULL" in plain and "sanad purge --vacuum" in plain
        assert "VACUUM FULL done" in vacuum
