"""oncall.yaml: the shipped example is valid, every error names the file and line, the rota
picks the right people at the right hours, and `sanad config check` reports it all."""

from __future__ import annotations

import re
import string
from datetime import UTC, datetime
from pathlib import Path

import pytest
from click.testing import CliRunner

import alerts
from alerts._message import catalog
from cli import _config
from cli.main import main

BROKEN = """\
timezone: Mars/Olympus
escalate_after_minutes: 0
routes:
  duty:
    kind: telegram
    token: "123:abc"
    chat_id: 5
  mail:
    kind: smtp
    host: x
    port: "25"
    from: a@b
    to: [c@d]
    user_env: X
  Bad Name:
    kind: pigeon
rota:
  - name: A
    role: on_call
    routes: [duty, nowhere]
    windows:
      - {days: [mon, fri], from: "25:00", to: "08:00"}
    shift: night
"""


def test_the_shipped_example_is_valid() -> None:
    assert [p for p in alerts.check_oncall(alerts.DEFAULT_ONCALL) if p.severity == "error"] == []
    config = alerts.load_oncall(alerts.DEFAULT_ONCALL)
    assert config.escalate_after_minutes == 30
    assert {r.kind for r in config.routes.values()} == {"telegram", "signal", "smtp", "webhook"}
    # Unset secrets are warnings that name the variable, never errors.
    warnings = alerts.check_oncall(alerts.DEFAULT_ONCALL, env={})
    assert warnings and all(p.severity == "warning" for p in warnings)
    assert any("SANAD_ALERT_TELEGRAM_TOKEN" in p.message for p in warnings)


def test_every_error_names_the_file_and_line(tmp_path: Path) -> None:
    path = tmp_path / "oncall.yaml"
    path.write_text(BROKEN, encoding="utf-8")
    problems = alerts.check_oncall(path)
    found = {(p.line, p.message.split(":")[0]) for p in problems}
    assert all(p.file == str(path) for p in problems)
    expected = {
        (1, "timezone"),
        (2, "escalate_after_minutes"),
        (4, "routes.duty"),
        (6, "routes.duty.token"),
        (8, "routes.mail"),
        (11, "routes.mail.port"),
        (15, "routes"),
        (16, "routes.Bad Name.kind"),
        (17, "rota"),
        (20, "rota.0.routes"),
        (22, "rota.0.windows.0.from"),
        (23, "rota.0"),
    }
    assert expected <= found, sorted(found)
    secret = next(p for p in problems if p.line == 6)
    assert "secrets never go in this file" in secret.message and "token_env" in secret.message
    assert "123:abc" not in str(problems)  # a pasted secret is not repeated back
    assert str(secret).startswith(f"{path}:6: error: ")
    with pytest.raises(alerts.OncallConfigError) as err:
        alerts.load_oncall(path)
    assert len(err.value.problems) == len(problems)


def test_broken_yaml_names_the_line(tmp_path: Path) -> None:
    path = tmp_path / "oncall.yaml"
    path.write_text("timezone: UTC\nroutes:\n  a: [unclosed\n", encoding="utf-8")
    [problem] = alerts.check_oncall(path)
    assert problem.line is not None and problem.line >= 3 and "not valid YAML" in problem.message


def _rota(tmp_path: Path, windows: str, tz: str = "Asia/Amman") -> alerts.OncallConfig:
    path = tmp_path / "oncall.yaml"
    path.write_text(
        f"""\
timezone: {tz}
routes:
  day: {{kind: webhook, url: "http://127.0.0.1:9/day"}}
  night: {{kind: webhook, url: "http://127.0.0.1:9/night"}}
  boss: {{kind: webhook, url: "http://127.0.0.1:9/boss"}}
rota:
  - name: Day
    role: on_call
    routes: [day]
    windows: [{{days: [sun, mon, tue, wed, thu], from: "08:00", to: "18:00"}}]
  - name: Night
    role: on_call
    routes: [night]
    windows: {windows}
  - name: Boss
    role: supervisor
    routes: [boss]
    windows: [{{days: [mon], from: "09:00", to: "10:00"}}]
""",
        encoding="utf-8",
    )
    return alerts.load_oncall(path)


@pytest.mark.parametrize(
    ("utc", "new", "escalation"),
    [
        ("2026-11-23T06:30", ["day"], ["boss"]),  # Monday 09:30 in Amman
        ("2026-11-23T16:00", ["night"], ["boss"]),  # Monday 19:00: the night shift began
        ("2026-11-24T03:00", ["night"], ["boss"]),  # Tuesday 06:00: still Monday's night
        ("2026-11-24T05:00", ["day"], ["boss"]),  # Tuesday 08:00
        ("2026-11-28T12:00", ["boss"], ["boss"]),  # Saturday: no one on call, supervisor
    ],
)
def test_the_rota_follows_the_hours_in_its_timezone(
    tmp_path: Path, utc: str, new: list[str], escalation: list[str]
) -> None:
    config = _rota(tmp_path, '[{days: [sun, mon, tue, wed, thu], from: "18:00", to: "08:00"}]')
    now = datetime.fromisoformat(utc).replace(tzinfo=UTC)
    assert [r.name for r in config.routes_for("new", now)] == new
    assert [r.name for r in config.routes_for("escalation", now)] == escalation


def test_a_whole_day_window(tmp_path: Path) -> None:
    config = _rota(tmp_path, '[{days: [fri], from: "00:00", to: "24:00"}]', tz="UTC")
    friday = datetime(2026, 11, 27, tzinfo=UTC)
    assert [r.name for r in config.routes_for("new", friday.replace(hour=0))] == ["night"]
    assert [r.name for r in config.routes_for("new", friday.replace(hour=23, minute=59))] == [
        "night"
    ]
    assert [r.name for r in config.routes_for("new", friday.replace(day=28))] == ["boss"]


def test_alert_texts_exist_in_both_languages_with_the_same_placeholders() -> None:
    texts = catalog()
    assert set(texts) == {"ar", "en"} and set(texts["ar"]) == set(texts["en"])
    for key in texts["en"]:
        fields = [
            {f for _, f, _, _ in string.Formatter().parse(texts[lang][key]) if f}
            for lang in ("ar", "en")
        ]
        assert fields[0] == fields[1] or key.startswith(("minutes.", "hours.", "days.")), key
        assert fields[1] <= {"case_ref", "priority", "age", "limit", "left", "n"}, key
    message = alerts.render("new", "K7M-4QX", 1, 3, 30)
    assert (
        message.text_en == "Sanad: priority 1 case K7M-4QX, waiting 3 min, unclaimed. "
        "Open the queue."
    )
    assert re.search(r"[\u0600-\u06FF]", message.text_ar) and "K7M-4QX" in message.text_ar


def test_config_check_command(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    runner = CliRunner()
    env = {"SANAD_HOME": str(tmp_path / "home")}
    ok = runner.invoke(main, ["config", "check"], env=env)
    assert ok.exit_code == 0, ok.output
    assert "oncall" in ok.output and "shipped example" in ok.output and "flows" in ok.output
    assert "guidance" in ok.output and "directory" in ok.output

    live = alerts.live_oncall_path(tmp_path / "home")
    live.parent.mkdir(parents=True)
    live.write_text(BROKEN, encoding="utf-8")
    bad = runner.invoke(main, ["config", "check"], env=env)
    assert bad.exit_code == 1
    assert f"{live}:6: error: routes.duty.token" in bad.output
    assert f"{live}:22: error: rota.0.windows.0.from" in bad.output

    # The support files are checked by the loader the intake runs at start.
    (live.parent / "directory.yaml").write_text(
        "services:\n  - id: x\n    kinds: [nothing]\n", encoding="utf-8"
    )
    both = runner.invoke(main, ["config", "check"], env=env)
    assert f"{live.parent / 'directory.yaml'}:2: error: services/0" in both.output

    # Another kind of file joins with one registration.
    monkeypatch.setattr(_config, "CONFIG_FILES", list(_config.CONFIG_FILES))
    directory = tmp_path / "directory.yaml"
    _config.register(
        _config.ConfigFile(
            "directory",
            lambda home: [directory],
            lambda path: [alerts.ConfigProblem(str(path), 3, "no services for region 'north'")],
        )
    )
    extended = runner.invoke(main, ["config", "check"], env=env)
    assert f"{directory}:3: error: no services for region 'north'" in extended.output


def test_plain_http_to_another_machine_is_a_warning(tmp_path: Path) -> None:
    path = tmp_path / "oncall.yaml"
    path.write_text(
        """\
timezone: UTC
routes:
  far: {kind: webhook, url: "http://cases.example.invalid/hook"}
  near: {kind: webhook, url: "http://127.0.0.1:8080/hook"}
rota:
  - {name: A, role: on_call, routes: [far, near]}
  - {name: B, role: supervisor, routes: [far], windows: [{from: "24:00", to: "08:00"}]}
""",
        encoding="utf-8",
    )
    problems = alerts.check_oncall(path)
    assert [(p.line, p.severity) for p in problems if "unencrypted" in p.message] == []
    assert any(p.line == 7 and "00:00 to 23:59" in p.message for p in problems)
    path.write_text(path.read_text().replace('"24:00"', '"22:00"'), encoding="utf-8")
    problems = alerts.check_oncall(path)
    assert [(p.line, p.severity) for p in problems] == [(3, "warning")]
    assert "routes.far: http:// sends alerts unencrypted" in problems[0].message
