"""Running the dispatcher: `sanad alerts run`, or a call from a bot process's own loop.

    worker = AlertWorker(db, home, clock=time.time)
    worker.tick()            # from a bot's periodic job: runs a round when one is due
    worker.run_forever(stop) # `sanad alerts run`: a round every `interval` seconds

The configuration is read again when its file changes, so a new rota needs no restart; a file
that does not validate is refused (logged with its file and lines) and the last good one kept.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from alerts._config import OncallConfig, OncallConfigError, load_oncall, oncall_path
from alerts._dispatch import DispatchReport, dispatch
from alerts._senders import Sender, default_senders
from storage import Database, health

__all__ = ["AlertWorker", "ConfigSource"]

log = logging.getLogger("sanad.alerts")


@dataclass
class ConfigSource:
    """The on-call configuration of a home, reloaded when the file in use changes."""

    home: Path
    _config: OncallConfig | None = None
    _stamp: tuple[str, float] | None = None

    def current(self) -> OncallConfig:
        """The configuration to use; raises OncallConfigError only if none was ever valid."""
        path = oncall_path(self.home)
        try:
            stamp = (str(path), path.stat().st_mtime)
        except OSError:
            stamp = (str(path), -1.0)
        if self._config is not None and stamp == self._stamp:
            return self._config
        try:
            config = load_oncall(path)
        except OncallConfigError as exc:
            if self._config is None:
                raise
            log.error(
                "alerts: %s has %d problem(s); keeping the previous configuration "
                "(run `sanad config check`)",
                path,
                len(exc.problems),
            )
            self._stamp = stamp
            return self._config
        self._config, self._stamp = config, stamp
        log.info(
            "alerts: configuration loaded from %s (%d route(s), %d people)",
            path,
            len(config.routes),
            len(config.rota),
        )
        return config


@dataclass
class AlertWorker:
    db: Database
    home: Path
    clock: Callable[[], float]
    senders: Mapping[str, Sender] = field(default_factory=default_senders)
    interval: float = 20.0
    source: ConfigSource | None = None  # default: the home's oncall.yaml
    worker: str | None = None  # heartbeat id (default: host:pid); "" writes no heartbeat
    _last: float | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def run_once(self) -> DispatchReport:
        """One round now. Never raises."""
        with self._lock:
            if self.source is None:
                self.source = ConfigSource(self.home)
            self._last = self.clock()
            now = datetime.fromtimestamp(self._last, UTC)
            try:
                config = self.source.current()
            except OncallConfigError as exc:
                log.error(
                    "alerts: no usable on-call configuration (%d problem(s)); run "
                    "`sanad config check`",
                    len(exc.problems),
                )
                return DispatchReport(error="OncallConfigError")
            except Exception as exc:
                log.error("alerts: cannot read the on-call configuration (%s)", type(exc).__name__)
                return DispatchReport(error=type(exc).__name__)
            report = dispatch(self.db, config, now, self.senders)
            if report.error is None and self.worker != "":
                self._beat(now)
            return report

    def _beat(self, now: datetime) -> None:
        """The round ran: the watchdog (alerts/_watchdog.py) sees this worker alive."""
        try:
            with self.db.transaction() as session:
                health.beat(session, "alerts", now, self.worker)
        except Exception as exc:
            log.warning("alerts: heartbeat not written (%s)", type(exc).__name__)

    def tick(self) -> DispatchReport | None:
        """For a bot's periodic job: a round if `interval` has passed since the last one."""
        if self._last is not None and self.clock() - self._last < self.interval:
            return None
        return self.run_once()

    def run_forever(
        self, stop: threading.Event, on_round: Callable[[DispatchReport], None] | None = None
    ) -> None:
        while not stop.is_set():
            report = self.run_once()
            if on_round is not None:
                on_round(report)
            stop.wait(self.interval)
