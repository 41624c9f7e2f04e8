"""Measures the real widgets of the screen on show: text heights and touch targets in
millimetres on a given panel, and the contrast of text against what is behind it, read from
the rendered pixels. docs/accessibility_table.py turns the figures into docs/ACCESSIBILITY.md;
tests/screens/test_elder_sizes.py checks them.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from PySide6.QtCore import QPoint, QRect
from PySide6.QtGui import QFontInfo, QFontMetricsF, QImage
from PySide6.QtWidgets import QAbstractButton, QLabel, QLineEdit, QWidget

from screens import theme

MIN_PIXELS = 12  # a colour must cover this many pixels to count as the text's (not a stray)


@dataclass
class Measure:
    """The smallest text, target and contrast found on one screen."""

    text_mm: float  # font pixel size (em), the smallest text
    cap_mm: float  # the height of a capital H in that font (EN 301 549 5.1.4)
    target_mm: float  # the smallest side of the smallest visible button
    contrast: float  # the lowest contrast of any text, disabled buttons included
    contrast_enabled: float  # the lowest contrast of text a resident can act on or read
    smallest_text: str = ""  # the objectName or text of the widget with the smallest text
    smallest_target: str = ""


def _text_of(widget: QWidget) -> str:
    if isinstance(widget, QLabel | QAbstractButton):
        return widget.text()
    if isinstance(widget, QLineEdit):
        return widget.text() or widget.placeholderText()
    return ""


def visible_widgets(root: QWidget) -> list[QWidget]:
    """The widgets of ``root`` a resident can see: with text, or a button."""
    found = []
    for widget in [root, *root.findChildren(QWidget)]:
        if not widget.isVisible() or widget.width() <= 1 or widget.height() <= 1:
            continue
        if _in_simulator(widget):
            continue
        if _text_of(widget).strip() or isinstance(widget, QAbstractButton):
            found.append(widget)
    return found


def _in_simulator(widget: QWidget | None) -> bool:
    """The demo's simulated-card panel is no part of what a resident sees on a real kiosk."""
    while widget is not None:
        if widget.objectName().startswith("sim"):
            return True
        widget = widget.parentWidget()
    return False


def _colour(value: int) -> str:
    return f"#{value & 0xFFFFFF:06x}"


def text_contrast(image: QImage, rect: QRect) -> float:
    """The contrast of the most contrasting colour against the most common one (the
    background) inside ``rect``: the core of the text's strokes against what is behind it."""
    crop = image.copy(rect).convertToFormat(QImage.Format.Format_RGB32)
    counts = Counter(memoryview(crop.constBits()).cast("I"))
    if not counts:
        return 21.0
    background = _colour(counts.most_common(1)[0][0])
    ratios = [theme.contrast_ratio(_colour(c), background)
              for c, n in counts.items() if n >= MIN_PIXELS]
    return max(ratios, default=1.0)


def measure(window: QWidget, roots: list[QWidget], px_per_mm: float) -> Measure:
    """Measure every visible text and button under ``roots`` inside ``window``."""
    image = window.grab().toImage()
    scale = image.width() / max(1, window.width())
    result = Measure(999.0, 999.0, 999.0, 21.0, 21.0)
    for root in roots:
        for widget in visible_widgets(root):
            _measure_one(widget, window, image, scale, px_per_mm, result)
    return result


def _measure_one(widget, window, image, scale, px_per_mm, result: Measure) -> None:
    name = widget.objectName() or _text_of(widget)[:20]
    if isinstance(widget, QAbstractButton):
        side = min(widget.width(), widget.height()) / px_per_mm
        if side < result.target_mm:
            result.target_mm, result.smallest_target = side, name
    if not _text_of(widget).strip():
        return
    font = widget.font()
    text_mm = QFontInfo(font).pixelSize() / px_per_mm
    if text_mm < result.text_mm:
        result.text_mm, result.smallest_text = text_mm, name
        result.cap_mm = QFontMetricsF(font).capHeight() / px_per_mm
    top_left = widget.mapTo(window, QPoint(0, 0))
    rect = QRect(round(top_left.x() * scale), round(top_left.y() * scale),
                 round(widget.width() * scale), round(widget.height() * scale))
    ratio = text_contrast(image, rect)
    result.contrast = min(result.contrast, ratio)
    if widget.isEnabled():
        result.contrast_enabled = min(result.contrast_enabled, ratio)


def _settle(until=None, timeout_s: float = 10.0) -> None:
    import time

    from PySide6.QtWidgets import QApplication

    end = time.monotonic() + timeout_s
    QApplication.processEvents()
    while until is not None and not until() and time.monotonic() < end:
        time.sleep(0.01)
        QApplication.processEvents()
    for _ in range(3):
        QApplication.processEvents()


def spoken(screen) -> str:
    """What the screen says when it appears, once screens can say it (Screen.spoken_text)."""
    speak = getattr(screen, "spoken_text", None)
    if not callable(speak):
        return ""
    return " / ".join(getattr(p, "text", str(p)) for p in speak())


def walk(window, panel: theme.Panel, elder: bool) -> dict[str, tuple[Measure, str]]:
    """One visit through every resident screen on ``panel``, measuring each screen."""
    from drivers.base import CardEvent, CardEventKind
    from drivers.sim.reader import SAMPLE_RESIDENTS
    from kiosk.demo.run import sample_value
    from kiosk.visit.session import Step

    ctl, ppm, found = window.ctl, panel.px_per_mm, {}
    window.look.set_panel(panel)
    window.resize(panel.width, panel.height)

    def take(name: str, roots=None, said: str | None = None) -> None:
        _settle()
        screen = window.router.current
        m = measure(window, roots or [window.topbar, screen], ppm)
        old = found.get(name)
        if old is None or m.text_mm < old[0].text_mm or m.target_mm < old[0].target_mm:
            found[name] = (m, spoken(screen) if said is None else said)

    ctl.go_home()
    ctl.set_elder(elder)
    take("home")
    service = max((s for s in ctl.session.menu.services if s.enabled and s.requires_identity),
                  key=lambda s: len({f.type for f in s.fields}))
    ctl.choose_category(service.category)
    take("services")
    ctl.choose_service(service.id)
    take("identify")
    ctl.on_card_event(CardEvent(CardEventKind.READ, identity=SAMPLE_RESIDENTS[0]))
    for fld in service.fields:
        take("form")
        ctl.submit_field(sample_value(fld))
    take("confirm")
    window.idle.went_idle()
    overlay = window.overlay  # what OverlayWatch hands the speaker
    take("idle prompt", [overlay.dialog], f"{overlay.heading.text()} / {overlay.body.text()}")
    window.idle.wake()
    ctl.confirm()
    _settle(lambda: ctl.session.step == Step.DONE and ctl.session.visit.printed is not None)
    take("done")
    ctl.go_home()
    ctl.set_elder(elder)
    ctl.show_screen(ctl.session.failed("error.save_failed").value)
    take("error")
    ctl.go_home()
    return found
