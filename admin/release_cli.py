"""``kiosk-admin release build | sign | publish | status`` (issue #15, docs/UPDATES.md)."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from contract.atomic import write_atomic

from .errors import AdminError


def add_parser(sub: Any, central_args: Callable[[argparse.ArgumentParser], None]) -> None:
    release = sub.add_parser("release", help="build, sign, publish software releases")
    cmds = release.add_subparsers(dest="release_command", required=True)
    build = cmds.add_parser("build", help="build a release from a checkout")
    build.add_argument("--checkout", default=".", metavar="DIR")
    build.add_argument("--version", required=True, metavar="V", help="e.g. 0.5.0")
    build.add_argument("--out", required=True, metavar="DIR", help="folder for the wheels")
    build.add_argument("--lock", metavar="FILE",
                       help="requirements of exact versions (name==version) for the "
                       "dependency wheels")
    build.add_argument("--wheel", action="append", default=[], metavar="WHL",
                       help="a dependency wheel already at hand (repeatable)")
    build.add_argument("--min-from", default="0", metavar="V",
                       help="the oldest version that may update to this one")
    build.add_argument("--notes", default="", metavar="TEXT")
    sign = cmds.add_parser("sign", help="sign a manifest with a release key")
    sign.add_argument("manifest", metavar="MANIFEST")
    sign.add_argument("--key", required=True, metavar="K", help="release private key file")
    sign.add_argument("--key-id", metavar="ID", help="default: the key file's stem")
    sign.add_argument("--out", required=True, metavar="FILE")
    publish = cmds.add_parser("publish", help="upload a signed release and roll it out")
    publish.add_argument("signed", metavar="SIGNED")
    publish.add_argument("--wheels", metavar="DIR", help="default: the signed file's folder")
    target = publish.add_mutually_exclusive_group()
    target.add_argument("--group", metavar="G")
    target.add_argument("--kiosk", metavar="ID")
    publish.add_argument("--percent", type=float, default=100.0, metavar="P",
                         help="share of the group offered the release (default 100)")
    central_args(publish)
    status = cmds.add_parser("status", help="kept releases and each rollout's progress")
    central_args(status)


def run(args: argparse.Namespace, token: Callable[[argparse.Namespace], str]) -> int:
    from . import release

    command = args.release_command
    if command == "build":
        manifest = release.build(Path(args.checkout), args.version, Path(args.out),
                                 lock=Path(args.lock) if args.lock else None,
                                 wheels=[Path(w) for w in args.wheel],
                                 min_from=args.min_from, notes=args.notes)
        total = sum(w["size"] for w in manifest["wheels"])
        print(f"release {manifest['version']}: {len(manifest['wheels'])} wheels, {total} "
              f"bytes -> {Path(args.out) / 'manifest.json'}")
        return 0
    if command == "sign":
        key_id = args.key_id or Path(args.key).stem
        signed = release.sign(Path(args.manifest), Path(args.key), key_id)
        _write(Path(args.out), signed)
        print(f"release {signed['release']['version']} signed with key {key_id} -> {args.out}")
        return 0
    from .central_client import AdminClient

    client = AdminClient(args.central, token(args))
    if command == "publish":
        return _publish(args, client, release)
    answer = client.releases()
    if args.json:
        print(json.dumps(answer, ensure_ascii=False))
        return 0
    for r in answer.get("rollouts") or []:
        print(f"rollout {r['id']}: {r['version']} to {_target(r['target'])} at {r['percent']}%:"
              f" offered {r['offered']}, downloading {r['downloading']}, switched "
              f"{r['switched']}, healthy {r['healthy']}, rolled back {r['rolled_back']}")
        for reason in r.get("rollback_reasons") or []:
            print(f"  {reason['kiosk_id']}: {reason['reason']}")
    if not answer.get("rollouts"):
        print("(no rollout yet)")
    return 0


def _publish(args: argparse.Namespace, client: Any, release: Any) -> int:
    signed = release.read_json(Path(args.signed))
    if not isinstance(signed, dict) or not {"release", "key_id", "signature"} <= signed.keys():
        raise AdminError(f"{args.signed}: not a signed release (make one with "
                         "'kiosk-admin release sign')")
    wheels = Path(args.wheels) if args.wheels else Path(args.signed).parent
    kept = release.upload_and_publish(client, signed, wheels)
    answer = client.rollout(kept["version"], args.percent, group=args.group, kiosk=args.kiosk)
    if args.json:
        print(json.dumps(answer, ensure_ascii=False))
    else:
        print(f"release {kept['version']} rolled out to {_target(answer)} at "
              f"{answer['percent']}% (rollout {answer['seq']})")
    return 0


def _target(t: Any) -> str:
    kind = t.get("kind", t.get("target_kind")) if isinstance(t, dict) else None
    if kind in (None, "all"):
        return "all kiosks"
    return f"{kind} {t.get(kind, t.get('target'))}"


def _write(path: Path, doc: Any) -> None:
    try:
        write_atomic(path, (json.dumps(doc, indent=2, ensure_ascii=False) + "\n").encode())
    except OSError as exc:
        raise AdminError(f"{path}: cannot write ({exc.strerror})") from None
    print(f"wrote {path}", file=sys.stderr)
