"""What the diagnostics screen's buttons do, each off the GUI thread, each audited.

Every action ends by calling ``done(Outcome)`` on the GUI thread: a level ("ok", "warn",
"fault"), one line of feedback, and for lists the lines of the panel. Personal data is masked
in all of it, as in ``kiosk diag``.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from PySide6.QtCore import QObject, QTimer

from drivers.base import CardEvent, CardEventKind, Paper
from kiosk.logs import recent_log_lines
from kiosk.technician import export as bundle
from kiosk.technician.device_checks import describe_identity, print_self_test
from kiosk.technician.queue_notices import clear_queue_notices, notice_line
from kiosk.technician.rejections import personal_values, rejected_transactions
from kiosk.visit.session import short_reference
from uplink.status_board import QUEUE_MOVED_NOTICE

log = logging.getLogger(__name__)

READ_TIMEOUT_S = 30
SYNC_TIMEOUT_S = 30
LOG_LINES = 200
REJECTED_LIMIT = 100


@dataclass(frozen=True)
class Outcome:
    level: str  # "ok", "warn" or "fault"
    text: str
    lines: tuple[str, ...] = ()
    paths: tuple[Path, ...] = ()  # export: the folders to pick from


Done = Callable[[Outcome], None]


class DiagActions(QObject):
    """The technician's actions on the running kiosk: ``tech`` (the window's TechMode) audits
    them, ``jobs`` runs them off the GUI thread, ``queue`` (the lazy offline queue) and
    ``uplink`` (the sync worker's runner) are what they act on."""

    def __init__(self, tech, ctl, jobs, queue, uplink, config,
                 parent: QObject | None = None, *, speaker=None):
        super().__init__(parent)
        self.speaker = speaker  # kiosk.shell.speaker.Speaker: the window's voice
        self.tech = tech
        self.ctl = ctl
        self.jobs = jobs
        self.config = config
        self._queue = queue
        self._uplink = uplink
        self.read_timeout_s = READ_TIMEOUT_S
        self.sync_timeout_s = SYNC_TIMEOUT_S
        # Where USB sticks are mounted; tests point these at a folder of their own.
        self.usb_globs = bundle.USB_GLOBS
        self.mounted_only = True
        self._read_timer = QTimer(self)
        self._read_timer.setSingleShot(True)
        self._read_timer.timeout.connect(self._read_timed_out)
        self._read_done: Done | None = None
        self._sync_done: Done | None = None
        self._sync_timer = QTimer(self)
        self._sync_timer.setSingleShot(True)
        self._sync_timer.timeout.connect(self._sync_timed_out)
        uplink.statusChanged.connect(self._sync_status)

    def tr(self, key: str, **params) -> str:
        return self.ctl.tr(key, **params)

    def cancel(self) -> None:
        """Leaving diagnostics: stop waiting for a card or a sync result."""
        self._read_timer.stop()
        self._sync_timer.stop()
        if self.ctl.card_listener == self._card_event:
            self.ctl.card_listener = None
        self._read_done = self._sync_done = None

    # -- test print --------------------------------------------------------------------------
    def test_print(self, done: Done) -> None:
        """A test page through the app's own printer, on the printer's executor."""
        printer, config = self.ctl.printer, self.config

        def job():
            return print_self_test(config, printer)

        def finished(result) -> None:
            error, status = result
            self.ctl.on_device_status("printer", status)
            paper = str(status.paper or Paper.UNKNOWN)
            self.tech.record("test-print", "failed" if error else "ok", state=str(status.state),
                             paper=paper, error=error or None)
            if error:  # the printer's own words are in the audit and the log
                done(Outcome("fault", self.tr("diag.print_failed", state=status.state,
                                              paper=paper)))
            else:
                level = "ok" if paper == Paper.FULL else "warn"
                done(Outcome(level, self.tr("diag.print_ok", state=status.state, paper=paper)))

        self.jobs.submit(self.jobs.device_executor, job, finished,
                         lambda exc: self._failed("test-print", exc, done))

    # -- test speaker ------------------------------------------------------------------------
    def test_speaker(self, done: Done) -> None:
        """The home prompt through the kiosk's own voice, at the configured volume."""
        engine = self.config.voice.engine

        def finished(error: str) -> None:
            self.tech.record("test-voice", "failed" if error else "ok", engine=engine,
                             error=error or None)
            if error:
                done(Outcome("fault", self.tr("diag.speaker_failed", error=error)))
            else:
                done(Outcome("ok", self.tr("diag.speaker_ok", engine=engine)))

        if self.speaker is None:
            finished("no voice")
            return
        self.speaker.test(finished)

    # -- test card read ----------------------------------------------------------------------
    def test_read(self, done: Done) -> None:
        """The next card event from the app's reader thread, masked; not given to a session."""
        self._read_done = done
        self.ctl.card_listener = self._card_event
        self._read_timer.start(int(self.read_timeout_s * 1000))

    def _card_event(self, event: CardEvent) -> None:
        done = self._read_done
        if done is None or event.kind == CardEventKind.REMOVED:
            return
        self._stop_reading()
        if event.kind == CardEventKind.READ and event.identity is not None:
            info = describe_identity(self.config.devices.card_reader, event.identity)
            what = "  ".join(str(info[k]) for k in ("name", "id_number", "card_uid", "method",
                                                    "valid_to") if info.get(k))
            if info.get("id_number_valid") is False:
                what += "  (GB 11643 ✗)"
            self.tech.record("test-read", "ok", method=info["method"])
            done(Outcome("ok", self.tr("diag.read_ok", what=what)))
        else:
            self.tech.record("test-read", "unreadable", reason=event.reason)
            done(Outcome("fault", self.tr("diag.read_unreadable", reason=event.reason)))

    def _read_timed_out(self) -> None:
        done = self._read_done
        self._stop_reading()
        if done is None:
            return
        status = self.ctl.device_status.get("card_reader")
        state, detail = (status.state, status.detail) if status else ("unknown", "")
        self.tech.record("test-read", "timeout", state=str(state))
        done(Outcome("fault", self.tr("diag.read_timeout", s=f"{self.read_timeout_s:g}",
                                      state=state, detail=detail)))

    def _stop_reading(self) -> None:
        self._read_timer.stop()
        self._read_done = None
        if self.ctl.card_listener == self._card_event:
            self.ctl.card_listener = None

    # -- sync now ----------------------------------------------------------------------------
    def sync_now(self, done: Done) -> None:
        """Make held-back transactions due, wake the upload worker, report its next status."""
        if not self.config.central.url:
            self.tech.record("sync-now", "offline-only")
            done(Outcome("warn", self.tr("diag.sync_offline_only")))
            return
        worker = self._uplink.sync_worker
        if worker is None:
            self.tech.record("sync-now", "failed", error="upload worker not running")
            done(Outcome("fault", self.tr("diag.sync_not_started")))
            return

        def woken(_held: int) -> None:
            worker.sync_now()  # also through a back-off or an auth hold: it was fixed
            if self.tech.active:  # left meanwhile: wait for nothing
                self._sync_done = done
                self._sync_timer.start(int(self.sync_timeout_s * 1000))

        self.jobs.submit(self.jobs.queue_executor, lambda: self._queue.get().retry_now(),
                         woken, lambda exc: self._failed("sync-now", exc, done))

    def _sync_status(self, status) -> None:
        done = self._sync_done
        if done is None:
            return
        self._sync_done = None
        self._sync_timer.stop()
        error = status.last_error or status.heartbeat_error
        failed = status.auth_failed or status.state in ("offline", "auth_failed")

        def counted(counts: dict) -> None:
            if failed:
                self.tech.record("sync-now", "failed", error=error, **counts)
                done(Outcome("fault", self.tr("diag.sync_error", error=error or status.state,
                                              pending=counts["pending"])))
            else:
                self.tech.record("sync-now", "ok", state=str(status.state), **counts)
                level = "ok" if counts["pending"] == 0 else "warn"
                done(Outcome(level, self.tr("diag.sync_result", state=status.state, **counts)))

        self.jobs.submit(self.jobs.queue_executor, lambda: self._queue.get().counts(),
                         counted, lambda exc: self._failed("sync-now", exc, done))

    def _sync_timed_out(self) -> None:
        done, self._sync_done = self._sync_done, None
        if done is not None:
            self.tech.record("sync-now", "timeout")
            done(Outcome("fault", self.tr("diag.sync_error", error="timeout",
                                          pending="?")))

    # -- reprints ----------------------------------------------------------------------------
    def reprint(self, done: Done) -> None:
        """Reprint every kept receipt that failed to print; one line per receipt."""

        def listed(ids: list[str]) -> None:
            if not ids:
                self.tech.record("reprint", "none")
                done(Outcome("ok", self.tr("diag.reprint_none")))
                return
            results: dict[str, str] = {}

            def one_done(tid: str, error: str) -> None:
                results[tid] = error
                if len(results) == len(ids):
                    finished(ids, results)

            for tid in ids:
                self.ctl.reprint(tid, lambda error, tid=tid: one_done(tid, error))

        def finished(ids: list[str], results: dict[str, str]) -> None:
            ok = sum(1 for tid in ids if not results[tid])
            lines = tuple(
                self.tr("diag.reprint_item_ok", ref=short_reference(tid)) if not results[tid]
                else self.tr("diag.reprint_item_failed", ref=short_reference(tid),
                             error=results[tid])
                for tid in ids)
            self.tech.record("reprint", "ok" if ok == len(ids) else "failed",
                             printed=ok, total=len(ids))
            level = "ok" if ok == len(ids) else "fault"
            done(Outcome(level, self.tr("diag.reprint_result", ok=ok, total=len(ids)), lines))

        self.jobs.submit(self.jobs.device_executor, self.ctl.reprints.pending, listed,
                         lambda exc: self._failed("reprint", exc, done))

    # -- lists -------------------------------------------------------------------------------
    def rejected(self, done: Done) -> None:
        """The transactions the central platform rejected, masked, with their reasons."""

        def listed(items: list[dict]) -> None:
            self.tech.record("rejected", "ok", count=len(items))
            if not items:
                done(Outcome("ok", self.tr("diag.rejected_none")))
                return
            lines = tuple(_rejected_line(item) for item in items)
            done(Outcome("ok", self.tr("diag.rejected_count", n=len(items)), lines))

        self.jobs.submit(self.jobs.queue_executor,
                         lambda: rejected_transactions(self._queue.get(), REJECTED_LIMIT),
                         listed, lambda exc: self._failed("rejected", exc, done))

    def logs(self, done: Done) -> None:
        """The most recent log lines, masked, newest last."""
        data_dir = self.config.kiosk.data_dir

        def listed(lines: list[str]) -> None:
            self.tech.record("logs", "ok", count=len(lines))
            if not lines:
                done(Outcome("ok", self.tr("diag.logs_none")))
                return
            done(Outcome("ok", self.tr("diag.logs_count", n=len(lines)), tuple(lines)))

        self.jobs.submit(self.tech.executor, lambda: recent_log_lines(data_dir, LOG_LINES),
                         listed, lambda exc: self._failed("logs", exc, done))

    # -- queue notices -----------------------------------------------------------------------
    def clear_notices(self, done: Done) -> None:
        """Forget what a corrupt queue file lost (deleting the moved files), on the queue's
        executor: the heartbeat (``queue.unreadable``) and the fleet page stop reporting it."""

        def cleared(result: dict) -> None:
            notices = result["notices"]
            moved = self.ctl.board.forget_notices(QUEUE_MOVED_NOTICE)  # "moved to ..."
            self.tech.record("clear-notices", "ok" if notices or moved else "none",
                             cleared=result["cleared"],
                             files=[n.get("file") for n in notices],
                             unreadable=[n.get("unreadable") for n in notices])
            if not notices and not moved:
                done(Outcome("ok", self.tr("diag.notices_none")))
                return
            done(Outcome("ok", self.tr("diag.notices_cleared", n=result["cleared"] + moved),
                         tuple(notice_line(n) for n in notices)))

        self.jobs.submit(self.jobs.queue_executor,
                         lambda: clear_queue_notices(self._queue.get()), cleared,
                         lambda exc: self._failed("clear-notices", exc, done))

    # -- export ------------------------------------------------------------------------------
    def export_folders(self, done: Done) -> None:
        """The folders a bundle may go to (mounted USB sticks, then the data folder)."""
        data_dir = self.config.kiosk.data_dir
        globs, mounted_only = self.usb_globs, self.mounted_only

        def listed(paths: list[Path]) -> None:
            sticks = [p for p in paths if p != data_dir / "exports"]
            level = "ok" if sticks else "warn"
            text = self.tr("diag.export_pick") if sticks else self.tr("diag.export_no_folders")
            done(Outcome(level, text, paths=tuple(paths)))

        self.jobs.submit(
            self.tech.executor,
            lambda: bundle.removable_folders(data_dir, globs, mounted_only=mounted_only),
            listed, lambda exc: self._failed("export", exc, done))

    def export(self, folder: Path, status: dict | None, done: Done) -> None:
        """Write the bundle into ``folder`` on the diagnostics executor."""
        config, audit = self.config, self.tech.audit
        status = status or {}

        def written(path: Path) -> None:
            self.tech.record("export", "ok", file=path.name, folder=str(folder))
            done(Outcome("ok", self.tr("diag.export_ok", name=path.name)))

        def failed(exc: BaseException) -> None:
            self._failed("export", exc, done, folder=str(folder))

        def write(personal: dict[str, str]) -> None:
            self.jobs.submit(
                self.tech.executor,
                lambda: bundle.export_bundle(folder, config=config, status=status, audit=audit,
                                             personal=personal),
                written, failed)

        # The queue's names and numbers first (on its executor): the bundle masks them even
        # where a pattern could not recognise them, e.g. a name in a log line.
        self.jobs.submit(self.jobs.queue_executor,
                         lambda: personal_values(self._queue.get()), write, failed)

    # -- helpers -----------------------------------------------------------------------------
    def _failed(self, event: str, exc: BaseException, done: Done, **detail) -> None:
        log.error("diagnostics %s failed: %s", event, exc)
        self.tech.record(event, "failed", error=str(exc), **detail)
        done(Outcome("fault", str(exc) or type(exc).__name__))


def _rejected_line(item: dict) -> str:
    who = item.get("identity") or {}
    person = "  ".join(str(who[k]) for k in ("name", "id_number", "card_uid") if who.get(k))
    parts = [item["reference"], item["service_id"], str(item.get("created_at") or "")]
    if person:
        parts.append(person)
    return " · ".join(p for p in parts if p) + f"\n→ {item['reason']}"
