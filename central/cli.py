"""The ``kiosk-central`` command: serve the central API, make signing keys, show stats."""

from __future__ import annotations

import argparse
import gc
import json
import logging
import signal
import stat
import sys
import threading
import time
from pathlib import Path
from typing import Any

from .errors import CentralError, ConfigError

log = logging.getLogger("central")

DB_HELP = ("postgresql://user:password@host:port/dbname (or postgres://), "
           "sqlite:///absolute/path.db, or a SQLite file path")


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="kiosk-central",
                                description="Reference central server for village kiosks")
    sub = p.add_subparsers(dest="command", required=True)

    serve = sub.add_parser("serve", help="serve the central API until stopped")
    serve.add_argument("--db", required=True, metavar="URL", help=DB_HELP)
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8080, help="0 picks a free port")
    serve.add_argument("--kiosks", required=True, metavar="FILE",
                       help="TOML with [kiosks.<id>] token and group")
    serve.add_argument("--menu", metavar="FILE", help="menu document (JSON) to sign and serve")
    serve.add_argument("--signing-key", metavar="FILE", help="Ed25519 private key file")
    serve.add_argument("--key-id", metavar="ID", help="the key id kiosks know the key by")
    serve.add_argument("--admins", metavar="FILE",
                       help="TOML with [admins.<name>] token: enables the admin API and page")
    serve.add_argument("--menu-keys", metavar="FILE",
                       help="TOML with [menu_keys] key_id = \"<public key>\": keys whose "
                       "bundles admins may publish")
    serve.add_argument("--release-keys", metavar="FILE", help="TOML [release_keys]: release keys")
    serve.add_argument("--max-body-bytes", type=int, default=1024 * 1024, metavar="N")
    serve.add_argument("--forward-url", metavar="URL",
                       help="deliver every accepted transaction to this receiver (the outbox)")
    serve.add_argument("--forward-secret-file", metavar="FILE",
                       help="key for the HMAC-SHA256 signature of each delivery")
    serve.add_argument("--purge-after", type=float, default=7 * 86400.0, metavar="SECONDS",
                       help="remove personal data this long after delivery (default 7 days)")
    serve.add_argument("--command-expiry", type=float, default=3600.0, metavar="SECONDS",
                       help="a fleet command not delivered within this is expired, never "
                       "sent (default 1 hour; 0: kept until delivered)")
    serve.add_argument("--upload-max-age", type=float, default=86400.0, metavar="SECONDS",
                       help="remove a wheel upload left incomplete this long (default 24 h)")
    serve.add_argument("--tls-cert", metavar="FILE", help="serve HTTPS with this certificate "
                       "(PEM, the chain after it)")
    serve.add_argument("--tls-key", metavar="FILE", help="the certificate's private key (PEM)")
    serve.add_argument("--request-timeout", type=float, default=10.0, metavar="S",
                       help="deadline of a whole request, head and body (default 10)")
    serve.add_argument("--max-connections", type=int, default=10_000, metavar="N",
                       help="connections held at once; past it: 503 (default 10000)")
    serve.add_argument("--max-inflight", type=int, default=512, metavar="N",
                       help="requests handled at once; past it: 503 with Retry-After "
                       "(default 512)")
    _capacity_args(serve)
    serve.add_argument("--workers", type=int, default=1, metavar="N",
                       help="worker processes on one socket (default 1)")
    serve.add_argument("--require-approval", action="store_true", help="approved drafts only")
    serve.add_argument("--verbose", "-v", action="store_true", help="log every request")
    _other_commands(sub)
    return p


def _capacity_args(serve: argparse.ArgumentParser) -> None:
    serve.add_argument("--db-pool", type=int, default=8, metavar="N",
                       help="PostgreSQL connections of each process (default 8)")
    serve.add_argument("--db-wait", type=float, default=2.0, metavar="S",
                       help="longest wait for a free PostgreSQL connection; past it: 503 "
                       "with Retry-After (default 2)")


def _other_commands(sub) -> None:
    keygen = sub.add_parser("keygen", help="write a new menu signing key")
    keygen.add_argument("--out", required=True, metavar="FILE", help="private key file to write")
    keygen.add_argument("--key-id", metavar="ID", help="key id to print (default: FILE's stem)")
    keygen.add_argument("--force", action="store_true", help="replace an existing file")

    pubkey = sub.add_parser("pubkey", help="print the kiosk config line of a signing key")
    pubkey.add_argument("--signing-key", required=True, metavar="FILE")
    pubkey.add_argument("--key-id", metavar="ID", help="default: the file's stem")

    stats = sub.add_parser("stats", help="transactions and last heartbeat per kiosk")
    stats.add_argument("--db", required=True, metavar="URL", help=DB_HELP)
    stats.add_argument("--kiosks", metavar="FILE", help="also list kiosks never heard from")
    stats.add_argument("--json", action="store_true", help="print one JSON object")


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    level = logging.DEBUG if getattr(args, "verbose", False) else logging.INFO
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        if args.command == "serve":
            return _serve(args, list(sys.argv[1:] if argv is None else argv))
        if args.command == "keygen":
            return _keygen(args)
        if args.command == "pubkey":
            return _pubkey(args)
        return _stats(args)
    except CentralError as exc:
        print(f"kiosk-central: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    except Exception as exc:  # noqa: BLE001 - one clear line, never a traceback
        log.debug("unexpected error", exc_info=True)
        print(f"kiosk-central: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 1


def build_central(argv: list[str]) -> Any:
    """The ``CentralServer`` of a ``serve`` command line, not started (workers build theirs
    from the parent's command line)."""
    args = _parser().parse_args(argv)
    return _central(args)


def _serve(args: argparse.Namespace, argv: list[str]) -> int:
    if args.workers > 1:
        return _serve_workers(args, argv)
    server = _central(args)
    stop = threading.Event()
    server.start()
    gc.freeze()  # what start-up built (20,000 kiosks, the menus) is left out of collections
    previous = {signum: signal.signal(signum, lambda *_: stop.set())
                for signum in (signal.SIGTERM, signal.SIGINT)}
    try:
        _announce(server)
        stop.wait()
        log.info("stopping")
    finally:
        server.stop()
        for signum, handler in previous.items():
            signal.signal(signum, handler)
    return 0


def _serve_workers(args: argparse.Namespace, argv: list[str]) -> int:
    from .storage import open_store
    from .web.serve import bind
    from .web.workers import serve_workers

    server = _central(args)
    open_store(server.db).close()  # the schema, once, before the workers race
    sock = bind(server.host, server.port)
    server.port = sock.getsockname()[1]
    try:
        server.start_outbox()  # here, in the supervising process: once, not in each worker
        serve_workers(server, argv, args.workers, sock, lambda: _announce(server))
    finally:
        server.stop_outbox()
        sock.close()
    return 0


def _announce(server: Any) -> None:
    if server.tls is None:
        log.warning("serving plain HTTP: a TLS-terminating proxy must stand in front of "
                    "real kiosks (or serve HTTPS with --tls-cert and --tls-key)")
    if server.forward_url is None:
        log.warning("no --forward-url: accepted transactions stay in the central only")
    print(f"kiosk-central: listening on {server.url}", flush=True)
    if len(server.admins):
        print(f"kiosk-central: fleet page for admins at {server.fleet_url} (user name "
              "any, password an admin token)", flush=True)
        print(f"kiosk-central: menu editor for admins at {server.editor_url}", flush=True)
    else:
        print("kiosk-central: admin API and fleet page off (no --admins)", flush=True)


def _central(args: argparse.Namespace) -> Any:
    from .admins import AdminRegistry, read_menu_keys
    from .kiosks import KioskRegistry
    from .server import CentralServer
    from .storage import parse_db

    if args.menu and not (args.signing_key and args.key_id):
        raise ConfigError("--menu needs --signing-key and --key-id")
    if not 0 <= args.port <= 65535:
        raise ConfigError(f"--port {args.port}: expected 0..65535")
    if args.max_body_bytes < 1024:
        raise ConfigError("--max-body-bytes: expected at least 1024")
    if args.forward_secret_file and not args.forward_url:
        raise ConfigError("--forward-secret-file needs --forward-url")
    for option in ("purge_after", "command_expiry", "upload_max_age"):
        if getattr(args, option) < 0:
            raise ConfigError(f"--{option.replace('_', '-')}: expected seconds >= 0")
    parse_db(args.db)  # an unknown scheme is named before anything starts
    if bool(args.tls_cert) != bool(args.tls_key):
        raise ConfigError("--tls-cert and --tls-key go together")
    if not 0.1 <= args.request_timeout <= 600:
        raise ConfigError("--request-timeout: expected 0.1..600 s")
    if args.max_connections < 1 or args.max_inflight < 1 or args.db_pool < 1:
        raise ConfigError("--max-connections, --max-inflight and --db-pool: expected at "
                          "least 1")
    if not 0.01 <= args.db_wait <= 600:
        raise ConfigError("--db-wait: expected 0.01..600 s")
    kiosks = KioskRegistry.from_toml(args.kiosks)
    _warn_if_readable(Path(args.kiosks), "kiosks file (it holds tokens)")
    admins = None
    if args.admins:
        admins = AdminRegistry.from_toml(args.admins)
        _warn_if_readable(Path(args.admins), "admins file (it holds tokens)")
    if args.signing_key:
        _warn_if_readable(Path(args.signing_key), "signing key")
    if not 1 <= args.workers <= 64:
        raise ConfigError(f"--workers {args.workers}: expected 1..64")
    return CentralServer(args.db, host=args.host, port=args.port, kiosks=kiosks,
                         menu_file=args.menu,
                         signing_key=Path(args.signing_key) if args.signing_key else None,
                         key_id=args.key_id, max_body_bytes=args.max_body_bytes,
                         admins=admins,
                         menu_keys=read_menu_keys(args.menu_keys) if args.menu_keys else None,
                         release_keys=(read_menu_keys(args.release_keys, "release_keys")
                                       if args.release_keys else None),
                         tls_cert=args.tls_cert, tls_key=args.tls_key,
                         request_timeout_s=args.request_timeout,
                         max_connections=args.max_connections,
                         max_inflight=args.max_inflight,
                         forward_url=args.forward_url,
                         forward_secret=_forward_secret(args),
                         require_approval=args.require_approval,
                         purge_after_s=args.purge_after,
                         command_expiry_s=args.command_expiry or None,
                         upload_max_age_s=args.upload_max_age,
                         store_options={"pool_size": args.db_pool,
                                        "pool_wait_s": args.db_wait})


def _forward_secret(args: argparse.Namespace) -> bytes | None:
    """The HMAC key of deliveries, from ``--forward-secret-file`` (None without one)."""
    from .outbox import read_secret

    if not args.forward_secret_file:
        return None
    _warn_if_readable(Path(args.forward_secret_file), "forward secret")
    return read_secret(args.forward_secret_file)


def _keygen(args: argparse.Namespace) -> int:
    keygen(Path(args.out), args.key_id, args.force, prog="kiosk-central")
    return 0


def keygen(out: Path, key_id: str | None, force: bool, prog: str) -> None:
    """Write a new private key to ``out`` (mode 0600, never over a file without ``force``)
    and print the ``key_id = "<public key>"`` line for kiosk configurations."""
    from contract.keyfile import config_line, write_new_key
    from contract.signing import SigningKeyError

    key_id = key_id or out.stem
    try:
        public_b64 = write_new_key(out, force=force)
    except SigningKeyError as exc:
        raise ConfigError(str(exc)) from None
    print(config_line(key_id, public_b64))
    print(f"{prog}: private key written to {out} (mode 0600); put the line above "
          "under [central.menu_keys] in each kiosk's configuration", file=sys.stderr)


def _pubkey(args: argparse.Namespace) -> int:
    from .signing import public_key_b64, read_private_key

    path = Path(args.signing_key)
    print(f'{args.key_id or path.stem} = "{public_key_b64(read_private_key(path))}"')
    return 0


def _stats(args: argparse.Namespace) -> int:
    from .kiosks import KioskRegistry
    from .storage import open_store

    store = open_store(args.db, readonly=True)
    try:
        rows = store.kiosk_stats()
        outbox = store.outbox_stats()
    finally:
        store.close()
    known = KioskRegistry.from_toml(args.kiosks) if args.kiosks else None
    if known is not None:
        seen = {r["kiosk_id"] for r in rows}
        rows += [{"kiosk_id": k, "transactions": 0, "last_transaction_at": None,
                  "last_heartbeat_at": None} for k in known.ids() if k not in seen]
        for r in rows:
            kiosk = known.get(r["kiosk_id"])
            r["group"] = kiosk.group if kiosk else None
        rows.sort(key=lambda r: r["kiosk_id"])
    now = time.time()
    for r in rows:
        for key in ("last_transaction_at", "last_heartbeat_at"):
            at = r[key]
            r[key.replace("_at", "_age_s")] = None if at is None else max(0, round(now - at))
    if args.json:
        print(json.dumps({"kiosks": rows, "transactions": sum(r["transactions"] for r in rows),
                          **outbox}, ensure_ascii=False))
        return 0
    _print_table(rows, with_group=known is not None)
    print(f"outbox: {outbox['outbox_pending']} pending, {outbox['outbox_delivered']} delivered"
          f", personal data purged from {outbox['purged']}")
    return 0


def _print_table(rows: list[dict[str, Any]], with_group: bool) -> None:
    header = ["kiosk", *(["group"] if with_group else []), "transactions", "last transaction",
              "last heartbeat"]
    lines = [header]
    for r in rows:
        lines.append([r["kiosk_id"], *([r.get("group") or "-"] if with_group else []),
                      str(r["transactions"]), _age(r["last_transaction_age_s"]),
                      _age(r["last_heartbeat_age_s"])])
    widths = [max(len(line[i]) for line in lines) for i in range(len(header))]
    for line in lines:
        print("  ".join(cell.ljust(w) for cell, w in zip(line, widths, strict=True)).rstrip())
    if not rows:
        print("(no kiosk has called in yet)")


def _age(seconds: int | None) -> str:
    if seconds is None:
        return "never"
    for unit, size in (("d", 86400), ("h", 3600), ("min", 60)):
        if seconds >= size:
            return f"{seconds // size} {unit} ago"
    return f"{seconds} s ago"


def _warn_if_readable(path: Path, what: str) -> None:
    try:
        mode = path.stat().st_mode
    except OSError:
        return
    if mode & (stat.S_IRGRP | stat.S_IROTH | stat.S_IWGRP | stat.S_IWOTH):
        log.warning("%s %s is open to other users (mode %o); chmod 600 it", what, path,
                    stat.S_IMODE(mode))


if __name__ == "__main__":
    sys.exit(main())
