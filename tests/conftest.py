"""Shared fixtures: no outside network, cheap key derivation, SQLite and PostgreSQL databases."""

from __future__ import annotations

import os
import queue
import shutil
import socket
import threading
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.pool import NullPool

from intake.settings import Settings
from storage import crypto
from storage.db import Database

pytest_plugins = ["tests.support"]

POSTGRES_URL = os.environ.get(
    "SANAD_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)
_LOOPBACK = ("127.", "::1", "localhost")


@pytest.fixture(autouse=True)
def _no_outside_network(monkeypatch: pytest.MonkeyPatch) -> None:
    """Tests talk to loopback servers only: anything else fails loudly."""
    real_connect = socket.socket.connect

    def guarded(self: socket.socket, address: object) -> object:
        host = address[0] if isinstance(address, tuple) else str(address)
        if self.family in (socket.AF_INET, socket.AF_INET6) and not str(host).startswith(_LOOPBACK):
            raise OSError(f"test tried to reach the network: {host}")
        return real_connect(self, address)  # type: ignore[arg-type]

    monkeypatch.setattr(socket.socket, "connect", guarded)


def _postgres_reason() -> str | None:
    try:
        engine = create_engine(POSTGRES_URL)
        with engine.connect() as conn:
            conn.execute(text("select 1"))
        engine.dispose()
    except Exception as exc:  # any failure means: skip, and say why
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        return f"PostgreSQL not reachable at {make_url(POSTGRES_URL).render_as_string()}: {first}"
    return None


_PG_REASON: list[str | None] = []


def postgres_skip_reason() -> str | None:
    if not _PG_REASON:
        _PG_REASON.append(_postgres_reason())
    return _PG_REASON[0]


class TestDatabases:
    """This test process's databases: migrated templates, and PostgreSQL databases dropped in
    the background.

    Migrating a new database costs 0.2-0.4 s on SQLite and about a second on PostgreSQL, per
    test; the factories that migrate one anyway (`make_service`, `make_site`) call `seed`
    first, which gives a not-yet-made SQLite file or an untouched PostgreSQL database from
    `postgres_url` a copy of the schema migrated once per process (a file copy; `CREATE
    DATABASE ... TEMPLATE`). Their own `migrate()` then finds the schema current, so what a
    test sees is what a fresh migration gives. `DROP DATABASE` takes about a second (a
    checkpoint) and waits for nothing a test needs: it runs in a thread, joined at the end.
    Making a database (about 0.2 s empty, 0.5 s from the template) runs ahead in another
    thread: one empty and one migrated database wait ready, and a test takes one by renaming
    it (instant), so the PostgreSQL server makes the next while the test runs.
    """

    def __init__(self, root: Path) -> None:
        self.root = root
        self._sqlite: Path | None = None
        self._pg_template: str | None = None
        self._fresh: set[str] = set()  # made by postgres_url, not yet connected to by seed
        self._spent: queue.Queue[str | None] = queue.Queue()
        self._dropper: threading.Thread | None = None
        self._admin: Engine | None = None
        # databases made ahead, by kind ("empty" or "migrated"): one of each waits ready
        self._ready: dict[str, queue.Queue[str]] = {
            "empty": queue.Queue(),
            "migrated": queue.Queue(),
        }
        self._wanted: queue.Queue[str | None] = queue.Queue()
        self._maker: threading.Thread | None = None

    def _make(self, kind: str) -> str:
        name = f"sanad_ready_{uuid.uuid4().hex[:12]}"
        template = f' TEMPLATE "{self._postgres_template()}"' if kind == "migrated" else ""
        with self.admin().connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"{template}'))
        return name

    def _make_ahead(self) -> None:
        while (kind := self._wanted.get()) is not None:
            self._ready[kind].put(self._make(kind))

    def _take(self, kind: str) -> str:
        """A ready database of this kind (made now if none is), and order the next one."""
        if self._maker is None:
            self._postgres_template()  # made here once, before the maker uses it
            self._maker = threading.Thread(
                target=self._make_ahead, daemon=True, name="make-test-databases"
            )
            self._maker.start()
        try:
            name = self._ready[kind].get_nowait()
        except queue.Empty:
            name = self._make(kind)
        self._wanted.put(kind)
        return name

    def admin(self) -> Engine:
        if self._admin is None:
            self._admin = create_engine(
                POSTGRES_URL, isolation_level="AUTOCOMMIT", poolclass=NullPool
            )
        return self._admin

    def create_postgres(self) -> str:
        name = f"sanad_test_{uuid.uuid4().hex[:12]}"
        with self.admin().connect() as conn:
            conn.execute(text(f'ALTER DATABASE "{self._take("empty")}" RENAME TO "{name}"'))
        self._fresh.add(name)
        return name

    def drop_postgres(self, name: str) -> None:
        self._fresh.discard(name)
        if self._dropper is None:
            self._dropper = threading.Thread(
                target=self._drop_spent, daemon=True, name="drop-test-databases"
            )
            self._dropper.start()
        self._spent.put(name)

    def _drop_spent(self) -> None:
        while (name := self._spent.get()) is not None:
            with self.admin().connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))

    def seed(self, url: str) -> None:
        """Give a database the migrated schema when it is new: a SQLite file not yet made, or
        a PostgreSQL database from `postgres_url` nothing has connected to through here."""
        parsed = make_url(url)
        if parsed.get_backend_name() == "sqlite":
            path = Path(parsed.database or "")
            if parsed.database and not path.exists() and path.parent.is_dir():
                shutil.copyfile(self._sqlite_template(), path)
            return
        name = parsed.database
        if name not in self._fresh:
            return
        self._fresh.discard(name)
        with self.admin().connect() as conn:
            # in use by the test itself (a connection open): leave it to migrate()
            users = conn.execute(
                text("SELECT count(*) FROM pg_stat_activity WHERE datname = :n"), {"n": name}
            ).scalar()
            if users or self._has_tables(url):
                return
            spent = f"{name}_spent"
            conn.execute(text(f'ALTER DATABASE "{name}" RENAME TO "{spent}"'))
            conn.execute(text(f'ALTER DATABASE "{self._take("migrated")}" RENAME TO "{name}"'))
        self.drop_postgres(spent)

    @staticmethod
    def _has_tables(url: str) -> bool:
        engine = create_engine(url, poolclass=NullPool)
        try:
            with engine.connect() as conn:
                return bool(
                    conn.execute(
                        text(
                            "SELECT count(*) FROM information_schema.tables "
                            "WHERE table_schema NOT IN ('pg_catalog', 'information_schema')"
                        )
                    ).scalar()
                )
        finally:
            engine.dispose()

    def _sqlite_template(self) -> Path:
        if self._sqlite is None:
            path = self.root / "template.db"
            db = Database(f"sqlite:///{path}")
            db.migrate()
            db.dispose()  # the last connection checkpoints the WAL into the file
            assert not path.with_name("template.db-wal").exists()
            self._sqlite = path
        return self._sqlite

    def _postgres_template(self) -> str:
        if self._pg_template is None:
            name = f"sanad_template_{uuid.uuid4().hex[:12]}"
            with self.admin().connect() as conn:
                conn.execute(text(f'CREATE DATABASE "{name}"'))
            db = Database(
                make_url(POSTGRES_URL).set(database=name).render_as_string(hide_password=False)
            )
            db.migrate()
            db.dispose()
            self._pg_template = name
        return self._pg_template

    def close(self) -> None:
        if self._maker is not None:
            self._wanted.put(None)
            self._maker.join(timeout=60)
            for ready in self._ready.values():
                while not ready.empty():
                    self.drop_postgres(ready.get_nowait())
        if self._pg_template is not None:
            self.drop_postgres(self._pg_template)
        if self._dropper is not None:
            self._spent.put(None)
            self._dropper.join(timeout=300)
        if self._admin is not None:
            self._admin.dispose()


@pytest.fixture(scope="session")
def test_databases(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestDatabases]:
    databases = TestDatabases(tmp_path_factory.mktemp("database-templates"))
    yield databases
    databases.close()


@pytest.fixture
def postgres_url(test_databases: TestDatabases) -> Iterator[str]:
    """A fresh, empty PostgreSQL database for one test, dropped afterwards."""
    reason = postgres_skip_reason()
    if reason:
        pytest.skip(reason)
    name = test_databases.create_postgres()
    try:
        yield make_url(POSTGRES_URL).set(database=name).render_as_string(hide_password=False)
    finally:
        test_databases.drop_postgres(name)


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """Storage and queue tests run against both SQLite and PostgreSQL."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'home' / 'sanad.db'}"
    return str(request.getfixturevalue("postgres_url"))


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    """SQLite settings in a temporary home, with cheap key derivation (tests only)."""
    home = tmp_path / "home"
    return Settings(
        home=home,
        database_url=f"sqlite:///{home / 'sanad.db'}",
        user_kdf=crypto.TEST_KDF,
        receipt_kdf=crypto.TEST_KDF,
        epoch_dir=tmp_path / "epochs",
        insecure_fast_kdf=True,
    )


@pytest.fixture
def cli_env(tmp_path: Path) -> dict[str, str]:
    """Environment for running the real `sanad` command in a subprocess."""
    return _cli_env(tmp_path)


def _cli_env(tmp_path: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SANAD_")}
    env.update(
        {
            "SANAD_HOME": str(tmp_path / "home"),
            "SANAD_PASSPHRASE": "correct horse battery staple",
            "SANAD_ADMIN_PASSPHRASE": "administrator signing passphrase",
            "SANAD_RECOVERY_PASSPHRASE": "organisation recovery passphrase",
            "SANAD_INSECURE_FAST_KDF": "1",
            "SANAD_EPOCH_DIR": str(tmp_path / "epochs"),
            "PYTHONIOENCODING": "utf-8",
        }
    )
    return env


@pytest.fixture(scope="session")
def demo_home_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A home made once per test process by the real `sanad init --demo` (about 3 s), in the
    environment `cli_env` gives; `demo_home` copies it for a test."""
    root = tmp_path_factory.mktemp("demo-home")
    env = _cli_env(root)
    from tests import preloaded_sanad

    preloaded_sanad.start()  # this worker's command server, ready before the first test
    proc = preloaded_sanad.run(["init", "--demo"], env, timeout=120)
    assert proc.returncode == 0, proc.stderr
    return Path(env["SANAD_HOME"])


@pytest.fixture
def demo_home(demo_home_template: Path) -> Callable[[dict[str, str]], None]:
    """What `sanad init --demo` leaves in `env`'s SANAD_HOME, by copying the session's home
    (no file in it names its own path; modes are kept): for tests that need a home, not the
    init command. `init --demo` itself is tested in tests/cli/test_commands.py."""

    def make(env: dict[str, str]) -> None:
        home = Path(env["SANAD_HOME"])
        assert not home.exists(), f"{home} exists already"
        shutil.copytree(demo_home_template, home, symlinks=True)

    return make


REDIS_URL = os.environ.get("SANAD_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
_REDIS_REASON: list[str | None] = []


def redis_skip_reason() -> str | None:
    if not _REDIS_REASON:
        import redis

        try:
            redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2).ping()
            _REDIS_REASON.append(None)
        except (redis.RedisError, OSError) as exc:
            _REDIS_REASON.append(
                f"no Redis answers at {REDIS_URL} ({type(exc).__name__}): "
                "the shared-keyring tests need one"
            )
    return _REDIS_REASON[0]


@pytest.fixture
def redis_keyring_url() -> Iterator[str]:
    """A Redis for the shared keyring (database 15); the keys a test made are removed."""
    reason = redis_skip_reason()
    if reason:
        pytest.skip(reason)
    import redis

    client = redis.Redis.from_url(REDIS_URL)
    before = set(client.keys("sanad:*"))
    yield REDIS_URL
    made = [k for k in client.keys("sanad:*") if k not in before]
    if made:
        client.delete(*made)
    client.close()


class S3Bucket:
    """A fresh bucket on the loopback S3 server: its `url` for SANAD_OBJECT_STORE_URL, the
    environment that reaches it, and a boto3 client to look inside."""

    def __init__(self, endpoint: str, name: str, prefix: str) -> None:
        import boto3

        self.name, self.prefix, self.endpoint = name, prefix, endpoint
        self.url = f"s3://{name}/{prefix}" if prefix else f"s3://{name}"
        self.env = {
            "AWS_ENDPOINT_URL": endpoint,
            "AWS_ACCESS_KEY_ID": "sanad-test",
            "AWS_SECRET_ACCESS_KEY": "sanad-test-secret",
            "AWS_DEFAULT_REGION": "us-east-1",
            # no operator's ~/.aws can leak into the tests
            "AWS_CONFIG_FILE": os.devnull,
            "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
        }
        self.client = boto3.client(
            "s3",
            endpoint_url=endpoint,
            region_name="us-east-1",
            aws_access_key_id="sanad-test",
            aws_secret_access_key="sanad-test-secret",
        )
        self.client.create_bucket(Bucket=name)

    def keys(self) -> list[str]:
        """Every object key in the bucket (prefix included), listed by the S3 protocol."""
        pages = self.client.get_paginator("list_objects_v2").paginate(Bucket=self.name)
        return sorted(o["Key"] for page in pages for o in page.get("Contents", []))

    def read(self, key: str) -> bytes:
        return bytes(self.client.get_object(Bucket=self.name, Key=key)["Body"].read())


def _loopback_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture(scope="session")
def s3_endpoint() -> Iterator[str]:
    """moto's S3 server (`ThreadedMotoServer`) on a free loopback port, for the session: a real
    S3 protocol server, reached over HTTP by boto3 as a deployment's bucket would be."""
    try:
        import logging

        from moto.server import ThreadedMotoServer

        logging.getLogger("werkzeug").setLevel(logging.ERROR)  # no request log in the output
        port = _loopback_port()
        server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
        server.start()
    except Exception as exc:  # any failure means: skip, and say why
        pytest.skip(
            f"moto's S3 server cannot start here ({type(exc).__name__}: {exc}); "
            "install the test extras (moto[server])"
        )
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.stop()


@pytest.fixture
def s3_bucket(s3_endpoint: str, monkeypatch: pytest.MonkeyPatch) -> S3Bucket:
    """A new bucket (with a prefix, as deployments share buckets) and this process's AWS_*
    variables pointing at it, as an operator sets them for `sanad`."""
    bucket = S3Bucket(s3_endpoint, f"sanad-{uuid.uuid4().hex[:12]}", "attachments")
    for name, value in bucket.env.items():
        monkeypatch.setenv(name, value)
    return bucket
