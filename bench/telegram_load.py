"""Load benchmark of the Telegram channel (not run in tests).

    .venv/bin/python -m bench.telegram_load [--reporters 200] [--production-kdf]

Starts the loopback Bot API fake and the real bot (`sanad run telegram`, a separate process so
its memory is its own) on a fresh home, then lets N simulated reporters talk to it at once,
each through a whole English complaint (buttons pressed, text typed, one photo), as fast as the
bot answers. Pacing is off (SANAD_TELEGRAM_CHAT_RATE=0, GLOBAL_RATE=0): the figures are the
bot's own, excluding Telegram's ~1 message/s per chat.

Prints: time until the bot is ready, messages/s (reporters' messages handled per second),
p50/p99 from an update being available to the first reply to it, reports stored, and the
bot's peak RSS (VmHWM).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from tests.fakes.telegram_server import TOKEN, FakeTelegram

SCRIPT = [
    "/start",
    "en",
    "yes",
    "yes",
    "no",
    "yes",
    "unknown",
    "no",
    "complaint",
    "It happened to me",
    "no",  # not under 18 (issue 18 item 5)
    "no",
    "yes",
    "15 March 2024",
    "police_station",
    # a place of detention: the detention questions (issue 18), skipped
    "/skip",
    "/skip",
    "/skip",
    "/skip",
    "/skip",
    "/skip",
    "Central station, Al-Hamra district",
    "Lebanon",
    "police, intelligence",
    "/skip",
    "1,5",
    "They kept me three days and beat me with cables.",
    "/skip",
    "Bruises on my back",
    "/skip",
    "no",
    "<photo>",
    "done",
    "none",
    "medical, legal",
    "man",
    "adult",
    "deprived_of_liberty",
    "any",
    "Karim Haddad-Nassar",
    "no",  # nobody else harmed or detained with them (issue 18 item 7)
    "Evenings only.",
    "yes",
]
BUTTONS = {
    "en",
    "yes",
    "no",
    "unknown",
    "complaint",
    "police_station",
    "done",
    "none",
    "man",
    "adult",
    "any",
}
PHOTO = b"\xff\xd8\xff\xe0" + os.urandom(40_000)


class TimedFake(FakeTelegram):
    """The fake, noting when each update was pushed and when getUpdates first handed it out,
    so the reply time splits into "waiting at Telegram" and "in the bot"."""

    def __init__(self) -> None:
        super().__init__()
        self.pushed: dict[int, float] = {}
        self.fetched: dict[int, float] = {}

    def push_update(self, body: dict[str, object]) -> int:
        at = time.monotonic()
        uid = super().push_update(body)
        self.pushed.setdefault(uid, at)
        return uid

    def _m_getUpdates(self, p: dict[str, object]) -> object:
        result = super()._m_getUpdates(p)
        if isinstance(result, list):
            now = time.monotonic()
            for update in result:
                self.fetched.setdefault(int(update["update_id"]), now)
        return result


class Chats:
    """Per-chat 'the bot sent something' signals, fed by the fake's call hook."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.last: dict[int, float] = {}
        self.count: dict[int, int] = {}
        self.events: dict[int, threading.Event] = {}

    def hook(self, method: str, params: dict[str, object]) -> None:
        if method != "sendMessage":
            return
        chat = int(str(params["chat_id"]))
        now = time.monotonic()
        with self.lock:
            self.last[chat] = now
            self.count[chat] = self.count.get(chat, 0) + 1
            event = self.events.setdefault(chat, threading.Event())
        event.set()


def reporter(
    fake: TimedFake,
    chats: Chats,
    chat: int,
    latencies: list[float],
    quiet: float,
    think: float,
    waits: list[float],
) -> None:
    event = chats.events.setdefault(chat, threading.Event())
    rng = random.Random(chat)  # nosec B311 - simulated typing pauses, not secrets
    for line in SCRIPT:
        if think:
            time.sleep(think * rng.uniform(0.5, 1.5))
        with chats.lock:
            seen = chats.count.get(chat, 0)
        event.clear()
        if line == "<photo>":
            uid = fake.send_photo(chat, PHOTO)
        elif line in BUTTONS:
            stub = {
                "message_id": 1,
                "date": int(time.time()),
                "chat": {"id": chat, "type": "private"},
                "from": {"id": 1, "is_bot": True, "first_name": "B"},
                "text": "q",
            }
            uid = fake.push_update(
                {
                    "callback_query": {
                        "id": str(chat),
                        "from": {"id": chat, "is_bot": False, "first_name": "R"},
                        "chat_instance": "ci",
                        "data": line,
                        "message": stub,
                    }
                }
            )
        else:
            uid = fake.send_text(chat, line)
        sent_at = fake.pushed.get(uid, time.monotonic())
        while True:
            if not event.wait(60):
                raise RuntimeError("the bot stopped answering")
            event.clear()
            with chats.lock:
                if chats.count.get(chat, 0) > seen:
                    latencies.append(
                        chats.last[chat] - sent_at
                        if chats.count[chat] == seen + 1
                        else latencies_first(chats, chat, sent_at)
                    )
                    break
        if uid in fake.fetched:
            waits.append(fake.fetched[uid] - fake.pushed[uid])
        # Let the rest of this answer's messages arrive before answering (no think time).
        while True:
            with chats.lock:
                idle = time.monotonic() - chats.last[chat]
            if idle >= quiet:
                break
            time.sleep(quiet - idle)


def latencies_first(chats: Chats, chat: int, sent_at: float) -> float:
    return chats.last[chat] - sent_at  # several arrived at once: the newest bounds the first


def peak_rss_mb(pid: int) -> float:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return float("nan")


def cpu_seconds(pid: int) -> tuple[float, float]:
    """User and system CPU time of a process: unlike wall-clock figures, barely moved by other
    work on the machine."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        tick = os.sysconf("SC_CLK_TCK")
        return int(fields[11]) / tick, int(fields[12]) / tick
    except (OSError, IndexError, ValueError):
        return float("nan"), float("nan")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reporters", type=int, default=200)
    parser.add_argument(
        "--production-kdf",
        action="store_true",
        help="Receipts with the production Argon2id cost (64 MiB each).",
    )
    parser.add_argument("--quiet-ms", type=float, default=40.0)
    parser.add_argument(
        "--think-ms",
        type=float,
        default=0.0,
        help="Pause before each answer (0: answer as soon as the bot is done, "
        "which saturates the bot: latency is then mostly queueing).",
    )
    parser.add_argument(
        "--database-url",
        default=None,
        help="e.g. postgresql+psycopg://postgres@127.0.0.1:5432/DB "
        "(an empty database); default SQLite in the home.",
    )
    args = parser.parse_args()

    root = Path(tempfile.mkdtemp(prefix="sanad-tgbench-"))
    fake = TimedFake().start()
    chats = Chats()
    fake.on_call = chats.hook
    env = {k: v for k, v in os.environ.items() if not k.startswith("SANAD_")}
    env.update(
        SANAD_HOME=str(root / "home"),
        SANAD_EPOCH_DIR=str(root / "epochs"),
        SANAD_PASSPHRASE="bench passphrase 1",  # nosec B106 - throwaway home
        SANAD_TELEGRAM_TOKEN=TOKEN,
        SANAD_TELEGRAM_BASE_URL=fake.base_url,
        SANAD_TELEGRAM_CHAT_RATE="0",
        SANAD_TELEGRAM_GLOBAL_RATE="0",
        SANAD_TELEGRAM_POLL_TIMEOUT="5",
    )
    if args.database_url:
        env["SANAD_DATABASE_URL"] = args.database_url
    if not args.production_kdf:
        env["SANAD_INSECURE_FAST_KDF"] = "1"
    cmd = [sys.executable, "-m", "cli.main"]
    subprocess.run([*cmd, "init", "--demo"], env=env, check=True, capture_output=True)
    t0 = time.monotonic()
    bot = subprocess.Popen(
        [*cmd, "run", "telegram"],
        env=env,
        stderr=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        text=True,
    )
    assert bot.stderr is not None
    for line in bot.stderr:
        if "running" in line:
            break
    ready = time.monotonic() - t0
    threading.Thread(target=lambda: [None for _ in bot.stderr or []], daemon=True).start()

    latencies: list[float] = []
    waits: list[float] = []
    threads = [
        threading.Thread(
            target=reporter,
            args=(
                fake,
                chats,
                800_000_000 + n,
                latencies,
                args.quiet_ms / 1000,
                args.think_ms / 1000,
                waits,
            ),
        )
        for n in range(args.reporters)
    ]
    start = time.monotonic()
    cpu_before = cpu_seconds(bot.pid)
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.monotonic() - start
    rss = peak_rss_mb(bot.pid)
    user, system = (
        after - before for after, before in zip(cpu_seconds(bot.pid), cpu_before, strict=True)
    )
    bot.terminate()
    bot.wait(timeout=30)
    queue = json.loads(
        subprocess.run(
            [*cmd, "queue", "--json"], env=env, check=True, capture_output=True, text=True
        ).stdout
    )
    fake.stop()

    messages = args.reporters * len(SCRIPT)

    def pct(values: list[float], q: float) -> float:
        ordered = sorted(values)
        return ordered[min(len(ordered) - 1, int(len(ordered) * q))] * 1000 if ordered else 0.0

    p50, p99 = statistics.median(latencies) * 1000, pct(latencies, 0.99)
    print(
        f"reporters            {args.reporters} (each {len(SCRIPT)} messages, one photo), "
        f"think time {args.think_ms:.0f} ms ±50%"
    )
    print(f"database             {'PostgreSQL' if args.database_url else 'SQLite'}")
    print(f"receipt KDF          {'production (64 MiB)' if args.production_kdf else 'test'}")
    print(f"bot ready in         {ready:.2f} s")
    print(f"messages handled     {messages} in {wall:.1f} s = {messages / wall:.0f} messages/s")
    print(f"update -> reply      p50 {p50:.1f} ms   p99 {p99:.1f} ms")
    print(
        f"  of which at Telegram (until getUpdates took it)  p50 {pct(waits, 0.5):.1f} ms   "
        f"p99 {pct(waits, 0.99):.1f} ms"
    )
    print(
        f"bench load           {os.getloadavg()[0]:.1f} (1-min load average at the end: "
        "above ~2 on 2 cores, other work inflated the figures)"
    )
    print(
        f"bot CPU per message  {(user + system) / messages * 1000:.2f} ms "
        f"(user {user / messages * 1000:.2f}, system {system / messages * 1000:.2f})"
    )
    print(f"reports stored       {len(queue)}")
    print(f"bot peak RSS         {rss:.0f} MB")
    if len(queue) != args.reporters:
        # The scripted conversation no longer reaches the summary (a flow gained a question
        # the script does not answer), or reports were lost: either way the figures are void.
        print(
            f"FAILED: {args.reporters} reporters but {len(queue)} reports stored", file=sys.stderr
        )
        sys.exit(1)


if __name__ == "__main__":
    main()
