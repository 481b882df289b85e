"""Where a worker's CPU goes: a summary of the collapsed stacks `bench.load --profile DIR`
records with py-spy (on-CPU samples of every thread).

    .venv/bin/python -m bench.profile DIR [--top 25]

Prints the share of samples by area (the library or Sanad package a sample's innermost
frame is in, and the Sanad entry points they were under) and the functions with the most
samples of their own (self) and under them (inclusive).
"""

from __future__ import annotations

import argparse
import re
from collections import Counter
from pathlib import Path

FRAME = re.compile(r"^(?P<func>.*?) \((?P<file>[^()]*?)(?::(?P<line>\d+))?\)$")
AREAS = (  # (area, substring of the file path), first match wins
    ("sanad: storage.crypto", "/storage/crypto"),
    ("sanad: nlu", "/nlu/"),
    ("sanad: flows", "/flows/"),
    ("sanad: intake", "/intake/"),
    ("sanad: storage", "/storage/"),
    ("sanad: bot", "/bot/"),
    ("sanad: jobs", "/jobs/"),
    ("sqlalchemy", "sqlalchemy"),
    ("psycopg", "psycopg"),
    ("telegram (PTB)", "/telegram/"),
    ("httpx/httpcore", "/http"),
    ("tornado", "tornado"),
    ("cryptography", "cryptography"),
    ("nacl", "nacl"),
    ("argon2", "argon2"),
    ("redis", "redis"),
    ("json", "/json/"),
    ("asyncio", "asyncio"),
    ("yaml", "yaml"),
    ("logging", "/logging/"),
    ("threading/concurrent", "thread"),
    ("concurrent", "concurrent"),
)


def parse(path: Path) -> Counter[tuple[str, ...]]:
    stacks: Counter[tuple[str, ...]] = Counter()
    for line in path.read_text(errors="replace").splitlines():
        head, _, count = line.rpartition(" ")
        if not head or not count.isdigit():
            continue
        frames = tuple(f for f in head.split(";")[1:] if f)  # first: the thread
        stacks[frames] += int(count)
    return stacks


def area(frame: str) -> str:
    match = FRAME.match(frame)
    file = match.group("file") if match else frame
    for name, needle in AREAS:
        if needle in file:
            return name
    return "other: " + Path(file).name


def short(frame: str) -> str:
    match = FRAME.match(frame)
    if not match:
        return frame
    file = match.group("file")
    for marker in ("site-packages/", "wt-hosts/", "/work/main/"):
        if marker in file:
            file = file.split(marker, 1)[1]
    return f"{match.group('func')} ({file})"


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("folder", type=Path)
    parser.add_argument("--top", type=int, default=25)
    args = parser.parse_args()
    stacks: Counter[tuple[str, ...]] = Counter()
    for file in sorted(args.folder.glob("worker-*.txt")):
        stacks.update(parse(file))
    total = sum(stacks.values())
    if not total:
        raise SystemExit(f"no samples in {args.folder}")
    areas: Counter[str] = Counter()
    own: Counter[str] = Counter()
    under: Counter[str] = Counter()
    for frames, count in stacks.items():
        if not frames:
            continue
        areas[area(frames[-1])] += count
        own[short(frames[-1])] += count
        for name in {short(f) for f in frames}:
            under[name] += count
    print(f"{total} samples (100 Hz, on CPU, all workers)\n\nby area (innermost frame)")
    for name, count in areas.most_common(args.top):
        print(f"  {100 * count / total:5.1f}%  {name}")
    print("\nself")
    for name, count in own.most_common(args.top):
        print(f"  {100 * count / total:5.1f}%  {name}")
    print("\ninclusive (Sanad's own functions)")
    ours = [
        (n, c)
        for n, c in under.most_common()
        if any(
            p in n
            for p in ("(storage/", "(intake/", "(bot/", "(flows/", "(nlu/", "(jobs/", "(cli/")
        )
    ]
    for name, count in ours[: args.top]:
        print(f"  {100 * count / total:5.1f}%  {name}")


if __name__ == "__main__":
    main()
