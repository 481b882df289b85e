"""The attachment stores (storage/objects.py): the local folder and an S3 bucket on moto's
loopback server behave alike; S3 errors are one line; bad URLs are refused by the settings."""

from __future__ import annotations

from pathlib import Path

import pytest

from intake.settings import Settings, SettingsError
from storage import crypto
from storage.objects import (
    LocalObjects,
    ObjectMissing,
    ObjectStore,
    ObjectStoreError,
    S3Objects,
    open_objects,
)
from tests.conftest import S3Bucket


@pytest.fixture(params=["local", "s3"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> ObjectStore:
    if request.param == "local":
        return open_objects(None, tmp_path / "attachments")
    bucket: S3Bucket = request.getfixturevalue("s3_bucket")
    return open_objects(bucket.url, tmp_path / "unused")


def test_put_open_list_and_delete(store: ObjectStore) -> None:
    for key, body in (
        ("case-a/1.sealed", b"one"),
        ("case-a/2.sealed", b"two" * 1000),
        ("case-b/3.sealed", b"three"),
    ):
        with store.writer(key) as out:
            out.write(body)
    assert store.list_prefixes() == ["case-a", "case-b"]
    assert list(store.walk()) == [
        ("case-a/1.sealed", 3),
        ("case-a/2.sealed", 3000),
        ("case-b/3.sealed", 5),
    ]
    with store.reader("case-a/2.sealed") as src:  # read in pieces
        assert src.read(1) == b"t" and src.read(4) == b"wot" + b"w" and len(src.read()) == 2995
    store.delete("case-a/1.sealed")
    store.delete("case-a/1.sealed")  # nothing there: no error
    with pytest.raises(ObjectMissing), store.reader("case-a/1.sealed"):
        pass
    assert store.delete_prefix("case-a") == 1
    assert [k for k, _ in store.walk()] == ["case-b/3.sealed"]
    store.check()


def test_a_failed_write_stores_nothing(store: ObjectStore) -> None:
    with pytest.raises(crypto.AttachmentTooLarge), store.writer("case/big.sealed") as out:
        crypto.seal_attachment(
            crypto.new_data_key(), "case", "big", [b"x" * 5000], out, max_size=1000
        )
    assert list(store.walk()) == []


def test_keys_cannot_leave_the_store(store: ObjectStore) -> None:
    for bad in ("../escape", "/abs/path", "a/../../b", ""):
        with pytest.raises(ValueError), store.writer(bad):
            pass


def test_local_store_is_the_folder_of_today(tmp_path: Path) -> None:
    store = LocalObjects(tmp_path / "attachments")
    with store.writer("case/att.sealed") as out:
        out.write(b"sealed")
    path = tmp_path / "attachments" / "case" / "att.sealed"
    assert path.read_bytes() == b"sealed" and oct(path.stat().st_mode & 0o777) == "0o600"
    assert not list((tmp_path / "attachments").rglob("*.partial"))


def test_a_large_object_goes_up_in_parts_and_comes_back_whole(s3_bucket: S3Bucket) -> None:
    store = S3Objects(s3_bucket.name, s3_bucket.prefix)
    key, data_key = "case/large.sealed", crypto.new_data_key()
    content = bytes(range(256)) * (11 * 4096)  # 11 MiB: two parts of 8 MiB at most
    with store.writer(key) as out:
        crypto.seal_attachment(data_key, "case", "large", [content], out)
    # A multipart upload's ETag ends with the number of parts.
    head = s3_bucket.client.head_object(Bucket=s3_bucket.name, Key=f"{s3_bucket.prefix}/{key}")
    assert head["ETag"].strip('"').endswith("-2")
    import io

    plain = io.BytesIO()
    with store.reader(key) as src:
        crypto.open_attachment(data_key, "case", "large", src, plain)
    assert plain.getvalue() == content


def test_deletion_in_a_versioned_bucket_removes_every_version(s3_bucket: S3Bucket) -> None:
    s3_bucket.client.put_bucket_versioning(
        Bucket=s3_bucket.name, VersioningConfiguration={"Status": "Enabled"}
    )
    store = S3Objects(s3_bucket.name, s3_bucket.prefix)
    for n in range(2):
        with store.writer("case/a.sealed") as out:
            out.write(b"version %d" % n)
        with store.writer("other/b.sealed") as out:
            out.write(b"kept")
    store.delete("case/a.sealed")
    with store.writer("gone/c.sealed") as out:
        out.write(b"c")
    assert store.delete_prefix("gone") == 1
    versions = s3_bucket.client.list_object_versions(Bucket=s3_bucket.name)
    left = {v["Key"] for v in [*versions.get("Versions", []), *versions.get("DeleteMarkers", [])]}
    assert left == {f"{s3_bucket.prefix}/other/b.sealed"}  # no old version, no delete marker


def test_an_unreachable_bucket_is_one_line(
    s3_bucket: S3Bucket, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    missing = S3Objects("no-such-bucket-here")
    with pytest.raises(ObjectStoreError) as info:
        missing.check()
    assert "no bucket no-such-bucket-here" in str(info.value) and "\n" not in str(info.value)
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:9")  # nothing listens there
    with pytest.raises(ObjectStoreError) as down:
        S3Objects(s3_bucket.name).check()
    assert "check failed" in str(down.value) and "\n" not in str(down.value)
    assert "sanad-test-secret" not in str(down.value)
    with pytest.raises(OSError):  # callers that handle a full disk handle this too
        with S3Objects(s3_bucket.name).writer("case/x.sealed") as out:
            out.write(b"x")


@pytest.mark.parametrize(
    "url, words",
    [
        ("http://bucket", "must be s3://bucket[/prefix]"),
        ("s3://Bad_Bucket", "is not an S3 bucket name"),
        ("s3://key:secret@bucket", "takes no credentials"),
        ("s3://bucket/a/../b", "plain path"),
    ],
)
def test_a_bad_url_is_refused_by_the_settings(tmp_path: Path, url: str, words: str) -> None:
    with pytest.raises(SettingsError, match=words.replace("[", r"\[").replace("]", r"\]")):
        Settings.from_env({"SANAD_HOME": str(tmp_path), "SANAD_OBJECT_STORE_URL": url})
    good = Settings.from_env(
        {"SANAD_HOME": str(tmp_path), "SANAD_OBJECT_STORE_URL": "s3://sanad-files/prod"}
    )
    assert repr(good.objects()) == "S3Objects(s3://sanad-files/prod)"
    assert isinstance(Settings.from_env({"SANAD_HOME": str(tmp_path)}).objects(), LocalObjects)


def test_processes_without_an_object_store_do_not_import_boto3(tmp_path: Path) -> None:
    import subprocess
    import sys

    code = (
        "import sys; from intake.settings import Settings; "
        f"s = Settings.from_env({{'SANAD_HOME': {str(tmp_path)!r}}}); s.objects(); "
        "from intake import service, retention; from caseworker import dashboard; "
        "print('boto3' in sys.modules, 'botocore' in sys.modules)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        cwd=Path(__file__).parents[2],
    )
    assert out.stdout.split() == ["False", "False"]
