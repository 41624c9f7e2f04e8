"""``kiosk-admin command``: ask kiosks to do something through the central (central/README.md).

``command send --kiosk K|--group G|--all TYPE`` queues one command per kiosk; the kiosks get
it with their next heartbeat and report with the one after. ``--wait S`` waits up to S
seconds for every result; ``--out FILE`` then saves what a single kiosk uploaded (the
screenshot's PNG, the diagnostics zip). ``command list`` and ``command show ID`` read back.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path
from typing import Any

import requests

from .central_client import TIMEOUT, AdminClient
from .errors import AdminError

TYPES = ("sync_now", "upload_diagnostics", "screenshot", "restart", "check_update")
FINAL = ("done", "refused", "failed", "expired")
POLL_S = 2.0


def add_parser(sub: Any, central_args: Any) -> None:
    """``command send|list|show`` under ``sub``; ``central_args`` adds --central/--token."""
    command = sub.add_parser("command", help="ask kiosks for a screenshot, a restart, ...")
    verbs = command.add_subparsers(dest="command_verb", required=True)
    send = verbs.add_parser("send", help="queue a command for a kiosk, a group or all")
    send.add_argument("type", choices=TYPES, metavar="TYPE", help=", ".join(TYPES))
    target = send.add_mutually_exclusive_group(required=True)
    target.add_argument("--kiosk", metavar="ID", help="this kiosk")
    target.add_argument("--group", metavar="G", help="every kiosk of this group")
    target.add_argument("--all", action="store_true", help="every kiosk")
    send.add_argument("--wait", type=float, metavar="S", help="wait up to S s for results")
    send.add_argument("--out", metavar="FILE", help="with --wait and one kiosk: save its upload")
    central_args(send)
    listing = verbs.add_parser("list", help="the newest commands and their results")
    listing.add_argument("--kiosk", metavar="ID", help="only this kiosk's")
    central_args(listing)
    show = verbs.add_parser("show", help="one command; --out saves its upload")
    show.add_argument("id", metavar="ID")
    show.add_argument("--out", metavar="FILE", help="save what the kiosk uploaded")
    central_args(show)


class CommandClient(AdminClient):
    """The admin API's commands."""

    def send(self, kind: str, target: dict[str, Any]) -> list[dict[str, Any]]:
        return self._call("POST", "/api/v1/admin/commands",
                          json={"type": kind, **target})["commands"]

    def commands(self, kiosk: str | None = None) -> list[dict[str, Any]]:
        params = {"kiosk": kiosk} if kiosk else None
        return self._call("GET", "/api/v1/admin/commands", params=params)["commands"]

    def show(self, command_id: str) -> dict[str, Any]:
        return self._call("GET", f"/api/v1/admin/commands/{command_id}")

    def download(self, path: str) -> bytes:
        try:
            r = requests.get(self.url + path, headers=self._headers, timeout=TIMEOUT)
        except requests.exceptions.RequestException as exc:
            raise AdminError(f"{self.url}: {type(exc).__name__}") from None
        if r.status_code != 200:
            raise AdminError(f"{path}: the central answered {r.status_code}")
        return r.content


def run(args: argparse.Namespace, token: str) -> int:
    client = CommandClient(args.central, token)
    if args.command_verb == "list":
        _print(args, client.commands(args.kiosk))
        return 0
    if args.command_verb == "show":
        found = client.show(args.id)
        _print(args, [found])
        return _save(client, found, args.out)
    target = ({"kiosk": args.kiosk} if args.kiosk else {"group": args.group} if args.group
              else {"all": True})
    made = client.send(args.type, target)
    if args.wait is None:
        _print(args, made)
        return 0
    done = _wait(client, [c["id"] for c in made], args.wait)
    _print(args, done)
    if len(done) == 1 and args.out:
        return _save(client, done[0], args.out)
    return 0 if all(c["status"] == "done" for c in done) else 1


def _wait(client: CommandClient, ids: list[str], wait_s: float) -> list[dict[str, Any]]:
    deadline = time.monotonic() + wait_s
    while True:
        found = [client.show(i) for i in ids]
        if all(c["status"] in FINAL for c in found) or time.monotonic() >= deadline:
            return found
        time.sleep(POLL_S)


def _save(client: CommandClient, command: dict[str, Any], out: str | None) -> int:
    if not out:
        return 0 if command["status"] in ("done", "pending", "sent") else 1
    if command["status"] != "done":
        raise AdminError(f"command {command['id']} is {command['status']}: nothing to save")
    upload = command.get("upload") or client.show(command["id"]).get("upload")
    if not upload:
        raise AdminError(f"command {command['id']}: nothing was uploaded")
    from contract.atomic import write_atomic

    data = client.download(upload["path"])
    try:
        write_atomic(Path(out), data, mode=0o600)
    except OSError as exc:
        raise AdminError(f"{out}: cannot write ({exc.strerror})") from None
    print(f"{command['kiosk_id']}: {len(data)} bytes saved to {out}")
    return 0


def _print(args: argparse.Namespace, commands: list[dict[str, Any]]) -> None:
    if getattr(args, "json", False):
        print(json.dumps({"commands": commands}, ensure_ascii=False))
        return
    if not commands:
        print("(no commands)")
    for c in commands:
        detail = f" ({c['detail']})" if c.get("detail") else ""
        print(f"{c['id']}  {c['kiosk_id']}  {c['type']}  {c['status']}{detail}  "
              f"queued {c['created_at']} by {c['admin']}")
