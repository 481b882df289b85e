"""Spoken questions: every question of every shipped flow, in Arabic and in English, becomes a
valid Opus voice note (OGG container, checked by ffprobe) of a plausible length for its words,
made offline by espeak-ng; catalogue texts are cached per exact text, the summary (which holds
the reporter's answers) never."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from bot import voice
from flows import Engine, Reply, State, load_flowset

needs_tools = pytest.mark.skipif(
    voice.check() is not None or shutil.which("ffprobe") is None,
    reason=f"{voice.check() or 'ffprobe missing'} (.ci/run installs them when run as root)",
)

FLOWS = load_flowset()


def _questions(lang: str) -> list[Reply]:
    engine = Engine(FLOWS)
    state = State(lang=lang)
    return [
        engine._ask(state, step)
        for step in FLOWS.steps.values()
        if step.kind != "info" and step.text
    ]


def _probe(path: Path) -> dict[str, object]:
    out = subprocess.run(
        [
            "ffprobe",
            "-v",
            "error",
            "-show_entries",
            "stream=codec_name,sample_rate,channels:format=format_name,duration",
            "-of",
            "json",
            str(path),
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    data = json.loads(out.stdout)
    return {**data["streams"][0], **data["format"]}


@needs_tools
@pytest.mark.parametrize("lang", ["ar", "en"])
def test_every_question_of_every_flow_is_a_valid_opus_note(lang: str, tmp_path: Path) -> None:
    speaker = voice.speaker_for(tmp_path, FLOWS.catalog)
    questions = _questions(lang)
    assert len(questions) > 20 and {q.lang for q in questions} == {lang}
    for reply in questions:
        assert speaker.cacheable(reply), f"{reply.field}: not a catalogue text"
        note = speaker.note(reply)
        path = tmp_path / "note.ogg"
        path.write_bytes(note.data)
        probed = _probe(path)
        assert probed["codec_name"] == "opus" and probed["format_name"] == "ogg", reply.field
        assert probed["channels"] == 1
        seconds = float(str(probed["duration"]))
        assert abs(seconds - note.seconds) < 0.2
        words = len(voice.spoken_text(reply).split())
        # espeak-ng at 150 words a minute: about 0.4 s a word, never silence, never minutes
        assert 0.15 * words < seconds < 1.2 * words + 4, (reply.field, words, seconds)
        assert seconds < 150


@needs_tools
def test_notes_are_cached_per_text_and_never_for_the_reporters_words(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    speaker = voice.speaker_for(tmp_path, FLOWS.catalog)
    question = _questions("en")[0]
    first = speaker.note(question)
    cached = list((tmp_path / "cache" / "voice").iterdir())
    assert len(cached) == 1 and oct(cached[0].stat().st_mode)[-3:] == "600"
    assert oct((tmp_path / "cache" / "voice").stat().st_mode)[-3:] == "700"

    def no_tools(*args: object, **kwargs: object) -> object:
        raise AssertionError("synthesised again instead of using the cache")

    monkeypatch.setattr(voice.subprocess, "run", no_tools)
    assert speaker.note(question).data == first.data
    monkeypatch.undo()
    # a new version of the text is a new note
    changed = Reply(
        question.text + " Take your time.", question.kind, "en", question.field, question.options
    )
    assert not speaker.cacheable(changed)
    summary = Reply(
        "Please check your report:\nnarrative: They beat me at Sednaya wing B",
        "bool",
        "en",
        "confirm_submit",
        (("yes", "Yes"), ("no", "No")),
    )
    assert speaker.note(summary).seconds > 1
    assert len(list((tmp_path / "cache" / "voice").iterdir())) == 1  # nothing more kept
    assert all(b"Sednaya" not in p.read_bytes() for p in tmp_path.rglob("*") if p.is_file())


def test_duration_reader_refuses_what_is_not_opus() -> None:
    with pytest.raises(ValueError):
        voice.ogg_opus_seconds(b"RIFF....WAVEfmt ")


def test_voice_is_refused_honestly_where_it_cannot_be_made(service: object) -> None:
    from intake.service import IntakeService
    from tests.support import Chat

    assert isinstance(service, IntakeService)
    service.voice_available = False
    chat = Chat(service, lang="en")
    replies = chat.say("/voice")
    assert replies[0].text == FLOWS.text("en", "sys.voice.unavailable")
    assert not chat.outcome.voice
    service.voice_available = True
    chat.say("/voice")
    assert chat.outcome.voice and chat.replies[0].text == FLOWS.text("en", "sys.voice.on")
