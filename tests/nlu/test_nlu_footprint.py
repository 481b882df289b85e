"""The chat process stays small (issue 13 "Done when": under 150 MB with the model loaded).

Measured as bench.nlu does: a real `sanad chat --jsonl` on a throw-away `sanad init --demo`
home, after a few messages (greeting, danger words, a narrative), its resident memory."""

from __future__ import annotations

from pathlib import Path

from bench._chat_memory import chat_memory


def test_a_running_chat_with_the_model_loaded_stays_under_150_mb(model_cache: Path) -> None:
    memory = chat_memory(str(model_cache))
    assert 40 < memory["chat_rss_mb"] < 150, memory
    assert memory["chat_peak_mb"] < 150, memory
