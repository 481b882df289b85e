"""The Rasa backend: its HTTP client against a protocol fake, and against a real Rasa server.

The real-server test (marker `rasa`) creates the Rasa 3.6 environment from Python 3.10
(cached in ~/.cache/sanad), trains on nlu/data/train.yml, serves on 127.0.0.1 and evaluates
the held-out split through it. It runs when SANAD_TEST_RASA=1 (CI sets it): minutes cold.
"""

from __future__ import annotations

import os

import pytest

from nlu import (
    TEST_PATH,
    RasaClient,
    RasaUnavailable,
    build_interpreter,
    evaluate_intents,
    evaluate_language,
    evaluate_urgency,
    load_labelled,
    load_nlu,
    rasa_interpreter,
)
from nlu._data import gold_intent
from tests.fakes.rasa import FakeRasa, fake_rasa_server


def test_model_answer_is_mapped_to_an_interpretation() -> None:
    fake = FakeRasa({"what happened with my paper": [("check_status", 0.88), ("greet", 0.1)]})
    with fake_rasa_server(fake):
        result = rasa_interpreter(fake.url).interpret("what happened with my paper")
    assert (result.intent, result.lang, result.urgent) == ("check_status", "en", False)
    assert result.confidence == pytest.approx(0.88)


def test_out_of_scope_and_fallback_become_nlu_fallback() -> None:
    fake = FakeRasa(
        {"the wall": [("out_of_scope", 0.9)], "a wall": [("nlu_fallback", 0.4), ("greet", 0.3)]}
    )
    with fake_rasa_server(fake):
        interpreter = rasa_interpreter(fake.url)
        assert interpreter.interpret("the wall").intent == "nlu_fallback"
        assert interpreter.interpret("a wall").intent == "nlu_fallback"


def test_text_is_normalised_before_it_is_sent() -> None:
    with fake_rasa_server() as fake:
        RasaClient(fake.url).rank("أريــــد الإبلاغ ١٢")
    assert fake.seen == ["اريد الابلاغ 12"]


def test_urgency_dates_and_context_stay_ours() -> None:
    fake = FakeRasa({"they told me to stop talking": [("quick_exit", 0.99)]})
    with fake_rasa_server(fake):
        interpreter = rasa_interpreter(fake.url)
        narrative = interpreter.interpret("they told me to stop talking", expecting="text")
        danger = interpreter.interpret("they are at my door right now")
        date = interpreter.interpret("٣/٥/٢٠٢٤", expecting="date")
    assert narrative.intent == "nlu_fallback"
    assert "they told me to stop talking" not in fake.seen  # narratives stay here
    assert danger.urgent and danger.intent == "urgent_danger"
    assert date.entity("date") is not None


def test_rules_answer_when_the_server_fails(caplog: pytest.LogCaptureFixture) -> None:
    fake = FakeRasa(status=500)
    with fake_rasa_server(fake):
        interpreter = rasa_interpreter(fake.url)
        assert interpreter.interpret("la2").intent == "deny"  # the rules, no server needed
        assert interpreter.interpret("secret words of the reporter").intent == "nlu_fallback"
    assert "HTTP 500" in caplog.text
    assert "secret words" not in caplog.text  # never what the reporter wrote


def test_an_unreachable_server_is_reported_not_raised() -> None:
    with fake_rasa_server() as fake:
        url = fake.url
    client = RasaClient(url, timeout=1)
    with pytest.raises(RasaUnavailable):
        client.parse("hello")
    assert client.ready() is False
    assert rasa_interpreter(url, timeout=1).interpret("yes").intent == "affirm"


def test_sanad_rasa_url_selects_the_rasa_backend(monkeypatch: pytest.MonkeyPatch) -> None:
    fake = FakeRasa({"the sky": [("greet", 0.9)]})
    with fake_rasa_server(fake):
        monkeypatch.setenv("SANAD_RASA_URL", fake.url)
        monkeypatch.delenv("SANAD_NLU_BACKEND", raising=False)
        assert build_interpreter().interpret("the sky").intent == "greet"


def test_a_bad_url_is_refused() -> None:
    with pytest.raises(ValueError, match="SANAD_RASA_URL"):
        RasaClient("ftp://example.org")


# ---- the real Rasa server ----------------------------------------------------------------


@pytest.mark.rasa
def test_real_rasa_server_on_the_held_out_split() -> None:
    if os.environ.get("SANAD_TEST_RASA") != "1":
        pytest.skip(
            "set SANAD_TEST_RASA=1 to install, train and run a real Rasa 3.6 server "
            "(minutes; .ci/run does)"
        )
    from nlu import rasa_tool

    if rasa_tool.find_python310() is None:
        pytest.skip("no Python 3.10 here (python3.10 on PATH or pyenv): Rasa 3.6 needs it")
    try:
        rasa_tool.ensure_venv()
    except rasa_tool.RasaSetupError as exc:  # e.g. offline: the registry cannot be reached
        pytest.skip(f"Rasa 3.6 could not be installed here: {exc}")
    model = rasa_tool.train_model()
    examples = load_nlu(TEST_PATH).examples
    with rasa_tool.serve(model) as server:
        client = RasaClient(server.url)
        assert client.ready()
        raw = [client.rank(text)[0][0] for text, _ in examples]
        interpreter = rasa_interpreter(server.url)
        report = evaluate_intents(interpreter, examples)
        language = evaluate_language(interpreter, load_labelled())
        urgency = evaluate_urgency(interpreter, load_labelled())
    raw_accuracy = sum(p == gold_intent(g) for p, (_, g) in zip(raw, examples, strict=True))
    assert raw_accuracy / len(examples) >= 0.6  # DIET alone, on 50 examples per intent
    assert report["accuracy"] >= 0.9, report["confusions"]
    assert report["macro_f1"] >= 0.9, report["confusions"]
    assert language["accuracy"] >= 0.98
    assert urgency["recall"] >= 0.95
