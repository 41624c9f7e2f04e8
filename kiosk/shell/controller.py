"""The app shell's controller: turns touches and device events into session steps and screens.

It owns no widgets and knows no router: it says which screen to show (``screenChanged``)
and when the current one must re-render (``refreshNeeded``); the window wires both to its
router. Every slow thing (the queue write, printing) runs through ``Jobs`` off the GUI thread.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from PySide6.QtCore import QObject, Signal

from contract.menu import Menu
from drivers.base import CardEvent, CardEventKind, DeviceStatus, Printer
from kiosk import i18n
from kiosk.config import Config
from kiosk.receipts.printed import PrintedLedger
from kiosk.receipts.reprints import ReprintStore
from kiosk.shell.workers import Jobs, LazyQueue
from kiosk.visit.session import Session, Step
from uplink.status_board import StatusBoard

log = logging.getLogger(__name__)


class Controller(QObject):
    screenChanged = Signal(str)  # show this screen (a step's, or "diagnostics")
    refreshNeeded = Signal()  # the current screen must render the state again
    fieldRejected = Signal(str)  # the form's answer was refused: the message to show
    localeChanged = Signal(str)
    transactionStored = Signal(str)  # transaction id, for the sync worker and tests
    receiptPrinted = Signal(str, bool)  # transaction id, printed or not
    elderChanged = Signal(bool)  # 长辈版 switched on or off (off again when the visit ends)

    def __init__(self, config: Config, menu: Menu, queue: LazyQueue, printer: Printer,
                 jobs: Jobs, parent: QObject | None = None):
        super().__init__(parent)
        self.config = config
        self.session = Session(menu)
        self.queue = queue
        self.printer = printer
        self.jobs = jobs
        self.locale = config.kiosk.locale
        self.identify_message = ""
        self.submitting = False
        self.device_status: dict[str, DeviceStatus] = {}
        self.reprints = ReprintStore(config.kiosk.data_dir / "reprints")
        self.printed = PrintedLedger(config.kiosk.data_dir / "reprints" / "printed")
        self.board = StatusBoard(menu.version)  # what the heartbeat reports
        self.online: bool | None = None  # None: no central configured
        # A technician's test read takes the next card event instead of the session.
        self.card_listener: Callable[[CardEvent], None] | None = None

    # -- helpers for screens ----------------------------------------------------------------
    def tr(self, key: str, **params) -> str:
        return i18n.tr(self.locale, key, **params)

    def _show(self, step: Step) -> None:
        self.show_screen(step.value)

    def show_screen(self, name: str) -> None:
        """Show the screen ``name`` (a step's, or "diagnostics"): the router, then the top bar."""
        self.screenChanged.emit(name)

    # -- resident actions ---------------------------------------------------------------------
    def toggle_language(self) -> None:
        self.locale = i18n.other_locale(self.locale)
        self.refreshNeeded.emit()
        self.localeChanged.emit(self.locale)

    def set_elder(self, on: bool) -> None:
        """Switch the visit into (or out of) elder mode: bigger text and tiles, more time."""
        if on == self.session.elder:
            return
        self.session.elder = on
        log.info("elder mode %s", "on" if on else "off")
        self.elderChanged.emit(on)
        self.refreshNeeded.emit()

    def choose_category(self, category_id: str) -> None:
        self._show(self.session.choose_category(category_id))

    def choose_service(self, service_id: str) -> None:
        self.identify_message = ""
        self._show(self.session.choose_service(service_id))

    def back(self) -> None:
        if self.submitting:
            return  # the transaction is being written: no way back from it now
        self.identify_message = ""
        self._show(self.session.back())

    def go_home(self) -> None:
        """End the visit and forget the resident (also the idle time-out's way out)."""
        if self.submitting:
            return
        was_elder = self.session.elder
        self.session.go_home()
        if was_elder:
            self.elderChanged.emit(False)
        self.identify_message = ""
        if self.locale != self.config.kiosk.locale:
            self.locale = self.config.kiosk.locale
            self.localeChanged.emit(self.locale)
        self._show(Step.HOME)

    def submit_field(self, raw: str) -> None:
        error = self.session.submit_field(raw)
        if error is not None:
            self.fieldRejected.emit(self.tr(error.key, **error.params))
            return
        self._show(self.session.step)

    # -- cards -------------------------------------------------------------------------------
    def on_card_event(self, event: CardEvent) -> None:
        if self.card_listener is not None:
            self.card_listener(event)
            return
        if self.session.step != Step.IDENTIFY:
            log.debug("card event %s ignored outside the identify step", event.kind)
            return
        if event.kind == CardEventKind.UNREADABLE:
            log.info("card unreadable: %s", event.reason)
            self.identify_message = "identify.unreadable"
        elif event.kind == CardEventKind.READ and event.identity is not None:
            problem = self.session.identified(event.identity)
            log.info("card read (%s): %s", event.identity.method, problem or "accepted")
            self.identify_message = problem
            if not problem:
                self._show(self.session.step)
                return
        else:
            return
        self.refreshNeeded.emit()

    def on_device_status(self, device: str, status: DeviceStatus) -> None:
        """Record a device's state for screens and the heartbeat; changes are logged for
        technicians (paper running low, a reader gone...)."""
        old = self.device_status.get(device)
        self.device_status[device] = status
        self.board.set_device(device, status)
        if old is None or (old.state, old.paper) != (status.state, status.paper):
            paper = f", paper {status.paper}" if status.paper is not None else ""
            level = (logging.INFO if status.state == "online" and status.paper in (None, "full")
                     else logging.WARNING)
            log.log(level, "%s: %s%s (%s)", device, status.state, paper, status.detail)

    # -- confirm: store first, then print ----------------------------------------------------
    def confirm(self) -> None:
        if self.submitting or self.session.step != Step.CONFIRM:
            return
        sub = self.session.submission()
        self.submitting = True
        self.refreshNeeded.emit()
        self.jobs.submit(
            self.jobs.queue_executor,
            lambda: self.queue.get().enqueue(sub.service_id, sub.fields, sub.identity,
                                             sub.menu_version),
            self._stored, self._store_failed,
        )

    def _stored(self, transaction_id: str) -> None:
        self.submitting = False
        log.info("transaction %s stored", transaction_id)
        self.session.completed(transaction_id, printed=None)
        self.transactionStored.emit(transaction_id)
        self._show(Step.DONE)
        self._print(transaction_id)

    def _store_failed(self, exc: BaseException) -> None:
        self.submitting = False
        log.error("transaction could not be stored: %s", exc)
        self._show(self.session.failed("error.save_failed"))

    def _print(self, transaction_id: str) -> None:
        from kiosk.visit.summary import receipt_data

        data = receipt_data(self.session.visit, self.locale, self.config.kiosk.id,
                            self.config.kiosk.service_point,
                            time_zone=self.config.kiosk.timezone)
        self.print_receipt(data)

    def print_receipt(self, data, on_done: Callable[[str], None] | None = None) -> None:
        """Print ``data`` (masked receipt data) on the printer's thread. It is kept in the
        reprint store first and removed only once the printer took it. ``on_done(error)``
        hears how it went ("" when printed)."""
        from kiosk.receipts.render import render_receipt

        transaction_id, width = data.transaction_id, self.printer.width_dots

        def job():
            self.reprints.save(data)
            self.printer.print_image(render_receipt(data, width), name=transaction_id)
            self.printed.mark(transaction_id)
            self.reprints.remove(transaction_id)
            return self.printer.status()

        def done(status: DeviceStatus) -> None:
            self.on_device_status("printer", status)
            self._printed(transaction_id, True)
            if on_done is not None:
                on_done("")

        def failed(exc: BaseException) -> None:
            self._print_failed(transaction_id, exc)
            if on_done is not None:
                on_done(str(exc) or type(exc).__name__)

        self.jobs.submit(self.jobs.device_executor, job, done, failed)

    def reprint(self, transaction_id: str,
                on_done: Callable[[str], None] | None = None) -> None:
        """Print a kept receipt again (the done screen's button, technicians' diagnostics).
        The record is read on the printer's thread, like every other printer step."""

        def loaded(data) -> None:
            if data is None:
                log.warning("no kept receipt for %s", transaction_id)
                if on_done is not None:
                    on_done("no kept receipt")
                return
            visit = self.session.visit
            if visit is not None and visit.transaction_id == transaction_id:
                visit.printed = None
                self.refreshNeeded.emit()
            self.print_receipt(data, on_done)

        def unreadable(exc: BaseException) -> None:
            log.error("reprint of %s: %s", transaction_id, exc)
            if on_done is not None:
                on_done(str(exc) or type(exc).__name__)

        self.jobs.submit(self.jobs.device_executor,
                         lambda: self.reprints.load(transaction_id), loaded, unreadable)

    def _print_failed(self, transaction_id: str, exc: BaseException) -> None:
        log.error("receipt for %s not printed: %s", transaction_id, exc)
        status = getattr(exc, "status", None)
        if status is not None:
            self.on_device_status("printer", status)
        self._printed(transaction_id, False)

    def _printed(self, transaction_id: str, ok: bool) -> None:
        self.receiptPrinted.emit(transaction_id, ok)
        visit = self.session.visit
        if visit is None or visit.transaction_id != transaction_id:
            return  # the resident has already left
        visit.printed = ok
        self.refreshNeeded.emit()

    def recover_unprinted(self) -> None:
        """After a restart: print at once the receipts of transactions stored in the last
        10 minutes that never printed (a crash between storing and the done screen)."""
        import time

        if not self.config.queue_path.exists():
            return
        args = (self.printed, self.session.menu, self.config.kiosk.locale, self.config.kiosk.id,
                self.config.kiosk.service_point)

        def owed():  # on the queue's thread: receipts (qrcode, PIL) load there, not at start
            from kiosk.shell.recovery import owed_receipts

            self.printed.prune()
            return owed_receipts(self.queue.get(), *args, now=time.time())

        def found(receipts) -> None:
            for data in receipts:
                log.warning("receipt of %s never printed (a crash?): printing it now",
                            data.transaction_id)
                self.print_receipt(data)

        self.jobs.submit(self.jobs.queue_executor, owed, found,
                         lambda exc: log.error("receipts owed after a restart: %s", exc))

    # -- menu -------------------------------------------------------------------------------
    def offer_menu(self, menu: Menu) -> None:
        """A newer menu shows from the next return home, never in the middle of a visit.
        The heartbeat's menu state is the menu updater's to report (``board.set_menu``), on
        its own thread: a rejection it reports after this menu must not be reset here."""
        self.session.offer_menu(menu)
        if self.session.step == Step.HOME:
            self.refreshNeeded.emit()
