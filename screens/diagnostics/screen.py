"""Diagnostics, for technicians only (behind the corner gesture and the PIN): the kiosk's
status at a glance, refreshed every few seconds, and big buttons to test and fix things.

Not a step of a resident's visit. Leaving it wipes everything it showed.
"""

from __future__ import annotations

import datetime as dt
import logging
from pathlib import Path

from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import (
    QBoxLayout,
    QGridLayout,
    QSizePolicy,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from contract.times import DEFAULT_ZONE, people_clock, people_time
from kiosk.technician.status_text import duration, size
from screens.base import Screen
from screens.diagnostics.actions import DiagActions, Outcome
from screens.diagnostics.buttons import ACTIONS, ActionButtons, notices_to_clear
from screens.diagnostics.tiles import LEVEL_COLORS, ListPanel, StatusTile
from screens.widgets.basic import label

log = logging.getLogger(__name__)

REFRESH_MS = 2500
SIDE_W = 500  # the actions' column in landscape: two buttons side by side
SECTIONS = ("card_reader", "printer", "central", "queue", "menu", "disk", "kiosk")
LEVEL_WORDS = {"ok": "diag.level.ok", "warn": "diag.level.warn", "fault": "diag.level.fault"}


class DiagnosticsScreen(Screen):
    name = "diagnostics"

    def __init__(self, ctl, tech, actions: DiagActions):
        super().__init__(ctl)
        self.tech = tech
        self.actions = actions
        self._zone = DEFAULT_ZONE  # kiosk.timezone, from the overview
        actions.setParent(self)
        self.collector = self.tech.collector
        self.status: dict | None = None
        self._collecting = False
        self._running: set[str] = set()

        self._body = QBoxLayout(QBoxLayout.Direction.LeftToRight, self)
        self._body.setContentsMargins(24, 16, 24, 16)
        self._body.setSpacing(24)
        self.views = QStackedWidget()
        self.views.setMinimumSize(1, 1)
        self._overview = QWidget()
        self._grid = QGridLayout(self._overview)
        self._grid.setContentsMargins(0, 0, 0, 0)
        self._grid.setSpacing(14)
        self.tiles = {section: StatusTile(section) for section in SECTIONS}
        self._columns = 0
        self.views.addWidget(self._overview)
        self.panel = ListPanel(self.tr, self.close_panel)
        self.views.addWidget(self.panel)
        self._main = QVBoxLayout()  # the overview or a list, and the feedback when crowded
        self._main.setSpacing(10)
        self._main.addWidget(self.views, 1)
        self._body.addLayout(self._main, 1)

        # A column of its own width: a long message wraps, it never squeezes the overview.
        self.side = QWidget()
        side = self._side = QVBoxLayout(self.side)
        side.setContentsMargins(0, 0, 0, 0)
        side.setSpacing(10)
        self.feedback = label(name="label:diag-feedback")
        self.feedback.setMinimumHeight(90)
        self.feedback.setMinimumWidth(1)
        self.feedback.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.feedback.setAlignment(Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignLeft)
        self._feedback_level("")
        side.addWidget(self.feedback)
        self.action_buttons = ActionButtons(self._run)
        self.buttons = self.action_buttons.buttons
        side.addLayout(self.action_buttons.grid, 1)
        self._body.addWidget(self.side)
        self._portrait: bool | None = None
        self._crowded = False

        self._timer = QTimer(self)
        self._timer.setInterval(REFRESH_MS)
        self._timer.timeout.connect(self.collect)

    # -- Screen --------------------------------------------------------------------------------
    def title(self) -> str:
        return self.tr("diag.title")

    def enter(self) -> None:
        self._arrange()
        self.views.setCurrentWidget(self._overview)
        self._timer.start()
        self.collector.probe_soon(force=True)
        self.collect()
        super().enter()

    def refresh(self) -> None:
        if not self.feedback.text() or self.feedback.property("level") == "hint":
            self._idle_hint()
        self.action_buttons.retranslate(self.tr)
        self.panel.retranslate()
        if self.status is None:
            for section, tile in self.tiles.items():
                tile.set_text(self._heading(section), [self.tr("diag.collecting")])
        else:
            self._render(self.status)

    def leave(self) -> None:
        """Wipe everything: no technician's view may stay behind for a resident."""
        self._timer.stop()
        self.actions.cancel()
        self.status = None
        self._running.clear()
        for btn in self.buttons.values():
            btn.setEnabled(True)
        for tile in self.tiles.values():
            tile.clear()
        self.panel.clear()
        self.views.setCurrentWidget(self._overview)
        self.feedback.clear()
        self._feedback_level("")

    def _idle_hint(self) -> None:
        if not self._running:
            self.feedback.setText(self.tr("diag.hint"))
            self._feedback_level("")

    def resizeEvent(self, event) -> None:  # noqa: N802 - Qt API
        super().resizeEvent(event)
        self._arrange()

    # -- layout ------------------------------------------------------------------------------
    def _arrange(self) -> None:
        portrait = self.height() > self.width()
        if portrait != self._portrait:
            self._portrait = portrait
            self._body.setDirection(QBoxLayout.Direction.TopToBottom if portrait
                                    else QBoxLayout.Direction.LeftToRight)
            if portrait:
                self.side.setMinimumWidth(0)
                self.side.setMaximumWidth(16777215)
            else:
                self.side.setFixedWidth(SIDE_W)
            self.action_buttons.arrange(3 if portrait else 2)
        self._place_feedback()
        # Two lines of feedback on short screens (the buttons need the rest), more on tall ones.
        self.feedback.setMaximumHeight(90 if self.height() < 800 else 170)
        columns = 2 if portrait else max(1, min(3, (self.width() - SIDE_W - 72) // 340))
        if columns != self._columns:
            self._columns = columns
            for tile in self.tiles.values():
                self._grid.removeWidget(tile)
            for i, section in enumerate(SECTIONS):
                last = i == len(SECTIONS) - 1
                span = columns - i % columns if last else 1  # the last tile fills its row
                self._grid.addWidget(self.tiles[section], i // columns, i % columns, 1, span)
            rows = (len(SECTIONS) + columns - 1) // columns
            for r in range(self._grid.rowCount()):
                self._grid.setRowStretch(r, 1 if r < rows else 0)
            for c in range(self._grid.columnCount()):
                self._grid.setColumnStretch(c, 1 if c < columns else 0)
        # Re-laid out inside a resize: lay the whole screen out again on the next turn, or a
        # tile can keep the geometry of the old arrangement (1 px tall after turning).
        QTimer.singleShot(0, self._relayout)

    def _relayout(self) -> None:
        self.layout().invalidate()
        self.layout().activate()

    def _place_feedback(self) -> None:
        """Six rows of buttons (with "Clear queue notices") need the whole column of a short
        landscape screen: the feedback then goes under the overview."""
        crowded = (not self._portrait and self.height() < 800
                   and self.action_buttons.rows(2) > 5)
        if crowded != self._crowded:
            self._crowded = crowded
            (self._side if crowded else self._main).removeWidget(self.feedback)
            if crowded:
                self._main.addWidget(self.feedback)
            else:
                self._side.insertWidget(0, self.feedback)

    # -- the overview --------------------------------------------------------------------------
    def collect(self) -> None:
        if self._collecting:
            return
        self._collecting = True
        self.collector.probe_soon()
        self.collector.collect(self._collected, self._collect_failed)

    def _collected(self, status: dict) -> None:
        self._collecting = False
        if not self._timer.isActive():
            return  # left meanwhile
        self.status = status
        self._render(status)

    def _collect_failed(self, exc: BaseException) -> None:
        self._collecting = False
        log.error("diagnostics status: %s", exc)
        if self._timer.isActive():
            self._show_feedback(Outcome("fault", f"status: {exc}"))

    def _heading(self, section: str) -> str:
        return self.tr(f"diag.{section}")

    def _render(self, status: dict) -> None:
        if self.action_buttons.show_clearing(notices_to_clear(status)):
            self._place_feedback()
        self._zone = status.get("kiosk", {}).get("timezone", DEFAULT_ZONE)
        for section in SECTIONS:
            data = status["devices"][section] if section in status["devices"] \
                else status[section]
            tile = self.tiles[section]
            level = data.get("level", "")
            tile.show_level(level, self.tr(LEVEL_WORDS.get(level, "diag.level.ok")))
            tile.set_text(self._heading(section), getattr(self, f"_lines_{section}")(data))

    def _device_lines(self, d: dict, paper: bool) -> list[str]:
        head = d["state"] + (f" · {self.tr('diag.paper', paper=d['paper'])}" if paper else "")
        if d.get("since"):  # on the first line: small screens show two lines of a tile
            head += " · " + self.tr("diag.since", t=_when(d["since"], self._zone))
        return [head, d.get("detail", ""), d.get("uri", "")]

    def _lines_card_reader(self, d: dict) -> list[str]:
        return self._device_lines(d, paper=False)

    def _lines_printer(self, d: dict) -> list[str]:
        return self._device_lines(d, paper=True)

    def _lines_central(self, c: dict) -> list[str]:
        tr = self.tr
        if not c.get("url"):
            return [tr("diag.offline_only")]
        if c.get("reachable") is True:
            reach = tr("diag.reachable", ms=c.get("latency_ms") if c.get("latency_ms")
                       is not None else "?")
        elif c.get("reachable") is False:
            reach = tr("diag.unreachable")
        else:
            reach = tr("diag.not_probed")
        token = {True: tr("diag.token_ok"), False: tr("diag.token_bad")}.get(
            c.get("token_accepted"), tr("diag.token_unknown"))
        never = tr("diag.never")
        lines = [f"{reach} · {token}",
                 tr("diag.last_sync", t=_when(c.get("last_sync"), self._zone) or never)
                 + " · " + tr("diag.last_heartbeat",
                              t=_when(c.get("last_heartbeat"), self._zone) or never),
                 c["url"]]
        if c.get("last_error"):
            lines.insert(1, tr("diag.last_error", error=c["last_error"]))
        return lines

    def _lines_queue(self, q: dict) -> list[str]:
        if q.get("pending") is None:
            return [q.get("error", "")]
        lines = [self.tr("diag.queue_counts", pending=q["pending"], sent=q["sent"],
                         rejected=q["rejected"])]
        if q.get("oldest_pending_s") is not None:
            lines.append(self.tr("diag.oldest", age=duration(q["oldest_pending_s"])))
        lines += [self.tr("diag.queue_unreadable", n="?" if n.get("unreadable") is None
                          else n["unreadable"]) for n in q.get("unreadable") or ()]
        return lines

    def _lines_menu(self, m: dict) -> list[str]:
        lines = [self.tr("diag.menu_version", v=m.get("version"))]
        rejected = m.get("last_rejected")
        if rejected:
            what = f"v{rejected.get('version', '?')}"
            lines.append(self.tr("diag.menu_rejected", what=what,
                                 reason=rejected.get("reason", "")))
        return lines

    def _lines_disk(self, d: dict) -> list[str]:
        full = [self.tr("diag.disk_full")] if d.get("full") else []
        if d.get("free_bytes") is None:
            return [*full, d.get("error", ""), d.get("path", "")]
        return [*full, self.tr("diag.disk_free", free=size(d["free_bytes"]),
                        total=size(d["total_bytes"])), d.get("path", "")]

    def _lines_kiosk(self, k: dict) -> list[str]:
        uptime = duration(k["uptime_s"]) if k.get("uptime_s") is not None else "?"
        return [self.tr("diag.kiosk_line", id=k.get("id"), version=k.get("app_version"))
                + " · " + self.tr("diag.uptime", t=uptime),
                *(k.get("notices") or []),
                self.tr("diag.config", path=k.get("config_path") or self.tr("diag.builtin"))]

    # -- actions -------------------------------------------------------------------------------
    def _run(self, name: str) -> None:
        if name in self._running:
            return
        if name == "btn:diag-leave":
            self.tech.leave("leave")
            return
        if name == "btn:diag-restart":
            self._show_feedback(Outcome("", self.tr("diag.restarting")))
            self.tech.restart()
            return
        a = self.actions
        wait = self.tr("diag.read_wait", s=f"{a.read_timeout_s:g}") \
            if name == "btn:diag-test-read" else ""
        self._begin(name, wait)

        def done(outcome: Outcome) -> None:
            self._finished(name, outcome)

        {"btn:diag-test-print": a.test_print, "btn:diag-test-read": a.test_read,
         "btn:diag-test-speaker": a.test_speaker,
         "btn:diag-sync": a.sync_now, "btn:diag-reprint": a.reprint,
         "btn:diag-rejected": a.rejected, "btn:diag-logs": a.logs,
         "btn:diag-clear-notices": a.clear_notices,
         "btn:diag-export": a.export_folders}[name](done)

    def _begin(self, name: str, extra: str = "") -> None:
        """``name`` is running: its button waits, the feedback says so (and ``extra``)."""
        self._running.add(name)
        self.buttons[name].setEnabled(False)
        text = self.tr("diag.running", action=self.tr(dict(ACTIONS)[name]))
        self._show_feedback(Outcome("", f"{text}\n{extra}" if extra else text))

    def _finished(self, name: str, outcome: Outcome) -> None:
        self._running.discard(name)
        self.buttons[name].setEnabled(True)
        if not self.tech.active:
            return  # left meanwhile: show nothing
        action = self.tr(dict(ACTIONS)[name])
        if name == "btn:diag-export" and outcome.paths:
            self.panel.show_choices(outcome.text, outcome.paths, self._export_to)
            self.views.setCurrentWidget(self.panel)
            self._show_feedback(outcome)
            return
        mark = {"ok": "✓", "warn": "!", "fault": "✗"}.get(outcome.level, "")
        self._show_feedback(Outcome(outcome.level, self.tr("diag.outcome", mark=mark,
                                                           action=action, text=outcome.text)))
        if outcome.lines:
            self.panel.show_lines(f"{action} · {outcome.text}", outcome.lines)
            self.views.setCurrentWidget(self.panel)
        self.collect()  # the action may have changed what the overview shows

    def _export_to(self, folder: Path) -> None:
        name = "btn:diag-export"
        self.close_panel()
        self._begin(name)
        self.actions.export(folder, self.status, lambda outcome: self._finished(name, outcome))

    def close_panel(self) -> None:
        self.panel.clear()
        self.views.setCurrentWidget(self._overview)

    def _show_feedback(self, outcome: Outcome) -> None:
        self.feedback.setText(outcome.text)
        self._feedback_level(outcome.level)

    def _feedback_level(self, level: str) -> None:
        hint = not level and self.feedback.text() == self.tr("diag.hint")
        color = "#4a5868" if hint else LEVEL_COLORS.get(level, "#1f5fae") if level else "#1f5fae"
        self.feedback.setProperty("level", "hint" if hint else level or "running")
        border = f"3px solid {color}" if self.feedback.text() and not hint else "none"
        self.feedback.setStyleSheet(
            f"font-size: 24px; font-weight: bold; color: {color}; background: transparent;"
            f" border: {border}; border-radius: 14px; padding: 4px 12px;")


def _when(value: str | None, zone_name: str = DEFAULT_ZONE) -> str:
    """An RFC 3339 time in the kiosk's zone (``kiosk.timezone``, never the process's TZ):
    the time of day when it is today there, else the date and time."""
    if not value:
        return ""
    try:
        moment = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return value
    day = people_time(moment, zone_name)[:10]
    if day and day == people_time(dt.datetime.now(dt.UTC), zone_name)[:10]:
        return people_clock(moment, zone_name)
    return people_time(moment, zone_name, unknown=value)
