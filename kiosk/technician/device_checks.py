"""Technician checks from the command line (``kiosk diag read-card``, ``test-print``, and the
device part of ``status``).

Qt-free; personal data is masked exactly as on screen and paper.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
import uuid

from contract.personal import id_number_valid, mask_id_number, mask_name
from contract.times import people_time
from drivers import registry
from drivers.base import (
    CardEventKind,
    DeviceConfigError,
    DeviceError,
    DeviceState,
    DeviceStatus,
    Identity,
    Paper,
)
from kiosk.config import Config
from kiosk.errors import KioskError

log = logging.getLogger(__name__)


class DiagError(KioskError):
    """A check that failed; the message is the one line a technician reads."""


def describe_identity(reader: str, identity: Identity) -> dict:
    """What ``read-card --json`` prints: never an unmasked name or number."""
    out: dict = {"reader": reader, "method": identity.method}
    if identity.card_uid:
        out["card_uid"] = identity.card_uid.upper()
    if identity.id_number or identity.name:
        out["name"] = mask_name(identity.name)
        out["id_number"] = mask_id_number(identity.id_number)
        if identity.method in ("ga467", "sim"):  # GB 11643 applies to resident ID numbers
            out["id_number_valid"] = id_number_valid(identity.id_number)
    if identity.valid_to:
        out["valid_to"] = identity.valid_to
    return out


def read_card(config: Config, timeout_s: float) -> dict:
    """Wait up to ``timeout_s`` for one card on the configured reader."""
    uri = config.devices.card_reader
    reader = registry.create_card_reader(uri)
    deadline = time.monotonic() + timeout_s
    try:
        reader.open()
    except DeviceError as exc:
        raise DiagError(f"card reader {uri}: {exc}") from None
    try:
        while (left := deadline - time.monotonic()) > 0:
            try:
                event = reader.wait_event(min(left, 1.0))
            except DeviceError as exc:
                raise DiagError(f"card reader {uri}: {exc}") from None
            if event is None or event.kind == CardEventKind.REMOVED:
                continue
            if event.kind == CardEventKind.UNREADABLE:
                raise DiagError(f"card reader {uri}: a card is there but could not be read "
                                f"({event.reason})")
            return describe_identity(getattr(reader, "name", "") or uri, event.identity)
        status = reader.status()
        if status.state != DeviceState.ONLINE:
            raise DiagError(f"card reader {uri}: {status.state} ({status.detail})")
        raise DiagError(f"no card was read within {timeout_s:g} s")
    finally:
        reader.close()


def open_printer(config: Config):
    """The configured printer, opened; ``DiagError`` with one line when it cannot be."""
    uri = config.devices.printer
    printer = registry.create_printer(uri, out_dir=config.kiosk.data_dir / "receipts",
                                      width_dots=config.devices.paper_width_dots)
    try:
        printer.open()
    except DeviceError as exc:
        raise DiagError(f"printer {uri}: {exc}") from None
    return printer


def self_test_page(config: Config, uri: str, width_dots: int, before: DeviceStatus):
    """The test page: the printer's URI, state, paper and width, and a QR code."""
    from kiosk.receipts.render import ReceiptData

    now = dt.datetime.now(dt.UTC)
    zone = config.kiosk.timezone
    return ReceiptData(
        title="打印测试 Test print", service_title="打印机自检 Printer self-test",
        service_point=config.kiosk.service_point, kiosk_id=config.kiosk.id,
        transaction_id=f"TEST-{uuid.uuid4()}", reference="TEST",
        created_at=now, resident_name="", id_number="",
        answers=(("URI", uri), ("状态 State", str(before.state)),
                 ("纸张 Paper", str(before.paper or Paper.UNKNOWN)),
                 ("宽度 Width", f"{width_dots} dots"),
                 ("时间 Time", people_time(now, zone, seconds=True, unknown="?"))),
        note="如能看清本页文字和二维码，打印机工作正常。"
             " If this page and its QR code are clear, the printer works.",
        time_zone=zone,
    )


def print_self_test(config: Config, printer) -> tuple[str, DeviceStatus]:
    """Print the test page on an open ``printer``: ``(error or "", status after)``. Used by
    ``kiosk diag test-print`` and by the diagnostics screen on the app's own printer."""
    from kiosk.receipts.render import render_receipt

    page = self_test_page(config, printer.uri, printer.width_dots, printer.status())
    error = ""
    try:
        printer.print_image(render_receipt(page, printer.width_dots), name=page.transaction_id)
    except DeviceError as exc:
        error = str(exc)
    return error, printer.status()


def test_print(config: Config) -> dict:
    """Print a test page with the printer's status and a QR code; return the status."""
    uri = config.devices.printer
    printer = open_printer(config)
    try:
        error, after = print_self_test(config, printer)
    finally:
        printer.close()
    result = {"printer": uri, "printed": not error, **after.as_dict()}
    if after.paper is None:
        result["paper"] = str(Paper.UNKNOWN)
    if error:
        result["error"] = error
    return result


def device_statuses(config: Config) -> dict[str, DeviceStatus]:
    """Open the configured reader and printer briefly and ask each for its status, for
    ``kiosk diag status`` when the app is not running. A device that cannot be made or
    opened is reported in a fault state with the reason, never raised."""
    data_dir = config.kiosk.data_dir
    makers = {
        "card_reader": lambda: registry.create_card_reader(config.devices.card_reader),
        "printer": lambda: registry.create_printer(
            config.devices.printer, out_dir=data_dir / "receipts",
            width_dots=config.devices.paper_width_dots),
    }
    result = {}
    for name, make in makers.items():
        paper = Paper.UNKNOWN if name == "printer" else None
        try:
            device = make()
        except DeviceConfigError as exc:
            result[name] = DeviceStatus(DeviceState.NODEVICE, f"configuration: {exc}", paper)
            continue
        except Exception as exc:  # noqa: BLE001 - a missing backend library, for one
            result[name] = DeviceStatus(DeviceState.NODEVICE, f"{type(exc).__name__}: {exc}",
                                        paper)
            continue
        try:
            device.open()
        except Exception as exc:  # noqa: BLE001 - DeviceError and whatever a backend lets out
            result[name] = DeviceStatus(DeviceState.NODEVICE, f"cannot open: {exc}", paper)
            continue
        try:
            status = device.status()
            result[name] = status if status.paper or name != "printer" else DeviceStatus(
                status.state, status.detail, paper)
        except Exception as exc:  # noqa: BLE001
            result[name] = DeviceStatus(DeviceState.HWERROR, f"no status: {exc}", paper)
        finally:
            try:
                device.close()
            except Exception:  # noqa: BLE001
                log.debug("closing %s failed", name, exc_info=True)
    return result
