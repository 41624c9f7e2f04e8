"""One queue shared by several threads: the lock makes it the database's one writer."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

from offline_queue import OfflineQueue

THREADS = 4
PER_THREAD = 50


def test_concurrent_enqueues_all_land(queue: OfflineQueue) -> None:
    start = threading.Barrier(THREADS + 1)
    results: dict[int, list[str]] = {}
    errors: list[BaseException] = []
    stop_reading = threading.Event()

    def writer(n: int) -> None:
        start.wait()
        try:
            results[n] = [queue.enqueue("s", {"thread": n, "i": i}) for i in range(PER_THREAD)]
        except BaseException as exc:  # reported by the main thread
            errors.append(exc)

    def reader() -> None:
        start.wait()
        try:
            while not stop_reading.is_set():
                queue.counts()
                queue.due_batch(limit=10)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(THREADS)]
    read_thread = threading.Thread(target=reader)
    for thread in [*threads, read_thread]:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    stop_reading.set()
    read_thread.join(timeout=60)

    assert errors == []
    ids = [tx_id for n in range(THREADS) for tx_id in results[n]]
    assert len(set(ids)) == THREADS * PER_THREAD
    assert queue.counts()["pending"] == THREADS * PER_THREAD
    for n in range(THREADS):
        assert [queue.get(tx_id).fields for tx_id in results[n]] == [
            {"thread": n, "i": i} for i in range(PER_THREAD)
        ]


def test_a_single_worker_executor_can_use_a_queue_made_elsewhere(queue: OfflineQueue) -> None:
    tx_id = queue.enqueue("s", {})  # made and first used on this thread
    with ThreadPoolExecutor(max_workers=1) as sync_thread:
        batch = sync_thread.submit(queue.due_batch).result()
        assert [tx.id for tx in batch] == [tx_id]
        assert sync_thread.submit(queue.mark_sent, [tx_id]).result() == 1
    assert queue.counts() == {"pending": 0, "sent": 1, "rejected": 0}
