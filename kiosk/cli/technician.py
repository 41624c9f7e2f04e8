"""The technician's actions on the command line, twins of the diagnostics screen's buttons:
``kiosk diag read-card``, ``test-print``, ``rejected``, ``logs``, ``export``, ``reprint``,
``clear-notices`` and ``kiosk sync --once``. Qt-free.

Each one is written to the audit log as the screen writes it, with ``via="cli"``; a failed
audit write is logged, never fails the command. Personal data is masked as on the screen.
"""

from __future__ import annotations

import contextlib
import json
import logging
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

from kiosk.cli.commands import CliError
from kiosk.cli.status import gather_status, quiet_logs
from kiosk.config import Config, load_config
from kiosk.technician.audit import AuditLog

log = logging.getLogger(__name__)
T = TypeVar("T")

APP_OWNS_PRINTER = ("the kiosk app is running and owns the printer: use Reprint on its "
                    "diagnostics screen")


class CliAudit:
    """The audit log of the configured kiosk, every entry marked ``via="cli"`` and naming
    the technician as the system account that ran the command (``cli:<user>``)."""

    def __init__(self, config: Config):
        self.log = AuditLog.for_data_dir(config.kiosk.data_dir)
        self.technician = f"cli:{_login_name()}"

    def record(self, event: str, outcome: str, **detail: Any) -> None:
        try:
            self.log.record(event, outcome, via="cli", technician=self.technician, **detail)
        except Exception as exc:  # noqa: BLE001 - the audit never fails the technician's work
            log.error("audit entry %s/%s not written (%s)", event, outcome, exc)

    @contextlib.contextmanager
    def failures(self, event: str, **detail: Any) -> Iterator[None]:
        """Record ``event`` as failed, with the error, if the block raises."""
        try:
            yield
        except CliError as exc:
            self.record(event, "failed", error=str(exc), **detail)
            raise
        except Exception as exc:
            self.record(event, "failed", error=f"{type(exc).__name__}: {exc}", **detail)
            raise


def _login_name() -> str:
    """Who ran the command: the user behind sudo when there is one."""
    import getpass
    import os

    try:
        return os.environ.get("SUDO_USER") or getpass.getuser()
    except (KeyError, OSError):
        return str(os.getuid())


def diag_audit_verify(config_path: str | None, as_json: bool) -> int:
    """``kiosk diag audit-verify``: 0 intact, 1 broken (with the file and line)."""
    config = load_config(config_path)
    verdict = AuditLog.for_data_dir(config.kiosk.data_dir).verify()
    if as_json:
        _print_json(verdict.as_dict())
    elif verdict.intact:
        print(f"audit log intact: {verdict.entries} entries in {verdict.files} files"
              + (f", {len(verdict.torn)} torn lines skipped" if verdict.torn else ""))
    if not verdict.intact:
        where = verdict.broken_at
        print(f"kiosk: audit log broken at {where['file']} line {where['line']}: "
              f"{where['problem']}", file=sys.stderr)
        return 1
    return 0


def _print_json(obj: dict) -> None:
    print(json.dumps(obj, ensure_ascii=False))


# --- checks of the devices ----------------------------------------------------------------

def diag_read_card(config_path: str | None, as_json: bool, timeout_s: float) -> int:
    from kiosk.technician.device_checks import DiagError, read_card

    config = load_config(config_path)
    audit = CliAudit(config)
    with audit.failures("test-read"):
        try:
            result = read_card(config, timeout_s)
        except DiagError as exc:
            raise CliError(str(exc), code=1) from None
    audit.record("test-read", "ok", method=result["method"])
    if as_json:
        _print_json(result)
    else:
        for key, value in result.items():
            print(f"{key}: {value}")
    return 0


def diag_test_print(config_path: str | None, as_json: bool) -> int:
    from kiosk.technician.device_checks import DiagError, test_print

    config = load_config(config_path)
    audit = CliAudit(config)
    with audit.failures("test-print"):
        try:
            result = test_print(config)
        except DiagError as exc:
            raise CliError(str(exc), code=1) from None
    audit.record("test-print", "ok" if result["printed"] else "failed", state=result["state"],
                 paper=result["paper"], error=result.get("error"))
    if as_json:
        _print_json(result)
    else:
        print(f"printer {result['printer']}: {result['state']}, paper {result['paper']}"
              f"{', printed' if result['printed'] else ''}")
    if not result["printed"]:
        print(f"kiosk: the test page was not printed: {result.get('error', '')}",
              file=sys.stderr)
        return 1
    return 0 if result["state"] == "online" else 1


# --- sync now -----------------------------------------------------------------------------

def sync_once(config_path: str | None) -> int:
    """Upload what can be uploaded now; 0 when nothing is left pending, 1 otherwise."""
    from kiosk.central_link import make_uploader
    from offline_queue import OfflineQueue

    config = load_config(config_path)
    audit = CliAudit(config)
    with audit.failures("sync-now"):
        with OfflineQueue(config.queue_path, key_file=config.kiosk.queue_key_file) as queue:
            if not config.central.url:
                pending = queue.counts()["pending"]
                audit.record("sync-now", "offline-only", pending=pending)
                print(f"offline-only (no central.url): {pending} pending", file=sys.stderr)
                return 0 if pending == 0 else 1
            uploader = make_uploader(config, queue)
            try:
                uploader.release_hold()  # a technician asked: earlier back-offs do not hold
                report = uploader.sync_once()
            finally:
                uploader.client.close()
            pending = queue.counts()["pending"]
    failed = report.state in ("offline", "auth_failed")
    audit.record("sync-now", "failed" if failed else "ok", state=str(report.state),
                 sent=report.sent, duplicate=report.duplicate, rejected=report.rejected,
                 pending=pending, error=report.last_error)
    print(f"sent {report.sent}  duplicate {report.duplicate}  rejected {report.rejected}  "
          f"failed {report.failed}  pending {pending}  ({report.state})")
    if report.last_error:
        print(f"kiosk: last error: {report.last_error}", file=sys.stderr)
    return 0 if pending == 0 else 1


# --- lists --------------------------------------------------------------------------------

def diag_rejected(config_path: str | None, as_json: bool, limit: int) -> int:
    """The newest ``limit`` transactions the central platform rejected, masked."""
    from kiosk.technician.rejections import rejected_transactions

    quiet_logs()
    config = load_config(config_path)
    audit = CliAudit(config)
    with audit.failures("rejected"):
        items = _read_queue(config, lambda queue: rejected_transactions(queue, limit), [],
                            "the queue {path} cannot be read: {exc}")
    audit.record("rejected", "ok", count=len(items))
    if as_json:
        _print_json({"count": len(items), "limit": limit, "rejected": items})
    elif not items:
        print("no rejected transactions")
    else:
        for item in items:
            print(_rejected_line(item))
    return 0


def _rejected_line(item: dict) -> str:
    who = item.get("identity") or {}
    parts = [item["reference"], str(item.get("created_at") or ""), item["service_id"],
             *(str(who[k]) for k in ("name", "id_number", "card_uid") if who.get(k))]
    return "  ".join(p for p in parts if p) + f"  reason: {item['reason']}"


def diag_logs(config_path: str | None, as_json: bool, lines: int) -> int:
    """The last ``lines`` lines of the kiosk's log files, masked, newest last."""
    from kiosk.logs import recent_log_lines

    quiet_logs()
    config = load_config(config_path)
    audit = CliAudit(config)
    with audit.failures("logs"):
        found = recent_log_lines(config.kiosk.data_dir, lines)
    audit.record("logs", "ok", count=len(found))
    if as_json:
        _print_json({"folder": str(config.kiosk.data_dir / "logs"), "lines": found})
    elif not found:
        print(f"no log lines in {config.kiosk.data_dir / 'logs'}")
    else:
        for line in found:
            print(line)
    return 0


def diag_clear_notices(config_path: str | None, as_json: bool) -> int:
    """Forget the queue's notices of a corrupt queue file and delete the moved files."""
    from kiosk.technician.queue_notices import clear_queue_notices, notice_line

    quiet_logs()
    config = load_config(config_path)
    audit = CliAudit(config)
    with audit.failures("clear-notices"):
        result = _read_queue(config, clear_queue_notices, {"cleared": 0, "notices": []},
                             "the queue {path} cannot be opened: {exc}")
    notices = result["notices"]
    audit.record("clear-notices", "ok" if notices else "none", cleared=result["cleared"],
                 files=[n.get("file") for n in notices],
                 unreadable=[n.get("unreadable") for n in notices])
    if as_json:
        _print_json(result)
    elif not notices:
        print("no queue notices to clear")
    else:
        for notice in notices:
            print(f"cleared: {notice_line(notice)}")
    return 0


# --- the bundle ---------------------------------------------------------------------------

def diag_export(config_path: str | None, folder: str, as_json: bool) -> int:
    """Write the diagnostics bundle into ``folder`` and print its path."""
    from kiosk.technician.export import BundleError, export_bundle

    quiet_logs()
    config = load_config(config_path)
    audit = CliAudit(config)
    dest = Path(folder).expanduser().absolute()
    with audit.failures("export", folder=str(dest)):
        status = gather_status(config)
        personal = _personal_values(config)
        try:
            path = export_bundle(dest, config=config, status=status, audit=audit.log,
                                 personal=personal)
        except BundleError as exc:
            raise CliError(str(exc)) from None
    audit.record("export", "ok", file=path.name, folder=str(dest))
    if as_json:
        _print_json({"path": str(path), "bytes": path.stat().st_size})
    else:
        print(path)
    return 0


def _personal_values(config: Config) -> dict[str, str]:
    """The names and numbers the queue holds, for the bundle to mask wherever they occur.
    A queue that cannot be read stops the export: without it a name could slip through."""
    from kiosk.technician.rejections import personal_values

    return _read_queue(config, personal_values, {},
                       "the queue {path} cannot be read to mask the names it holds ({exc}); "
                       "no bundle was written")


def _read_queue(config: Config, read: Callable[[Any], T], empty: T, failure: str) -> T:
    """``read(queue)`` on the kiosk's queue; ``empty`` when there is no queue yet (nothing was
    ever stored). A queue that cannot be read raises CliError with ``failure``, formatted
    with ``path`` and ``exc``."""
    from offline_queue import OfflineQueue, QueueError

    if not config.queue_path.exists():
        return empty
    try:
        with OfflineQueue(config.queue_path, key_file=config.kiosk.queue_key_file) as queue:
            return read(queue)
    except (QueueError, OSError) as exc:
        raise CliError(failure.format(path=config.queue_path, exc=exc)) from None


# --- reprints -----------------------------------------------------------------------------

def diag_reprint(config_path: str | None, as_json: bool) -> int:
    """Reprint the kept receipts that failed to print; exit 1 if any fails again."""
    from kiosk.receipts.reprints import ReprintStore
    from kiosk.technician import status as st

    quiet_logs()
    config = load_config(config_path)
    audit = CliAudit(config)
    if st.read_snapshot(st.snapshot_path(config), st.SNAPSHOT_MAX_AGE_S) is not None:
        # Two writers on one printer would interleave their receipts.
        audit.record("reprint", "refused", reason="the kiosk app is running")
        raise CliError(APP_OWNS_PRINTER)
    store = ReprintStore(config.kiosk.data_dir / "reprints")
    with audit.failures("reprint"):
        ids = store.pending()
        result = reprint_all(config, store, ids) if ids else {
            "printer": config.devices.printer, "total": 0, "printed": 0, "receipts": []}
    total, printed = result["total"], result["printed"]
    audit.record("reprint", "none" if not total else "ok" if printed == total else "failed",
                 printed=printed, total=total)
    if as_json:
        _print_json(result)
    elif not total:
        print("no receipts are waiting for a reprint")
    else:
        for item in result["receipts"]:
            print(f"{item['reference']}  " + ("reprinted" if item["printed"]
                                               else f"not reprinted: {item['error']}"))
        print(f"reprinted {printed} of {total} on {result['printer']}")
    if printed < total:
        first = next(item["error"] for item in result["receipts"] if not item["printed"])
        print(f"kiosk: {total - printed} of {total} receipts were not reprinted: {first}",
              file=sys.stderr)
        return 1
    return 0


def reprint_all(config: Config, store, ids: list[str]) -> dict:
    """Print each kept receipt in ``ids`` on the configured printer; a record is removed only
    once the printer took it (as ``Controller.print_receipt`` does)."""
    from drivers.base import DeviceError, Paper
    from kiosk.receipts.render import render_receipt
    from kiosk.technician.device_checks import DiagError, open_printer
    from kiosk.visit.session import short_reference

    uri = config.devices.printer
    try:
        printer = open_printer(config)
    except DiagError as exc:
        raise CliError(str(exc)) from None
    receipts = []
    try:
        for tid in ids:
            item: dict[str, Any] = {"id": tid, "reference": short_reference(tid)}
            data = store.load(tid)
            if data is None:  # unreadable: load() gave it up (and logged why)
                receipts.append({**item, "printed": False, "error": "the kept receipt is "
                                 "unreadable and was given up"})
                continue
            item["reference"] = data.reference or item["reference"]
            try:
                printer.print_image(render_receipt(data, printer.width_dots), name=tid)
            except Exception as exc:  # noqa: BLE001 - DeviceError, ReceiptError: next receipt
                receipts.append({**item, "printed": False,
                                 "error": str(exc) or type(exc).__name__})
                continue
            store.remove(tid)
            receipts.append({**item, "printed": True})
        try:
            after = printer.status()
            state, paper = str(after.state), str(after.paper or Paper.UNKNOWN)
        except DeviceError:  # what was printed is printed; the report says what is known
            state, paper = "unknown", str(Paper.UNKNOWN)
    finally:
        printer.close()
    printed = sum(1 for item in receipts if item["printed"])
    return {"printer": uri, "state": state, "paper": paper, "total": len(ids),
            "printed": printed, "receipts": receipts}
