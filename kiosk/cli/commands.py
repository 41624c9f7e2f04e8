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
from kiosk.errors import KioskError

log = logging.getLogger("kiosk")


class CliError(KioskError):
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

    _add_diag(sub, common, json_opt)

    queue = sub.add_parser("queue", help="the offline transaction queue")
    qsub = queue.add_subparsers(dest="queue_command", required=True)
    qsub.add_parser("status", parents=[common, json_opt], help="counts by state")

    sync = sub.add_parser(
        "sync", parents=[common], help="upload queued transactions",
        description="Uploads what can be uploaded now (back-offs of earlier runs do not "
                    "hold) and writes a sync-now entry to the audit log. Exit status 0 when "
                    "nothing is left pending, 1 otherwise.")
    sync.add_argument("--once", action="store_true", required=True)
    return p


def _add_diag(sub, common: argparse.ArgumentParser, json_opt: argparse.ArgumentParser) -> None:
    """The ``kiosk diag`` subcommands: the diagnostics screen's checks and actions."""
    diag = sub.add_parser(
        "diag", help="diagnostics for technicians",
        description="The checks and actions of the kiosk's diagnostics screen. Every action "
                    "(all but status and hash-pin) is written to the audit log under "
                    "<data_dir>/diagnostics/audit/ with via=cli.")
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
    rj = dsub.add_parser(
        "rejected", parents=[common, json_opt],
        help="transactions the central platform rejected, with reasons, masked",
        description="The newest rejected transactions, newest first: reference, time, "
                    "service, the resident's masked name and ID number, and the reason.")
    rj.add_argument("--limit", type=_positive_int, default=100, metavar="N",
                    help="at most N transactions (default 100)")
    lg = dsub.add_parser("logs", parents=[common, json_opt],
                         help="the kiosk's recent log lines, ID and mobile numbers masked")
    lg.add_argument("--lines", type=_positive_int, default=200, metavar="N",
                    help="the last N lines, newest last (default 200)")
    ex = dsub.add_parser(
        "export", parents=[common, json_opt],
        help="write a diagnostics bundle (.zip) into DIR and print its path",
        description="Writes kiosk-diag-<id>-<time>.zip into DIR (made if missing): the "
                    "status as 'diag status' shows it, recent logs, the audit log and the "
                    "configuration without secrets; names and numbers the queue holds are "
                    "masked wherever they occur.")
    ex.add_argument("dir", metavar="DIR", help="the folder to write into, e.g. a USB stick")
    dsub.add_parser(
        "reprint", parents=[common, json_opt],
        help="reprint the receipts that failed to print",
        description="Prints every kept receipt again; each is forgotten once the printer "
                    "took it. Refused while the kiosk app runs (it owns the printer: use "
                    "Reprint on its diagnostics screen). Exit status 1 if any receipt failed.")
    dsub.add_parser(
        "hash-pin", parents=[common],
        help="make a technician's PIN hash",
        description="Reads a PIN of 6 to 12 digits without echo (twice on a terminal, once "
                    "from a pipe) and prints the line pin_hash = \"...\"; paste the hash "
                    "under [diagnostics.technicians] as <name> = \"...\" (or, for one "
                    "shared unnamed PIN, under [diagnostics]).")
    _add_audit_and_notices(dsub, common, json_opt)
    from kiosk.cli import voice as cli_voice

    cli_voice.add_parser(dsub, common, json_opt)


def _add_audit_and_notices(dsub, common: argparse.ArgumentParser,
                           json_opt: argparse.ArgumentParser) -> None:
    dsub.add_parser(
        "audit-verify", parents=[common, json_opt],
        help="check the audit log's hash chain",
        description="Checks that every entry of the technicians' audit log carries the hash "
                    "of the one before it and that none was altered, deleted or moved. Exit "
                    "status 0 intact, 1 broken (the file and line where it breaks are "
                    "printed).")
    dsub.add_parser(
        "clear-notices", parents=[common, json_opt],
        help="clear the notices of a corrupt queue file and delete the moved file",
        description="When the queue database was found corrupt it was moved aside and what "
                    "could be read was put back; the transactions that could not be read are "
                    "reported (heartbeat queue.unreadable, the fleet page, diag status) until "
                    "a technician clears them with this command, which also deletes the moved "
                    "files. Twin of 'Clear queue notices' on the diagnostics screen.")


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a whole number of at least 1, got {text!r}")
    return value


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
        from contract.menu import MenuError
        from drivers.base import DeviceConfigError
        from kiosk.config import ConfigError

        if isinstance(exc, ConfigError | MenuError | DeviceConfigError):
            print(f"kiosk: {exc}", file=sys.stderr)
            return 2
        from kiosk.logs import mask_text

        log.debug("unexpected error", exc_info=True)
        print(mask_text(f"kiosk: {type(exc).__name__}: {exc}"), file=sys.stderr)
        return 1


def _dispatch(args) -> int:
    if args.command == "run":
        from kiosk.app import run

        return run(args.config, args.windowed)
    if args.command == "demo":
        from kiosk.demo.run import demo

        return demo(args.config, args.tour)
    if args.command == "queue":
        return _queue_status(args)
    if args.command == "diag":
        return _diag(args)
    if args.command == "sync":
        from kiosk.cli.technician import sync_once

        return sync_once(args.config)
    raise CliError(f"unknown command {args.command}")


def _diag(args) -> int:
    command = args.diag_command
    if command == "status":
        from kiosk.cli.status import diag_status

        return diag_status(args.config, args.json)
    if command == "hash-pin":
        return _diag_hash_pin()
    if command == "test-voice":
        from kiosk.cli.voice import diag_test_voice

        return diag_test_voice(args.config, args.text, args.out, args.json)
    from kiosk.cli import technician as cli_tech

    if command == "read-card":
        return cli_tech.diag_read_card(args.config, args.json, args.timeout)
    if command == "test-print":
        return cli_tech.diag_test_print(args.config, args.json)
    if command == "rejected":
        return cli_tech.diag_rejected(args.config, args.json, args.limit)
    if command == "logs":
        return cli_tech.diag_logs(args.config, args.json, args.lines)
    if command == "export":
        return cli_tech.diag_export(args.config, args.dir, args.json)
    if command == "reprint":
        return cli_tech.diag_reprint(args.config, args.json)
    if command == "clear-notices":
        return cli_tech.diag_clear_notices(args.config, args.json)
    if command == "audit-verify":
        return cli_tech.diag_audit_verify(args.config, args.json)
    raise CliError(f"unknown diag command {command}")


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


def _diag_hash_pin() -> int:
    """Print ``pin_hash = "..."`` for a PIN read without echo: twice from a terminal, once
    (one line) from a pipe."""
    import getpass

    from kiosk.technician.pin import PIN_DIGITS, hash_pin, valid_pin

    terminal = sys.stdin.isatty()
    if terminal:
        pin = getpass.getpass(f"Technician PIN ({PIN_DIGITS[0]}-{PIN_DIGITS[1]} digits): ")
    else:
        pin = sys.stdin.readline().rstrip("\r\n")
    if not valid_pin(pin):
        raise CliError(f"a PIN is {PIN_DIGITS[0]} to {PIN_DIGITS[1]} digits (0-9); "
                       "no hash was made")
    if terminal and getpass.getpass("The same PIN again: ") != pin:
        raise CliError("the two PINs differ; no hash was made")
    print(f'pin_hash = "{hash_pin(pin)}"')
    return 0
