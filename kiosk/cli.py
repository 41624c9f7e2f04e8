"""The ``kiosk`` command line (see shared/spec/kiosk-interfaces.md).

Heavy modules (Qt, drivers) are imported inside the commands that need them, so
``kiosk queue status`` starts fast and works on a machine without Qt libraries.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import time

from kiosk import __version__

log = logging.getLogger("kiosk")


class CliError(Exception):
    """One clear line for stderr and a non-zero exit code."""

    def __init__(self, message: str, code: int = 1):
        super().__init__(message)
        self.code = code


def _parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--config", metavar="P", help="configuration file (TOML)")
    json_opt = argparse.ArgumentParser(add_help=False)
    json_opt.add_argument("--json", action="store_true", help="print one JSON object")

    p = argparse.ArgumentParser(prog="kiosk", description="Village self-service kiosk")
    p.add_argument("--version", action="version", version=f"kiosk {__version__}")
    sub = p.add_subparsers(dest="command", required=True)

    run = sub.add_parser("run", parents=[common], help="the kiosk, fullscreen and locked down")
    run.add_argument("--windowed", action="store_true", help="a normal window, for development")

    demo = sub.add_parser("demo", parents=[common],
                          help="windowed demo on simulated devices")
    demo.add_argument("--tour", metavar="DIR",
                      help="save a PNG of every screen in both languages into DIR, no display")

    diag = sub.add_parser("diag", help="diagnostics for technicians")
    dsub = diag.add_subparsers(dest="diag_command", required=True)
    dsub.add_parser(
        "status", parents=[common, json_opt],
        help="device, network, central, queue, menu, disk and version status",
        description="The diagnostics overview. Device states come from the running kiosk "
                    "(its status.json, when under 90 s old), else from opening the devices "
                    "briefly; the queue and the central platform are checked live. Exit "
                    "status: 0 no device in a fault state, 1 a device in a fault state, "
                    "2 a configuration error.")
    rc = dsub.add_parser("read-card", parents=[common, json_opt],
                         help="wait for one card and print it, personal data masked")
    rc.add_argument("--timeout", type=float, default=30.0, metavar="S",
                    help="give up after S seconds (default 30)")
    dsub.add_parser("test-print", parents=[common, json_opt],
                    help="print a test receipt and report the printer's status")
    dsub.add_parser(
        "hash-pin", parents=[common],
        help="make diagnostics.pin_hash from a technician PIN",
        description="Reads a PIN of 4 to 12 digits without echo (twice on a terminal, once "
                    "from a pipe) and prints the line pin_hash = \"...\" to paste under "
                    "[diagnostics] in the configuration file.")

    queue = sub.add_parser("queue", help="the offline transaction queue")
    qsub = queue.add_subparsers(dest="queue_command", required=True)
    qsub.add_parser("status", parents=[common, json_opt], help="counts by state")

    sync = sub.add_parser("sync", parents=[common], help="upload queued transactions")
    sync.add_argument("--once", action="store_true", required=True)
    return p


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    from kiosk.logs import mask_handlers

    mask_handlers()  # the same masking as the app's log files, on stderr too
    try:
        return _dispatch(args)
    except CliError as exc:
        print(f"kiosk: {exc}", file=sys.stderr)
        return exc.code
    except KeyboardInterrupt:
        return 130
    except Exception as exc:  # noqa: BLE001 - the contract: one clear line, never a traceback
        from drivers.base import DeviceConfigError
        from kiosk.config import ConfigError
        from kiosk.menu import MenuError

        if isinstance(exc, ConfigError | MenuError | DeviceConfigError):
            print(f"kiosk: {exc}", file=sys.stderr)
            return 2
        log.debug("unexpected error", exc_info=True)
        print(f"kiosk: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 1


def _dispatch(args) -> int:
    if args.command == "run":
        from kiosk.app import run

        return run(args.config, args.windowed)
    if args.command == "demo":
        from kiosk.demo import demo

        return demo(args.config, args.tour)
    if args.command == "queue":
        return _queue_status(args)
    if args.command == "diag":
        if args.diag_command == "read-card":
            return _diag_read_card(args)
        if args.diag_command == "test-print":
            return _diag_test_print(args)
        if args.diag_command == "status":
            from kiosk.cli_status import diag_status

            return diag_status(args.config, args.json)
        if args.diag_command == "hash-pin":
            return _diag_hash_pin()
        raise CliError(f"unknown diag command {args.diag_command}")
    if args.command == "sync":
        return _sync_once(args)
    raise CliError(f"unknown command {args.command}")


def _queue_status(args) -> int:
    from kiosk.config import load_config
    from offline_queue import OfflineQueue

    config = load_config(args.config)
    if not config.queue_path.exists():
        counts, oldest = {"pending": 0, "sent": 0, "rejected": 0}, None
    else:
        with OfflineQueue(config.queue_path, key_file=config.kiosk.queue_key_file) as queue:
            counts, oldest = queue.counts(), queue.oldest_pending_age_s(time.time())
    result = {**counts, "oldest_pending_s": None if oldest is None else round(oldest)}
    if args.json:
        print(json.dumps(result))
    else:
        age = "-" if oldest is None else f"{round(oldest)} s"
        print(f"pending {counts['pending']}  sent {counts['sent']}  "
              f"rejected {counts['rejected']}  oldest pending {age}")
    return 0


def _sync_once(args) -> int:
    """Upload what can be uploaded now; 0 when nothing is left pending, 1 otherwise."""
    from kiosk.config import load_config
    from kiosk.uplink import make_uploader
    from offline_queue import OfflineQueue

    config = load_config(args.config)
    with OfflineQueue(config.queue_path, key_file=config.kiosk.queue_key_file) as queue:
        if not config.central.url:
            pending = queue.counts()["pending"]
            print(f"offline-only (no central.url): {pending} pending", file=sys.stderr)
            return 0 if pending == 0 else 1
        queue.retry_now()  # a technician asked for it: back-offs of earlier runs do not hold
        uploader = make_uploader(config, queue)
        try:
            report = uploader.sync_once()
        finally:
            uploader.client.close()
        pending = queue.counts()["pending"]
    print(f"sent {report.sent}  duplicate {report.duplicate}  rejected {report.rejected}  "
          f"failed {report.failed}  pending {pending}  ({report.state})")
    if report.last_error:
        print(f"kiosk: last error: {report.last_error}", file=sys.stderr)
    return 0 if pending == 0 else 1


def _diag_read_card(args) -> int:
    from kiosk.config import load_config
    from kiosk.diag import DiagError, read_card

    config = load_config(args.config)
    try:
        result = read_card(config, args.timeout)
    except DiagError as exc:
        raise CliError(str(exc), code=1) from None
    if args.json:
        print(json.dumps(result, ensure_ascii=False))
    else:
        for key, value in result.items():
            print(f"{key}: {value}")
    return 0


def _diag_test_print(args) -> int:
    from kiosk.config import load_config
    from kiosk.diag import DiagError, test_print

    config = load_config(args.config)
    try:
        result = test_print(config)
    except DiagError as exc:
        raise CliError(str(exc), code=1) from None
    if args.json:
        print(json.dumps(result, ensure_ascii=False))
    else:
        print(f"printer {result['printer']}: {result['state']}, paper {result['paper']}"
              f"{', printed' if result['printed'] else ''}")
    if not result["printed"]:
        print(f"kiosk: the test page was not printed: {result.get('error', '')}",
              file=sys.stderr)
        return 1
    return 0 if result["state"] == "online" else 1


def _diag_hash_pin() -> int:
    """Print ``pin_hash = "..."`` for a PIN read without echo: twice from a terminal, once
    (one line) from a pipe."""
    import getpass

    from kiosk.pin import PIN_DIGITS, hash_pin, valid_pin

    rule = f"a PIN is {PIN_DIGITS[0]} to {PIN_DIGITS[1]} digits (0-9)"
    if sys.stdin.isatty():
        pin = getpass.getpass(f"Technician PIN ({PIN_DIGITS[0]}-{PIN_DIGITS[1]} digits): ")
        if not valid_pin(pin):
            raise CliError(f"{rule}; no hash was made")
        if getpass.getpass("The same PIN again: ") != pin:
            raise CliError("the two PINs differ; no hash was made")
    else:
        pin = sys.stdin.readline().rstrip("\r\n")
        if not valid_pin(pin):
            raise CliError(f"{rule}; no hash was made")
    print(f'pin_hash = "{hash_pin(pin)}"')
    return 0
