"""The ``kiosk-admin`` command: keys, and menus checked, compared, signed and published.

Exit codes: 0 done (``menu diff``: no differences); 1 a negative answer (an invalid menu,
differences, a central that refused); 2 the command could not run (unreadable file,
unreachable central, bad arguments).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import Any

from contract.errors import ContractError

from .errors import AdminError, Refused

PROG = "kiosk-admin"
TOKEN_ENV = "KIOSK_ADMIN_TOKEN"


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog=PROG, description="Admin tools for village kiosk menus",
        epilog="exit codes: 0 done, 1 invalid / different / refused, 2 could not run")
    sub = p.add_subparsers(dest="command", required=True)

    keygen = sub.add_parser("keygen", help="write a new Ed25519 menu signing key")
    keygen.add_argument("--out", required=True, metavar="FILE",
                        help="private key file to write (mode 0600)")
    keygen.add_argument("--key-id", metavar="ID", help="key id to print (default: FILE's stem)")
    keygen.add_argument("--force", action="store_true", help="replace an existing file")

    menu = sub.add_parser("menu", help="validate, diff, sign, publish menus").add_subparsers(
        dest="menu_command", required=True)
    validate = menu.add_parser("validate", help="check a menu (or bundle) as a kiosk would")
    validate.add_argument("file", metavar="FILE")

    diff = menu.add_parser("diff", help="what changes from OLD to NEW (menus or bundles)")
    diff.add_argument("old", metavar="OLD")
    diff.add_argument("new", metavar="NEW")
    diff.add_argument("--json", action="store_true", help="print one JSON object")

    sign = menu.add_parser("sign", help="sign a valid menu into a bundle")
    sign.add_argument("file", metavar="FILE")
    sign.add_argument("--key", required=True, metavar="K", help="private key file")
    sign.add_argument("--key-id", metavar="ID", help="default: the key file's stem")
    sign.add_argument("--out", metavar="FILE", help="bundle file to write (default: stdout)")

    publish = menu.add_parser("publish", help="publish a signed bundle on a central")
    publish.add_argument("bundle", metavar="BUNDLE")
    _central_args(publish)
    target = publish.add_mutually_exclusive_group()
    target.add_argument("--kiosk", metavar="ID", help="only this kiosk")
    target.add_argument("--group", metavar="G", help="only the kiosks of this group")

    pull = menu.add_parser("pull", help="download an approved menu draft to sign offline")
    pull.add_argument("--draft", required=True, type=int, metavar="ID", help="the draft's id")
    pull.add_argument("--out", required=True, metavar="FILE", help="menu file to write")
    _central_args(pull)

    versions = menu.add_parser("versions", help="the menus published on a central")
    _central_args(versions)
    from .release_cli import add_parser as add_release_parser

    add_release_parser(sub, _central_args)
    from .fleet_commands import add_parser as add_command_parser

    add_command_parser(sub, _central_args)
    return p


def _central_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--central", required=True, metavar="URL", help="e.g. http://127.0.0.1:8080")
    token = p.add_mutually_exclusive_group()
    token.add_argument("--token", metavar="T", help=f"admin token (or ${TOKEN_ENV})")
    token.add_argument("--token-file", metavar="FILE", help="file holding the admin token")
    p.add_argument("--json", action="store_true", help="print the central's answer as JSON")


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        if args.command == "keygen":
            return _keygen(args)
        if args.command == "release":
            from .release_cli import run as run_release

            return run_release(args, _token)
        if args.command == "command":
            from .fleet_commands import run

            return run(args, _token(args))
        return _MENU_COMMANDS[args.menu_command](args)
    except Refused as exc:
        print(f"{PROG}: {exc}", file=sys.stderr)
        for problem in exc.problems:
            print(f"  {problem}", file=sys.stderr)
        return 1
    except (AdminError, ContractError) as exc:
        print(f"{PROG}: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:  # e.g. `kiosk-admin menu diff ... | head`
        return 1
    except Exception as exc:  # noqa: BLE001 - one clear line, never a traceback
        print(f"{PROG}: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 2


def _keygen(args: argparse.Namespace) -> int:
    """Write a new private key (mode 0600, never over a file without --force) and print the
    ``key_id = "<public key>"`` line for kiosk and central configurations."""
    from contract.keyfile import config_line, write_new_key

    out = Path(args.out)
    public_b64 = write_new_key(out, force=args.force)
    print(config_line(args.key_id or out.stem, public_b64))
    print(f"{PROG}: private key written to {out} (mode 0600); put the line above under "
          "[central.menu_keys] in each kiosk's configuration", file=sys.stderr)
    return 0


def _validate(args: argparse.Namespace) -> int:
    from .menu_files import read_menu

    found = read_menu(args.file)
    if not found.valid:
        for problem in found.problems:
            print(f"{args.file}: {problem}")
        n = len(found.problems)
        print(f"{PROG}: {args.file}: not a valid menu ({n} problem{'s' * (n != 1)})",
              file=sys.stderr)
        return 1
    menu = found.menu
    enabled = sum(1 for s in menu["services"] if s.get("enabled", True))
    kind = "signed bundle" if found.bundle is not None else "menu"
    print(f"{args.file}: valid {kind}, version {menu['version']}, "
          f"{len(menu['categories'])} categories, {len(menu['services'])} services "
          f"({enabled} enabled)")
    return 0


def _diff(args: argparse.Namespace) -> int:
    from .menu_diff import diff_menus, format_diff
    from .menu_files import read_menu

    menus = []
    for path in (args.old, args.new):
        found = read_menu(path)
        if not found.valid:
            raise AdminError(f"{path}: not a valid menu: {found.problems[0]} (run "
                             f"'{PROG} menu validate {path}')")
        menus.append(found.menu)
    diff = diff_menus(*menus)
    if args.json:
        print(json.dumps(diff.as_dict(), ensure_ascii=False, indent=2))
    else:
        sys.stdout.write(format_diff(diff))
    return 1 if diff else 0


def _sign(args: argparse.Namespace) -> int:
    from contract.signing import public_key_b64, read_private_key, sign_menu, verify_bundle

    from .menu_files import read_menu

    found = read_menu(args.file)
    if not found.valid:
        for problem in found.problems:
            print(f"{args.file}: {problem}", file=sys.stderr)
        print(f"{PROG}: {args.file}: not a valid menu; nothing signed", file=sys.stderr)
        return 1
    key_path = Path(args.key)
    key = read_private_key(key_path)
    key_id = args.key_id or key_path.stem
    bundle = sign_menu(found.menu, key, key_id)
    verify_bundle(bundle, {key_id: public_key_b64(key)})  # what kiosks will do, once here
    # Compact, as kiosks receive it: the file is then under the kiosks' size limit whenever
    # the menu is, and `menu validate` and `menu publish` read it back.
    text = json.dumps(bundle, ensure_ascii=False, separators=(",", ":")) + "\n"
    if args.out:
        _write_text(Path(args.out), text)
        where = args.out
    else:
        sys.stdout.write(text)
        where = "stdout"
    print(f"{PROG}: menu version {found.menu['version']} signed with key {key_id} -> {where}",
          file=sys.stderr)
    return 0


def _publish(args: argparse.Namespace) -> int:
    from .central_client import AdminClient
    from .menu_files import BUNDLE_KEYS, read_json

    try:
        bundle = read_json(Path(args.bundle))
    except ValueError as exc:
        raise AdminError(f"{args.bundle}: {exc}") from None
    if not isinstance(bundle, dict) or set(bundle) != BUNDLE_KEYS:
        raise AdminError(f"{args.bundle}: not a signed bundle (make one with "
                         f"'{PROG} menu sign')")
    client = AdminClient(args.central, _token(args))
    answer = client.publish(bundle, kiosk=args.kiosk, group=args.group)
    if args.json:
        print(json.dumps(answer, ensure_ascii=False))
        return 0
    reaches = answer.get("reaches") or []
    print(f"published menu version {answer.get('version')} for {_target(answer.get('target'))}"
          f" (id {answer.get('id')}, {answer.get('etag')}); {len(reaches)} kiosk"
          f"{'s' * (len(reaches) != 1)} get it: {', '.join(reaches) or 'none'}")
    for item in answer.get("shadowed") or []:
        print(f"  {item.get('kiosk_id')} keeps version {item.get('gets')}, published for "
              f"{item.get('published_for')}")
    return 0


def _pull(args: argparse.Namespace) -> int:
    """Write the approved draft's canonical bytes after checking them as a kiosk would."""
    from contract.menu import decode_json, validate

    from .central_client import AdminClient

    body = AdminClient(args.central, _token(args)).draft_menu(args.draft)
    menu = decode_json(body, f"draft {args.draft}")
    problems = validate(menu)
    if problems:
        raise AdminError(f"draft {args.draft} is not a valid menu: {problems[0]}")
    out = Path(args.out)
    try:
        from contract.atomic import write_atomic

        write_atomic(out, body)
    except OSError as exc:
        raise AdminError(f"{out}: cannot write ({exc.strerror})") from None
    print(f"draft {args.draft}: menu version {menu['version']} written to {out}; sign it with "
          f"'{PROG} menu sign {out} --key KEY', then publish the bundle")
    return 0


def _versions(args: argparse.Namespace) -> int:
    from .central_client import AdminClient

    answer = AdminClient(args.central, _token(args)).versions()
    if args.json:
        print(json.dumps(answer, ensure_ascii=False))
        return 0
    rows = [["id", "version", "for", "key", "admin", "published (UTC)", ""]]
    for m in answer.get("menus") or []:
        rows.append([str(m.get("id")), str(m.get("version")), _target(m.get("target")),
                     str(m.get("key_id")), str(m.get("admin")), str(m.get("published_at")),
                     "newest" if m.get("newest_for_target") else ""])
    if len(rows) == 1:
        print("(no menu published by admins yet)")
    else:
        widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
        for r in rows:
            print("  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip())
    fallback = answer.get("fallback")
    if fallback:
        print(f"server-signed menu (fallback): version {fallback.get('version')}")
    return 0


def _target(target: Any) -> str:
    if not isinstance(target, dict) or target.get("kind") == "all":
        return "all kiosks"
    return f"{target.get('kind')} {target.get('value')}"


def _token(args: argparse.Namespace) -> str:
    if args.token:
        return args.token
    if args.token_file:
        try:
            return Path(args.token_file).read_text("utf-8").strip()
        except (OSError, UnicodeDecodeError) as exc:
            raise AdminError(f"{args.token_file}: cannot read the token ({exc})") from None
    token = os.environ.get(TOKEN_ENV, "").strip()
    if not token:
        raise AdminError(f"no admin token: give --token, --token-file or ${TOKEN_ENV}")
    return token


def _write_text(path: Path, text: str) -> None:
    """Write ``text`` whole or not at all: a half-written bundle is never left behind."""
    from contract.atomic import write_atomic

    try:
        write_atomic(path, text.encode("utf-8"))
    except OSError as exc:
        raise AdminError(f"{path}: cannot write ({exc.strerror})") from None


_MENU_COMMANDS = {"validate": _validate, "diff": _diff, "sign": _sign, "publish": _publish,
                  "pull": _pull, "versions": _versions}


if __name__ == "__main__":
    sys.exit(main())
