"""``python -m kiosk.demo.preview``: the kiosk's own screens for a menu draft, as PNGs.

The central's menu editor runs this in a worker process (``central.previews``) so that what
an admin previews is what residents will see, rendered by the kiosk's screens on simulated
devices, never an imitation: the home screen, each shown service's category, and each
service's identify, form and confirm steps, in both languages and at the three screen sizes.
It writes ``index.json`` listing every picture; the exit code is 0 when it is complete, 2
when the menu cannot be shown, and it prints one line on stderr then, never a traceback.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
import tempfile
from pathlib import Path

from kiosk.demo.run import SIZES, _pump, _read_event, sample_value

log = logging.getLogger(__name__)
LOCALES = ("zh_CN", "en")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m kiosk.demo.preview",
                                     description="the kiosk's screens for a menu, as PNGs")
    parser.add_argument("--menu", required=True, help="the menu document (JSON)")
    parser.add_argument("--out", required=True, help="the folder for the PNGs and index.json")
    parser.add_argument("--services", default="",
                        help="comma-separated service ids to walk (default: the first one)")
    args = parser.parse_args(argv)
    try:
        from contract.menu import MenuError, read_json, validate

        doc = read_json(args.menu)
        problems = validate(doc)
        if problems:
            raise MenuError(args.menu, problems)
    except Exception as exc:  # noqa: BLE001 - one line for the central, never a traceback
        print(f"preview: {args.menu}: cannot be shown ({exc})", file=sys.stderr)
        return 2
    wanted = [s for s in args.services.split(",") if s]
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    images = render(Path(args.menu).resolve(), out, wanted)
    (out / "index.json").write_text(json.dumps({"images": images}, ensure_ascii=False),
                                    encoding="utf-8")
    return 0


def render(menu_path: Path, out: Path, service_ids: list[str]) -> list[dict[str, str]]:
    """Walk the screens offscreen; one entry of index.json per picture saved."""
    os.environ["QT_QPA_PLATFORM"] = "offscreen"
    from PySide6.QtWidgets import QApplication

    app = QApplication.instance() or QApplication([])
    # Pictures only: no speech (it would play on the central's machine), simulated devices.
    with tempfile.TemporaryDirectory(prefix="kiosk-preview-", ignore_cleanup_errors=True) as data:
        config_file = Path(data) / "kiosk.toml"
        config_file.write_text(f'[kiosk]\nid = "PREVIEW"\ndata_dir = "{data}/data"\n'
                               f'menu_file = {json.dumps(str(menu_path))}\n'
                               'hide_cursor = false\n[voice]\nengine = "none"\n',
                               encoding="utf-8")
        from kiosk.app import create_window

        window = create_window(str(config_file))
        try:
            return _walk(app, window, out, service_ids)
        finally:
            window.close()


def _walk(app, window, out: Path, service_ids: list[str]) -> list[dict[str, str]]:
    ctl = window.ctl
    menu = ctl.session.menu
    services = [s for s in (menu.service(i) for i in service_ids) if s is not None]
    if not services:
        services = [s for s in menu.services if s.enabled][:1]
    images: list[dict[str, str]] = []

    def shot(screen: str, locale: str, service: str = "") -> None:
        for size, (w, h) in SIZES.items():
            window.resize(w, h)
            window.show()
            _pump(app, window)
            name = "-".join(p for p in (screen, service, locale, size) if p) + ".png"
            window.grab().save(str(out / name))
            images.append({"file": name, "screen": screen, "service": service,
                           "locale": locale, "size": size})

    for locale in LOCALES:
        _home(ctl, locale)
        shot("home", locale)
        for svc in services:
            _visit(app, window, svc, locale, shot)
    return images


def _home(ctl, locale: str) -> None:
    ctl.go_home()
    if ctl.locale != locale:
        ctl.toggle_language()


def _visit(app, window, svc, locale: str, shot) -> None:
    """One service: its category, identify (when it needs a card), each field, confirm."""
    from drivers.sim.reader import SAMPLE_RESIDENTS
    from kiosk.visit.session import Step

    ctl = window.ctl
    _home(ctl, locale)
    ctl.choose_category(svc.category)
    shot("category", locale, svc.id)
    ctl.choose_service(svc.id)
    if svc.requires_identity:
        shot("identify", locale, svc.id)
        ctl.on_card_event(_read_event(SAMPLE_RESIDENTS[0]))
    for i, fld in enumerate(svc.fields):
        shot(f"form{i + 1}", locale, svc.id)
        ctl.submit_field(sample_value(fld))
    _pump(app, window, lambda: ctl.session.step == Step.CONFIRM, timeout_s=2)
    if ctl.session.step == Step.CONFIRM:
        shot("confirm", locale, svc.id)
    _home(ctl, locale)


if __name__ == "__main__":
    logging.basicConfig(level=logging.WARNING)
    sys.exit(main())
