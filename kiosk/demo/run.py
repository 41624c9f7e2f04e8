"""``kiosk demo``: the kiosk in a window on simulated devices, or a tour of every screen.

Without a display the demo cannot open a window, so it runs the tour instead and says
where the pictures are.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import sys
import tempfile
from pathlib import Path

log = logging.getLogger(__name__)

SIZES = {"landscape": (1920, 1080), "small": (1280, 800), "portrait": (1080, 1920)}
# The demo's technician PIN (hold the top-left corner 5 s). Only ``kiosk demo`` and its tour
# set it; a real kiosk has no PIN until ``kiosk diag hash-pin`` made one for its config.
DEMO_PIN = "246813"
DEMO_TECHNICIAN = "demo"


def has_display() -> bool:
    if os.environ.get("QT_QPA_PLATFORM", "") in ("offscreen", "minimal"):
        return False
    return bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))


def demo(config_path: str | None, tour_dir: str | None) -> int:
    from kiosk.config import demo_config, load_config, user_data_dir

    if tour_dir is None and not has_display():
        tour_dir = str(user_data_dir() / "tour")
        print("No display found: touring every screen instead of opening a window.",
              file=sys.stderr)
    if tour_dir is not None:
        out = Path(tour_dir).resolve()
        files = tour(out)
        print(f"Saved {len(files)} screenshots to {out}")
        return 0
    if config_path:
        config, central = load_config(config_path), None
    else:
        config, central = with_local_central(with_demo_voice(with_demo_pin(demo_config())))
        print(admin_hints(config, central), file=sys.stderr)
    from kiosk.app import run_window
    from kiosk.demo.simulators import add_simulator_controls

    try:
        return run_window(config, windowed=True, prepare=add_simulator_controls)
    finally:
        if central is not None:
            central.stop()


def with_local_central(config):
    """Start the reference central server on 127.0.0.1 for ``config``'s kiosk and return the
    config pointing at it, so the demo uploads, sends heartbeats and polls for menus for real.

    The demo is also an admin's sandbox: a menu signing key (``demo-admin.key``, whose public
    half the kiosk trusts as ``demo``) and an admin token (``admin.token``) are made in the
    data folder, so ``kiosk-admin menu sign`` and ``menu publish`` work against it, and the
    fleet page shows the kiosk.
    """
    import dataclasses

    from central.server import CentralServer
    from contract.keyfile import write_new_key
    from contract.signing import public_key_b64, read_private_key

    data = config.kiosk.data_dir
    data.mkdir(parents=True, exist_ok=True)
    token = _secret_file(data / "central.token")
    admin_token = _secret_file(data / "admin.token")
    key_file = data / "demo-admin.key"
    if not key_file.exists():
        write_new_key(key_file)
    public = public_key_b64(read_private_key(key_file))
    server = CentralServer(data / "central.db", host="127.0.0.1", port=0,
                           kiosks={config.kiosk.id: {"token": token, "group": "demo"}},
                           admins={"demo": {"token": admin_token}},
                           menu_keys={"demo": public})
    server.start()
    central = dataclasses.replace(config.central, url=server.url,
                                  token_file=data / "central.token", sync_interval_s=5,
                                  heartbeat_s=15, menu_poll_s=15, menu_keys={"demo": public})
    return dataclasses.replace(config, central=central), server


def with_demo_pin(config):
    """``config`` with the demo's technician, named "demo", unless it has technicians."""
    import dataclasses

    from kiosk.technician.pin import hash_pin

    if config.diagnostics.pin_hash or config.diagnostics.technicians:
        return config
    return dataclasses.replace(config, diagnostics=dataclasses.replace(
        config.diagnostics, technicians={DEMO_TECHNICIAN: hash_pin(DEMO_PIN)}))


def with_demo_voice(config):
    """``config`` speaking through the recording ``sim`` voice: the demo needs no sound card."""
    import dataclasses

    return dataclasses.replace(config, voice=dataclasses.replace(config.voice, engine="sim"))


def admin_hints(config, server) -> str:
    """How to try the menu flow and the fleet page against the demo's central."""
    data = config.kiosk.data_dir
    return (f"Diagnostics: hold the top-left corner for 5 s, PIN {DEMO_PIN} "
            f"(technician {DEMO_TECHNICIAN})\n"
            f"Demo central platform: {server.url} (data in {data})\n"
            f"  fleet page: {server.url}/admin/fleet  (user demo, password in "
            f"{data / 'admin.token'})\n"
            f"  publish a menu: kiosk-admin menu sign MENU.json --key {data / 'demo-admin.key'}"
            f" --key-id demo --out bundle.json\n"
            f"                  kiosk-admin menu publish bundle.json --central {server.url}"
            f" --token-file {data / 'admin.token'}")


def _secret_file(path: Path) -> str:
    """A random token kept in ``path`` (mode 0600), made on first use."""
    import secrets

    if not path.exists():
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(secrets.token_urlsafe(24))
    return path.read_text().strip()


def sample_value(field, today: dt.date | None = None) -> str:
    """A valid answer for ``field``, as a resident would type it."""
    if field.type == "phone":
        return "13800138000"
    if field.type == "number":
        low = field.min if field.min is not None else 1
        return str(int(max(low, min(field.max or 100, 100))))
    if field.type == "date":
        return (today or dt.date.today()).isoformat()
    if field.type == "choice":
        return field.choices[0].id
    if field.type == "id_number":
        return "330682194807210028"
    return "ZJ2026A1"[: field.max_length or 8]


def tour(out: Path) -> list[Path]:
    """Walk every screen in both languages offscreen and save PNGs into ``out``."""
    os.environ["QT_QPA_PLATFORM"] = "offscreen"
    from PySide6.QtWidgets import QApplication

    from kiosk.config import demo_config

    app = QApplication.instance() or QApplication([])
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="kiosk-tour-") as data:
        from kiosk.app import create_window
        from kiosk.demo.simulators import add_simulator_controls

        config = with_demo_voice(with_demo_pin(demo_config(Path(data))))
        config, central = with_local_central(config)
        window = create_window(config=config)
        add_simulator_controls(window)
        try:
            return _walk(app, window, out)
        finally:
            window.close()
            central.stop()


def _pump(app, window, until=None, timeout_s: float = 5.0) -> None:
    import time

    end = time.monotonic() + timeout_s
    while True:
        app.processEvents()
        if until is None or until() or time.monotonic() > end:
            break
        time.sleep(0.01)
    app.processEvents()


def _walk(app, window, out: Path) -> list[Path]:
    ctl = window.ctl
    saved: list[Path] = []

    def shot(name: str, size: str = "landscape") -> None:
        window.resize(*SIZES[size])
        window.show()
        _pump(app, window)
        path = out / f"{name}-{ctl.locale}-{size}.png"
        window.grab().save(str(path))
        saved.append(path)

    def home(locale: str) -> None:
        ctl.go_home()  # a new visit starts in the configured language
        if ctl.locale != locale:
            ctl.toggle_language()

    # A service that needs a card and has the richest form, to show every input.
    service = max((s for s in ctl.session.menu.services if s.enabled and s.requires_identity),
                  key=lambda s: len({f.type for f in s.fields}))
    _pump(app, window, lambda: window.ctl.online, timeout_s=10)  # the first heartbeat
    for locale in ("zh_CN", "en"):
        home(locale)
        _shoot_visit(app, window, service, shot)
        _shoot_idle_and_error(window, shot, lambda locale=locale: home(locale))
        _shoot_other_field_types(ctl, service, lambda name: shot(name), home, locale)
        _shoot_diagnostics(app, window, shot)
        home(locale)
    home("zh_CN")
    _shoot_diagnostics_faults(app, window, shot)
    return saved


def _shoot_visit(app, window, service, shot) -> None:
    """One resident's whole visit of ``service``: every screen, a refused card, a field error."""
    from drivers.sim.reader import SAMPLE_RESIDENTS
    from kiosk.visit.session import Step

    ctl = window.ctl
    for size in SIZES:
        shot("01-home", size)
    ctl.choose_category(service.category)
    for size in SIZES:
        shot("02-services", size)
    ctl.choose_service(service.id)
    shot("03-identify")
    window.reader_thread.reader.present_sample(3)  # the expired sample card is refused
    _pump(app, window, lambda: bool(ctl.identify_message))
    shot("04-identify-refused")
    ctl.on_card_event(_read_event(SAMPLE_RESIDENTS[0]))
    for i, fld in enumerate(service.fields):
        shot(f"05-form-{i + 1}-{fld.type}", "landscape")
        if i == 0:
            shot(f"05-form-{i + 1}-{fld.type}", "portrait")
            ctl.submit_field("" if fld.required else "x" * 999)
            shot(f"05-form-{i + 1}-{fld.type}-error")
        ctl.submit_field(sample_value(fld))
    assert ctl.session.step == Step.CONFIRM
    shot("06-confirm")
    ctl.confirm()
    _pump(app, window, lambda: ctl.session.step == Step.DONE and
          ctl.session.visit.printed is not None)
    shot("07-done")


def _shoot_idle_and_error(window, shot, home) -> None:
    """The idle prompt, the error screen and the attract screen."""
    ctl = window.ctl
    window.idle.went_idle()
    shot("08-idle-prompt")
    window.idle.wake()
    home()
    ctl.show_screen(ctl.session.failed("error.save_failed").value)
    shot("09-error")
    home()
    window.idle.went_idle()
    shot("10-attract")
    window.idle.wake()


def _shoot_diagnostics(app, window, shot) -> None:
    """The technician's PIN pad and the diagnostics overview, after a test print."""
    tech = window.tech
    tech.open_pin_pad()
    _pump(app, window, lambda: tech.pad_open)
    shot("12-diagnostics-pin")
    tech.pad.close_pad()
    tech.enter()
    screen = window.router.current
    _pump(app, window, lambda: screen.status is not None, timeout_s=10)
    screen.buttons["btn:diag-test-print"].click()
    _pump(app, window, lambda: screen.feedback.property("level") in ("ok", "warn", "fault"))
    for size in ("landscape", "small"):
        shot("13-diagnostics", size)
    tech.leave()


def _shoot_diagnostics_faults(app, window, shot) -> None:
    """The overview with the printer out of paper (in red), then the PIN pad locked by five
    wrong PINs: the last pictures, as the lock-out stays."""
    from drivers.base import DeviceState, DeviceStatus, Paper

    tech, printer = window.tech, window.printer
    printer.fault = DeviceStatus(DeviceState.USERERROR, "simulated paper out", Paper.OUT)
    window.resize(*SIZES["landscape"])  # laid out at this size before the picture
    tech.enter()
    screen = window.router.current
    _pump(app, window, lambda: screen.status is not None, timeout_s=10)
    screen.buttons["btn:diag-test-print"].click()
    _pump(app, window, lambda: screen.feedback.property("level") == "fault")
    screen.collect()  # the overview learns what the test print found
    _pump(app, window, lambda: screen.status["devices"]["printer"]["state"] == "usererror")
    shot("14-diagnostics-fault")
    printer.fault = None
    tech.leave()
    tech.open_pin_pad()
    _pump(app, window, lambda: tech.pad_open)
    for _ in range(5):
        said = tech.pad.message.text()
        tech.pad.submitted.emit("000000")  # not the demo PIN
        _pump(app, window, lambda said=said: tech.pad.message.text() != said)
    shot("15-diagnostics-pin-locked")
    tech.pad.close_pad()


def _shoot_other_field_types(ctl, shown_service, shot, home, locale: str) -> None:
    """One form picture for each field type the main walk did not show."""
    from drivers.sim.reader import SAMPLE_RESIDENTS

    seen = {f.type for f in shown_service.fields}
    for svc in ctl.session.menu.services:
        missing = [f for f in svc.fields if f.type not in seen]
        if not svc.enabled or not missing:
            continue
        home(locale)
        ctl.choose_category(svc.category)
        ctl.choose_service(svc.id)
        if svc.requires_identity:
            ctl.on_card_event(_read_event(SAMPLE_RESIDENTS[1]))
        for fld in svc.fields:
            if fld.type not in seen:
                seen.add(fld.type)
                shot(f"11-form-{fld.type}")
            ctl.submit_field(sample_value(fld))
    home(locale)


def _read_event(identity):
    from drivers.base import CardEvent, CardEventKind

    return CardEvent(CardEventKind.READ, identity=identity)
