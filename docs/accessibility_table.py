"""Writes docs/ACCESSIBILITY.md's measured tables by walking the real screens offscreen.

    PYTHONPATH=. python docs/accessibility_table.py --write

Every figure between the markers is measured on the widgets (kiosk.demo.measure) at the
three panels villages buy, in normal and elder mode; nothing in them is typed by hand.
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

DOC = Path(__file__).resolve().parent / "ACCESSIBILITY.md"
BEGIN, END = "<!-- measured:begin -->\n", "<!-- measured:end -->\n"


def measure_all() -> dict:
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtWidgets import QApplication

    from kiosk.app import create_window
    from kiosk.config import demo_config
    from kiosk.demo.measure import walk
    from screens import theme

    app = QApplication.instance() or QApplication([])
    with tempfile.TemporaryDirectory(prefix="kiosk-a11y-", ignore_cleanup_errors=True) as data:
        window = create_window(config=demo_config(Path(data)))
        window.show()
        try:
            return {(panel, elder): walk(window, panel, elder)
                    for panel in theme.PANELS for elder in (False, True)}
        finally:
            window.close()
            app.processEvents()


def tables(results: dict) -> str:
    from screens import theme

    keys = list(results)
    screens = list(results[keys[0]])
    head = "| screen | " + " | ".join(
        f'{p.inches:g}"{" 长辈版" if e else ""}' for p, e in keys) + " | lowest contrast |"
    rows = [head, "|" + " --- |" * (len(keys) + 2)]
    for name in screens:
        cells = [f"{results[k][name][0].text_mm:.1f} / {results[k][name][0].target_mm:.1f}"
                 for k in keys]
        low = min(results[k][name][0].contrast for k in keys)
        low_on = min(results[k][name][0].contrast_enabled for k in keys)
        rows.append(f"| {name} | " + " | ".join(cells) + f" | {low_on:.1f}:1 ({low:.1f}:1 "
                    "disabled) |")
    spoken = ["", "| screen | what is spoken when it appears |", "| --- | --- |"]
    for name in screens:
        said = results[keys[0]][name][1] or "(not yet: `Screen.spoken_text()` is not there)"
        spoken.append(f"| {name} | {said} |")
    summary = _summary(results, theme)
    return "\n".join(rows + spoken) + "\n\n" + summary


def _summary(results: dict, theme) -> str:
    def low(attr, elder):
        return min(getattr(m, attr) for (p, e), found in results.items() if e == elder
                   for m, _ in found.values())

    pairs = min(theme.contrast_ratio(fg, bg) for _, fg, bg, need in theme.PAIRS if need >= 7)
    lines = [
        "| measured over all screens and panels | normal | 长辈版 |", "| --- | --- | --- |",
        f"| smallest text (font size, mm) | {low('text_mm', False):.2f} | "
        f"{low('text_mm', True):.2f} |",
        f"| smallest capital H (mm) | {low('cap_mm', False):.2f} | {low('cap_mm', True):.2f} |",
        f"| distance at which that H subtends 0.7° (mm) | {low('cap_mm', False) / 0.01222:.0f}"
        f" | {low('cap_mm', True) / 0.01222:.0f} |",
        f"| smallest touch target (mm) | {low('target_mm', False):.1f} | "
        f"{low('target_mm', True):.1f} |",
        f"| lowest text contrast, enabled | {low('contrast_enabled', False):.1f}:1 | "
        f"{low('contrast_enabled', True):.1f}:1 |",
        f"| lowest text contrast, disabled buttons | {low('contrast', False):.1f}:1 | "
        f"{low('contrast', True):.1f}:1 |",
        f"| lowest contrast of the theme's body-text pairs | {pairs:.1f}:1 | {pairs:.1f}:1 |",
    ]
    return "\n".join(lines) + "\n"


def doc_with_tables(doc: str, generated: str) -> str:
    head, rest = doc.split(BEGIN, 1)
    _, tail = rest.split(END, 1)
    return head + BEGIN + generated + END + tail


def main(argv: list[str]) -> int:
    generated = tables(measure_all())
    if "--write" in argv:
        DOC.write_text(doc_with_tables(DOC.read_text("utf-8"), generated), "utf-8")
    else:
        sys.stdout.write(generated)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv))
