"""The load generator of ``central_fleet.py``: one process, one asyncio loop, one new TCP
connection per request (``Connection: close``), raw HTTP/1.1 over asyncio streams.

Run as ``python benchmarks/fleet_load.py`` with a JSON job on stdin; prints one JSON result
on stdout. A job is one share of a phase (``central_fleet.py`` starts several processes so
the generator does not share a GIL, or a core, with one server process):

- ``open``: requests at fixed rates per kind (``heartbeat``, ``upload``, ``menu304``,
  ``menu200``) from ``start_at`` for ``seconds``, each sent at its planned time whatever
  the answers do (open loop). Latency is measured from the planned time, so a generator
  that falls behind counts against the server, never hides its slowness; ``lag_ms`` says
  how far behind the generator itself was. At most ``MAX_OPEN`` requests are open at
  once: a request due past that is not sent and counted ``unsent`` (status ``-1``), so a
  starved generator fails the phase instead of drowning itself in connections.
- ``backlog``: ``batches`` uploads of ``batch`` new transactions each, ``concurrency`` at
  a time (closed loop), as fast as the server answers.
- ``hold``: optional with ``open``: keep ``hold`` connections open, half idle, half
  dripping a request head one byte a second; one the server closes is opened again.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import resource
import select
import sys
import time
import uuid

ACCEPTED = re.compile(rb'"status":\s*"accepted"')
KINDS = ("heartbeat", "upload", "menu304", "menu200")
CONNECT_TIMEOUT_S, READ_TIMEOUT_S = 5.0, 15.0  # the kiosk's own (uplink.client)
MAX_OPEN = 3000  # requests in flight a process; past it a due request is not sent


def kiosk_id(i: int) -> str:
    return f"ZJ-{i:05d}"


def kiosk_token(i: int) -> str:
    return f"fleet-bench-token-{i:05d}-{(i * 2654435761) % 2**32:08x}"


def _now_rfc3339() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())


def _transaction() -> dict:
    return {"id": str(uuid.uuid4()), "service_id": "hpf-withdraw", "menu_version": 1,
            "created_at": _now_rfc3339(),
            "identity": {"method": "ga467", "id_number": "330106199001011234", "name": "张三"},
            "fields": {"phone": "13800000000", "amount": 12000, "reason": "purchase"}}


def _heartbeat(kid: str) -> dict:
    return {"kiosk_id": kid, "time": _now_rfc3339(), "app_version": "0.4.0",
            "menu_version": 1, "menu_rejected": None,
            "queue": {"pending": 0, "oldest_pending_s": None, "rejected": 0},
            "devices": {"card_reader": {"state": "online", "detail": "ACS ACR39U 00 00"},
                        "printer": {"state": "online", "paper": "full",
                                    "detail": "socket://10.0.0.5:9100"}}}


def build_request(kind: str, i: int, host: str, etag: str | None = None,
                  batch: int = 1) -> bytes:
    """The whole request of ``kind`` from kiosk ``i``, ending the connection after it."""
    kid = kiosk_id(i)
    head = [f"Host: {host}", f"Authorization: Bearer {kiosk_token(i)}", f"X-Kiosk-Id: {kid}",
            "Connection: close"]
    body = b""
    if kind == "heartbeat":
        line = f"POST /api/v1/kiosks/{kid}/heartbeat HTTP/1.1"
        body = json.dumps(_heartbeat(kid), separators=(",", ":")).encode()
    elif kind == "upload":
        line = "POST /api/v1/transactions HTTP/1.1"
        body = json.dumps({"kiosk_id": kid, "transactions": [
            _transaction() for _ in range(batch)]}, ensure_ascii=False,
            separators=(",", ":")).encode()
    else:
        line = f"GET /api/v1/kiosks/{kid}/menu HTTP/1.1"
        if kind == "menu304" and etag:
            head.append(f"If-None-Match: {etag}")
    if body:
        head += ["Content-Type: application/json", f"Content-Length: {len(body)}"]
    return ("\r\n".join([line, *head]) + "\r\n\r\n").encode() + body


async def exchange(host: str, port: int, request: bytes) -> tuple[int, bytes]:
    """Connect, send ``request``, read until the server closes; (status, body). Status 0:
    no HTTP answer (refused, reset, timed out)."""
    try:
        reader, writer = await asyncio.wait_for(asyncio.open_connection(host, port),
                                                CONNECT_TIMEOUT_S)
    except (TimeoutError, OSError):
        return 0, b""
    try:
        writer.write(request)
        data = await asyncio.wait_for(reader.read(), READ_TIMEOUT_S)
    except (TimeoutError, OSError):
        return 0, b""
    finally:
        writer.close()
    if not data.startswith(b"HTTP/1.") or len(data) < 12:
        return 0, b""
    return int(data[9:12]), data.partition(b"\r\n\r\n")[2]


GOOD = {"heartbeat": (200, 204), "upload": (200,), "menu304": (304, 200), "menu200": (200,)}


async def run_open(job: dict) -> dict:
    host, port = job["host"], job["port"]
    kiosks: list[int] = job["kiosks"]
    plan = sorted((t, kind) for kind, rate in job["rates"].items() if rate > 0
                  for t in _times(rate, job["seconds"], job["offset"]))
    out = {k: {"lat": [], "status": {}} for k in KINDS}
    lag: list[float] = []
    holders = [asyncio.create_task(_hold(host, port, n, job["start_at"] + job["seconds"]))
               for n in range(job.get("hold", 0))]
    tasks = []
    open_now = 0

    async def one(kind: str, planned: float, i: int) -> None:
        nonlocal open_now
        lag.append(time.time() - planned)
        request = build_request(kind, i, host, job.get("etag"))
        open_now += 1
        try:
            status, _ = await exchange(host, port, request)
        finally:
            open_now -= 1
        rec = out[kind]
        rec["lat"].append(round((time.time() - planned) * 1000, 2))
        rec["status"][str(status)] = rec["status"].get(str(status), 0) + 1

    for n, (t, kind) in enumerate(plan):
        planned = job["start_at"] + t
        delay = planned - time.time()
        if delay > 0:
            await asyncio.sleep(delay)
        if open_now >= MAX_OPEN:
            rec = out[kind]
            rec["status"]["-1"] = rec["status"].get("-1", 0) + 1
            continue
        tasks.append(asyncio.create_task(one(kind, planned, kiosks[n % len(kiosks)])))
    await asyncio.gather(*tasks)
    reopened = sum(await asyncio.gather(*holders))
    return {"kinds": {k: v for k, v in out.items() if v["status"]},
            "lag_ms_max": round(max(lag, default=0) * 1000, 1),
            "lag_ms_p99": round(sorted(lag)[int(len(lag) * 0.99)] * 1000, 1) if lag else 0,
            "held": job.get("hold", 0), "held_reopened": reopened}


def _times(rate: float, seconds: float, offset: float) -> list[float]:
    """Planned send times, evenly spaced, shifted by ``offset`` of a gap per process."""
    gap = 1.0 / rate
    return [(n + offset) * gap for n in range(int(rate * seconds))]


async def _hold(host: str, port: int, n: int, until: float) -> int:
    """Keep one slow (odd ``n``) or idle connection open until ``until``; how many times it
    was opened again after the server closed it."""
    reopened = -1
    while time.time() < until:
        reopened += 1
        try:
            reader, writer = await asyncio.open_connection(host, port)
        except OSError:
            await asyncio.sleep(0.5)
            continue
        try:
            drip = b"POST /api/v1/kiosks/ZJ-00000/heartbeat HTTP/1.1\r\nX-Slow: " + b"a" * 4096
            k = 0
            while time.time() < until and not writer.is_closing():
                if n % 2:
                    writer.write(drip[k % len(drip):k % len(drip) + 1])
                    k += 1
                try:
                    if await asyncio.wait_for(reader.read(65536), 1.0) == b"":
                        break  # the server closed it
                except TimeoutError:
                    continue
        except (OSError, RuntimeError):  # uvloop: RuntimeError on a closed transport
            pass
        finally:
            writer.close()
    return max(0, reopened)


async def run_backlog(job: dict) -> dict:
    host, port, kiosks = job["host"], job["port"], job["kiosks"]
    todo = iter(range(job["batches"]))
    lat: list[float] = []
    status: dict[str, int] = {}
    accepted = 0

    async def sender() -> None:
        nonlocal accepted
        for n in todo:
            request = build_request("upload", kiosks[n % len(kiosks)], host, batch=job["batch"])
            t0 = time.time()
            code, body = await exchange(host, port, request)
            lat.append(round((time.time() - t0) * 1000, 2))
            status[str(code)] = status.get(str(code), 0) + 1
            accepted += len(ACCEPTED.findall(body)) if code == 200 else 0

    await asyncio.sleep(max(0.0, job["start_at"] - time.time()))
    t0 = time.time()
    await asyncio.gather(*(sender() for _ in range(job["concurrency"])))
    return {"kinds": {"backlog": {"lat": lat, "status": status}}, "accepted": accepted,
            "started": t0, "ended": time.time()}


def main() -> None:
    job = json.loads(sys.stdin.read())
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    work = run_backlog(job) if job["mode"] == "backlog" else run_open(job)
    try:
        import uvloop  # as fast a loop as the server's
    except ImportError:
        result = asyncio.run(work)
    else:
        result = uvloop.run(work)
    usage = resource.getrusage(resource.RUSAGE_SELF)
    result["cpu_s"] = round(usage.ru_utime + usage.ru_stime, 2)
    _write_all(sys.stdout.fileno(), json.dumps(result).encode())


def _write_all(fd: int, data: bytes) -> None:
    """All of ``data`` to ``fd``, even when the event loop left it non-blocking (a result
    is larger than a pipe's 64 KiB and was cut there)."""
    view = memoryview(data)
    while view:
        try:
            view = view[os.write(fd, view):]
        except BlockingIOError:
            select.select([], [fd], [])


if __name__ == "__main__":
    main()
