"""The signed recipient manifest: who new reports are wrapped to.

The intake side pins an administrator's Ed25519 public key and only wraps to recipients
listed in a manifest that key signed, so write access to the database is not enough to
add an eavesdropper. Blob (ASCII, three lines)::

    sanad-manifest-v1
    <canonical JSON: sorted keys, no spaces, ASCII escapes>
    <base64 Ed25519 signature over b"sanad/v1/manifest|" + JSON>

Teams (need-to-know routing) are part of the signed JSON when there are any: ``"teams":
{NAME: [recipient labels, sorted]}``, every member a recipient of the same manifest. A
manifest without teams is byte for byte the format before teams existed, so old manifests
and the golden files still verify.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from ._errors import ManifestError
from ._keys import PUBLIC_KEY_SIZES, SUITE_X25519, key_id

__all__ = [
    "MAX_TEAM_NAME",
    "Manifest",
    "Recipient",
    "generate_signing_key",
    "sign_manifest",
    "verify_manifest",
]

_MAGIC = b"sanad-manifest-v1"
_FORMAT = "sanad/v1/manifest"
_SIGNED_PREFIX = b"sanad/v1/manifest|"
_TOP_KEYS = {"created", "format", "recipients", "version"}
_TEAMS_KEY = "teams"
MAX_TEAM_NAME = 64
_RECIPIENT_KEYS = {"key_id", "label", "public_key", "suite"}


@dataclass(frozen=True)
class Recipient:
    """A public key that new reports are wrapped to, with a human label."""

    label: str
    public_key: bytes
    suite: int = SUITE_X25519

    def __post_init__(self) -> None:
        if not isinstance(self.label, str) or not self.label:
            raise ValueError("label must be a non-empty str")
        if isinstance(self.suite, bool) or self.suite not in PUBLIC_KEY_SIZES:
            raise ValueError("unknown suite")
        if (
            not isinstance(self.public_key, bytes)
            or len(self.public_key) != PUBLIC_KEY_SIZES[self.suite]
        ):
            raise ValueError("public key has the wrong length for its suite")

    @property
    def key_id(self) -> bytes:
        return key_id(self.public_key)


@dataclass(frozen=True)
class Manifest:
    """A verified manifest. Callers should refuse a version lower than one already seen."""

    version: int
    recipients: tuple[Recipient, ...]
    created: int | None = None
    # team name -> labels of its members (each a recipient above); signed with the rest
    teams: Mapping[str, tuple[str, ...]] = field(default_factory=dict)

    def teams_of(self, label: str) -> tuple[str, ...]:
        return tuple(sorted(name for name, members in self.teams.items() if label in members))


def generate_signing_key() -> tuple[Ed25519PrivateKey, bytes]:
    """A new administrator signing key; the public half (32 raw bytes) is what intake pins."""
    private = Ed25519PrivateKey.generate()
    return private, private.public_key().public_bytes_raw()


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _canonical(payload: dict[str, Any]) -> bytes:
    return json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=True).encode()


def sign_manifest(
    admin_private: Ed25519PrivateKey,
    recipients: Sequence[Recipient],
    version: int,
    *,
    created: int | None = None,
    teams: Mapping[str, Sequence[str]] | None = None,
) -> bytes:
    """Serialise and sign a recipient list (sorted by key id, duplicates refused) and, when
    given and not empty, the teams (each member must be one of the recipients' labels)."""
    if not _is_int(version) or version < 1:
        raise ValueError("version must be a positive int")
    if created is not None and not _is_int(created):
        raise ValueError("created must be an int (Unix seconds) or None")
    ordered = sorted(recipients, key=lambda r: r.key_id)
    if not ordered:
        raise ValueError("a manifest needs at least one recipient")
    if len({r.key_id for r in ordered}) != len(ordered):
        raise ValueError("duplicate recipient key")
    content: dict[str, Any] = {}
    if teams:
        labels = {r.label for r in ordered}
        for name, members in teams.items():
            _check_team(name, members, labels)
        content[_TEAMS_KEY] = {name: sorted(set(members)) for name, members in teams.items()}
    payload = _canonical(
        {
            **content,
            "created": created,
            "format": _FORMAT,
            "version": version,
            "recipients": [
                {
                    "key_id": r.key_id.hex(),
                    "label": r.label,
                    "public_key": base64.b64encode(r.public_key).decode("ascii"),
                    "suite": r.suite,
                }
                for r in ordered
            ],
        }
    )
    signature = admin_private.sign(_SIGNED_PREFIX + payload)
    return b"\n".join([_MAGIC, payload, base64.b64encode(signature)]) + b"\n"


def verify_manifest(blob: bytes, pinned_admin_public: bytes) -> Manifest:
    """Check the signature with the pinned key, then parse; ManifestError on any doubt."""
    admin = Ed25519PublicKey.from_public_bytes(pinned_admin_public)
    lines = bytes(blob).split(b"\n")
    if len(lines) != 4 or lines[0] != _MAGIC or lines[3] != b"":
        raise ManifestError("manifest is malformed or unsigned")
    payload = lines[1]
    try:
        signature = base64.b64decode(lines[2], validate=True)
        if base64.b64encode(signature) != lines[2]:  # unused bits could hide a second form
            raise ManifestError("manifest signature is not canonical base64")
        admin.verify(signature, _SIGNED_PREFIX + payload)
    except (binascii.Error, InvalidSignature) as exc:
        raise ManifestError("manifest signature is invalid") from exc
    try:
        return _parse(payload)
    except (ValueError, TypeError, KeyError, binascii.Error) as exc:
        raise ManifestError("signed manifest has invalid content") from exc


def _check_team(name: Any, members: Any, labels: set[str]) -> None:
    if not isinstance(name, str) or not name or len(name) > MAX_TEAM_NAME:
        raise ValueError("a team name is a non-empty str of at most 64 characters")
    if isinstance(members, str | bytes) or not all(isinstance(m, str) for m in members):
        raise ValueError("team members are recipient labels")
    if set(members) - labels:
        raise ValueError("a team member is not a recipient of the manifest")


def _parse(payload: bytes) -> Manifest:
    data = json.loads(payload)
    if (
        not isinstance(data, dict)
        or set(data) - {_TEAMS_KEY} != _TOP_KEYS
        or data["format"] != _FORMAT
    ):
        raise ValueError("unexpected manifest fields")
    if _canonical(data) != payload:
        raise ValueError("manifest is not canonical")
    version, created, items = data["version"], data["created"], data["recipients"]
    if not _is_int(version) or version < 1 or not (created is None or _is_int(created)):
        raise ValueError("bad version or created")
    if not isinstance(items, list) or not items:
        raise ValueError("no recipients")
    recipients = []
    for item in items:
        if not isinstance(item, dict) or set(item) != _RECIPIENT_KEYS:
            raise ValueError("unexpected recipient fields")
        recipient = Recipient(
            label=item["label"],
            public_key=base64.b64decode(item["public_key"], validate=True),
            suite=item["suite"],
        )
        if recipient.key_id.hex() != item["key_id"]:
            raise ValueError("key id does not match public key")
        recipients.append(recipient)
    if len({r.key_id for r in recipients}) != len(recipients):
        raise ValueError("duplicate recipient")
    teams: dict[str, tuple[str, ...]] = {}
    if _TEAMS_KEY in data:
        raw = data[_TEAMS_KEY]
        if not isinstance(raw, dict) or not raw:  # an empty map is written as no key
            raise ValueError("bad teams")
        labels = {r.label for r in recipients}
        for name, members in raw.items():
            if not isinstance(members, list):
                raise ValueError("bad team")
            _check_team(name, members, labels)
            if members != sorted(set(members)):
                raise ValueError("team members are not canonical")
            teams[name] = tuple(members)
    return Manifest(version=version, recipients=tuple(recipients), created=created, teams=teams)
