"""The kiosk's side of the wire (shared/spec/central-api.md): uploads, heartbeats, menus.

Each function takes an authenticated kiosk and the body already read; the store is called
on a worker thread (its methods block).
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from ..command_api import results_of, wire_commands
from ..kiosks import Kiosk
from ..replies import HttpError, Reply
from ..storage.batching import AsyncHeartbeats
from ..wire import (
    BatchTooLarge,
    BodyError,
    IncomingTransaction,
    check_heartbeat,
    parse_batch,
    parse_json,
)
from .threads import blocking

if TYPE_CHECKING:
    from ..server import CentralServer

log = logging.getLogger("central.handler")

MAX_HEARTBEAT_BYTES = 64 * 1024


def authenticate(central: CentralServer, authorization: str | None, header_id: str | None,
                 path_kiosk: str | None) -> Kiosk:
    """The kiosk of a request, from its headers alone; 401/403 otherwise."""
    kiosk = central.kiosks.authenticate(authorization)
    if kiosk is None and central.admins.authenticate(authorization) is not None:
        raise HttpError(403, "an admin token cannot be used on kiosk endpoints")
    if kiosk is None:
        raise HttpError(401, "missing or unknown bearer token",
                        {"WWW-Authenticate": 'Bearer realm="kiosk-central"'})
    if header_id != kiosk.id:
        raise HttpError(403, "X-Kiosk-Id does not name the kiosk of this token")
    if path_kiosk is not None and path_kiosk != kiosk.id:
        raise HttpError(403, "the path names another kiosk than this token's")
    return kiosk


async def transactions(central: CentralServer, kiosk: Kiosk, raw: bytes) -> Reply:
    try:
        body_kiosk, items = parse_batch(parse_json(raw))
    except BatchTooLarge as exc:
        raise HttpError(413, str(exc)) from None
    except BodyError as exc:
        raise HttpError(400, str(exc)) from None
    if body_kiosk != kiosk.id:
        raise HttpError(403, "kiosk_id of the body is not the kiosk of this token")
    valid = [t for t in items if isinstance(t, IncomingTransaction)]
    outcomes = iter(await blocking(central.store.ingest, kiosk.id, valid))
    results, counts = [], {"accepted": 0, "duplicate": 0, "rejected": 0}
    for item in items:
        if isinstance(item, IncomingTransaction):  # a resend with other content: rejected
            result = {"id": item.id, **next(outcomes).wire}  # with a conflict reason (§4)
        else:
            result = {"id": item.id, "status": "rejected", "reason": item.reason}
        if result["status"] == "rejected":
            log.info("kiosk %s: transaction %r rejected: %s", kiosk.id, item.id[:64],
                     result["reason"])
        results.append(result)
        counts[result["status"]] += 1
    if counts["accepted"] and central.outbox is not None:
        central.outbox.wake()  # hand them on now rather than at the next poll
    # A batch with a rejection is worth a line in the log; at hundreds of uploads a second
    # an INFO line for every good one cost an eighth of an upload's CPU (central_cpu.py).
    log.log(logging.INFO if counts["rejected"] else logging.DEBUG,
            "kiosk %s: batch of %d: %d accepted, %d duplicate, %d rejected", kiosk.id,
            len(items), counts["accepted"], counts["duplicate"], counts["rejected"])
    return Reply(200, {"results": results})


async def heartbeat(central: CentralServer, kiosk: Kiosk, raw: bytes) -> Reply:
    try:
        body = check_heartbeat(parse_json(raw))
    except BodyError as exc:
        raise HttpError(400, str(exc)) from None
    if body["kiosk_id"] != kiosk.id:
        raise HttpError(403, "kiosk_id of the body is not the kiosk of this token")
    now, store = central.clock(), central.store
    if isinstance(store, AsyncHeartbeats):  # no thread: awaited on this loop
        await store.add_heartbeat_async(kiosk.id, body, now)
        central.fleet_view.note_heartbeat(kiosk.id, now, body)
        commands = (await blocking(_exchange_commands, central, kiosk.id, body, now)
                    if results_of(body) or store.may_have_commands(kiosk.id) else [])
    else:
        commands = await blocking(_take_heartbeat, central, kiosk.id, body, now)
    log.debug("kiosk %s: heartbeat", kiosk.id)
    return Reply(200, {"commands": commands}) if commands else Reply(204)


def _take_heartbeat(central: CentralServer, kiosk_id: str, body: dict,
                    now: float) -> list[dict]:
    """Store the heartbeat, note it in the fleet view, record its ``command_results``; the
    kiosk's open commands. One hand-over to a thread for all of it."""
    central.store.add_heartbeat(kiosk_id, body, now=now)
    central.fleet_view.note_heartbeat(kiosk_id, now, body)
    return _exchange_commands(central, kiosk_id, body, now)


def _exchange_commands(central: CentralServer, kiosk_id: str, body: dict,
                       now: float) -> list[dict]:
    """Record the heartbeat's ``command_results``; the kiosk's open commands."""
    results = results_of(body)
    if results:
        central.store.finish_commands(kiosk_id, results, now=now)
    return wire_commands(kiosk_id, central.store.take_commands(
        kiosk_id, now=now, expire_before=central.command_deadline(now)))


def menu(central: CentralServer, kiosk: Kiosk, if_none_match: str | None) -> Reply:
    found = central.menu_for(kiosk)
    if found is None:
        raise HttpError(404, "no menu is published")
    headers = {"ETag": found.etag, "Cache-Control": "no-cache"}
    if found.matches(if_none_match):
        return Reply(304, headers=headers)
    return Reply(200, headers=headers, raw=found.body)
