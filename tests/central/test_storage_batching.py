"""Heartbeats from many threads at once: group commit keeps each one, and read-your-writes."""

from __future__ import annotations

import asyncio
import threading

import pytest

from central.storage import open_store
from central.storage.batching import BatchWriter


def test_concurrent_heartbeats_are_each_kept_and_readable_on_return(db_url):
    store = open_store(db_url, heartbeat_history=1000)
    misses: list[str] = []

    def beat(kiosk: str) -> None:
        for n in range(20):
            store.add_heartbeat(kiosk, {"n": n})
            if store.latest_heartbeat(kiosk) != {"n": n}:  # committed before returning
                misses.append(kiosk)

    kiosks = [f"ZJ-T-{i:04d}" for i in range(16)]
    threads = [threading.Thread(target=beat, args=(k,)) for k in kiosks]
    try:
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert misses == []
        for kiosk in kiosks:
            assert [b["n"] for _, b in store.heartbeats(kiosk)] == list(range(19, -1, -1))
    finally:
        store.close()


def test_items_queued_meanwhile_share_one_write_and_share_its_failure():
    written: list[list[int]] = []
    first_taken, gate = threading.Event(), threading.Event()

    def write(batch: list[int]) -> None:
        first_taken.set()
        gate.wait()
        if 13 in batch:
            raise ValueError("bad item")
        written.append(sorted(batch))

    writer: BatchWriter[int] = BatchWriter(write, name="test-writer")
    errors: list[int] = []

    def submit(item: int) -> None:
        try:
            writer.submit(item)
        except ValueError:
            errors.append(item)

    threads = [threading.Thread(target=submit, args=(0,))]
    threads[0].start()
    first_taken.wait()  # the writer holds [0]; what comes now queues behind it
    threads += [threading.Thread(target=submit, args=(i,)) for i in (13, 1, 2)]
    for t in threads[1:]:
        t.start()
    while len(writer._queue) < 3:
        threading.Event().wait(0.01)
    gate.set()
    for t in threads:
        t.join()
    writer.submit(5)
    writer.close()
    assert written == [[0], [5]] and sorted(errors) == [1, 2, 13]
    with pytest.raises(Exception, match="closed"):
        writer.submit(6)


def test_coroutines_await_their_batch_on_the_loop_and_get_its_failure():
    written: list[list[int]] = []

    def write(batch: list[int]) -> None:
        if 13 in batch:
            raise ValueError("bad item")
        written.append(sorted(batch))

    writer: BatchWriter[int] = BatchWriter(write, name="test-async-writer")

    async def submit(item: int) -> str:
        try:
            await writer.submit_async(item)
        except ValueError:
            return "failed"
        return "written" if any(item in b for b in written) else "returned before written"

    async def main() -> list[str]:
        return list(await asyncio.gather(*(submit(i) for i in range(8)), submit(13)))

    try:
        outcomes = asyncio.run(main())
    finally:
        writer.close()
    assert outcomes[-1] == "failed"
    assert all(o in ("written", "failed") for o in outcomes[:-1])
    assert sorted(i for b in written for i in b) == [i for i, o in enumerate(outcomes[:-1])
                                                     if o == "written"]


def test_async_heartbeats_of_the_postgres_store_are_readable_on_return(db_url):
    store = open_store(db_url, heartbeat_history=1000)
    try:
        if not hasattr(store, "add_heartbeat_async"):
            pytest.skip("this store hands heartbeats to a thread")

        async def beat(kiosk: str) -> list[bool]:
            seen = []
            for n in range(5):
                await store.add_heartbeat_async(kiosk, {"n": n}, 100.0 + n)
                seen.append(store.latest_heartbeat(kiosk) == {"n": n})
            return seen

        async def main() -> list[list[bool]]:
            return list(await asyncio.gather(*(beat(f"ZJ-A-{i}") for i in range(6))))

        assert all(all(seen) for seen in asyncio.run(main()))
    finally:
        store.close()
