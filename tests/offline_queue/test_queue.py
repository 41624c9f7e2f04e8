"""OfflineQueue behaviour: enqueue, read back, state transitions, reopening."""

from __future__ import annotations

import logging
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from offline_queue import STATES, OfflineQueue, QueueError, QueueWriteError

T0 = 1795512600.0  # 2026-11-24T09:30:00Z, where the conftest clock starts

IDENTITY = {"method": "ga467", "id_number": "330106199001011234", "name": "张三"}
FIELDS = {"phone": "13800000000", "address": "浙江省杭州市西湖区文三路 90 号", "amount": 1200.5}
REPO = Path(__file__).resolve().parents[2]


def test_enqueue_get_roundtrip_keeps_chinese_text(queue: OfflineQueue) -> None:
    tx_id = queue.enqueue("hpf-withdraw", FIELDS, IDENTITY, menu_version=12)

    assert uuid.UUID(tx_id).version == 4
    tx = queue.get(tx_id)
    assert tx is not None
    assert tx.id == tx_id
    assert tx.service_id == "hpf-withdraw"
    assert tx.menu_version == 12
    assert tx.created_at == "2026-11-24T09:30:00Z"
    assert tx.identity == IDENTITY
    assert tx.fields == FIELDS
    assert (tx.state, tx.attempts, tx.last_error, tx.next_attempt_at) == ("pending", 0, None, None)
    assert tx.sent_at is None and tx.reason is None


def test_identity_is_optional(queue: OfflineQueue) -> None:
    tx = queue.get(queue.enqueue("library-renew", {"card": "A1"}))
    assert tx.identity is None
    assert tx.menu_version == 0


def test_ids_are_new_each_time(queue: OfflineQueue) -> None:
    ids = {queue.enqueue("s", {}) for _ in range(20)}
    assert len(ids) == 20


def test_get_unknown_id_is_none(queue: OfflineQueue) -> None:
    assert queue.get(str(uuid.uuid4())) is None


def test_counts_always_has_every_state(queue: OfflineQueue) -> None:
    assert queue.counts() == {"pending": 0, "sent": 0, "rejected": 0}
    assert tuple(queue.counts()) == STATES

    a, b, c, _ = (queue.enqueue("s", {"n": n}) for n in range(4))
    queue.mark_sent([a, b])
    queue.mark_rejected(c, "unknown service")
    assert queue.counts() == {"pending": 1, "sent": 2, "rejected": 1}


def test_due_batch_is_oldest_first_and_limited(queue: OfflineQueue, clock) -> None:
    ids = []
    for n in range(5):
        ids.append(queue.enqueue("s", {"n": n}))
        clock.advance(1)

    assert [tx.id for tx in queue.due_batch()] == ids
    assert [tx.id for tx in queue.due_batch(limit=2)] == ids[:2]


def test_due_batch_keeps_enqueue_order_within_one_clock_tick(queue: OfflineQueue) -> None:
    ids = [queue.enqueue("s", {"n": n}) for n in range(5)]  # clock does not move
    assert [tx.id for tx in queue.due_batch()] == ids


def test_due_batch_skips_transactions_not_yet_due(queue: OfflineQueue, clock) -> None:
    first = queue.enqueue("s", {"n": 1})
    clock.advance(1)
    second = queue.enqueue("s", {"n": 2})
    queue.mark_failed([first], "connection refused", next_attempt_at=T0 + 60)

    assert [tx.id for tx in queue.due_batch()] == [second]
    assert [tx.id for tx in queue.due_batch(now=T0 + 59.9)] == [second]
    assert [tx.id for tx in queue.due_batch(now=T0 + 60)] == [first, second]
    clock.advance(100)
    assert [tx.id for tx in queue.due_batch()] == [first, second]


def test_due_batch_only_returns_pending(queue: OfflineQueue) -> None:
    sent, rejected, pending = (queue.enqueue("s", {"n": n}) for n in range(3))
    queue.mark_sent([sent])
    queue.mark_rejected(rejected, "bad")
    assert [tx.id for tx in queue.due_batch()] == [pending]


@pytest.mark.parametrize("limit", [0, -1, 1.5, True, "10"])
def test_due_batch_rejects_bad_limit(queue: OfflineQueue, limit: object) -> None:
    with pytest.raises(ValueError):
        queue.due_batch(limit=limit)


def test_mark_sent(queue: OfflineQueue, clock) -> None:
    a, b = queue.enqueue("s", {}), queue.enqueue("s", {})
    clock.advance(30)

    assert queue.mark_sent([a, str(uuid.uuid4())]) == 1
    tx = queue.get(a)
    assert tx.state == "sent"
    assert tx.sent_at == "2026-11-24T09:30:30Z"
    assert queue.get(b).state == "pending"
    assert queue.mark_sent([a]) == 0  # a duplicate answer changes nothing


def test_mark_sent_refuses_a_bare_string(queue: OfflineQueue) -> None:
    tx_id = queue.enqueue("s", {})
    with pytest.raises(ValueError):
        queue.mark_sent(tx_id)


def test_mark_rejected_keeps_the_reason_and_never_resends(queue: OfflineQueue) -> None:
    tx_id = queue.enqueue("s", {})

    assert queue.mark_rejected(tx_id, "service closed") is True
    tx = queue.get(tx_id)
    assert (tx.state, tx.reason) == ("rejected", "service closed")
    assert queue.due_batch(now=T0 + 10**6) == []
    assert queue.mark_sent([tx_id]) == 0
    assert queue.mark_rejected(tx_id, "again") is False
    assert queue.get(tx_id).reason == "service closed"


def test_mark_failed_counts_attempts_and_schedules(queue: OfflineQueue) -> None:
    tx_id = queue.enqueue("s", {})

    assert queue.mark_failed([tx_id], "HTTP 503", next_attempt_at=T0 + 2) == 1
    assert queue.mark_failed([tx_id], "timeout", next_attempt_at=T0 + 6) == 1
    tx = queue.get(tx_id)
    assert (tx.state, tx.attempts, tx.last_error, tx.next_attempt_at) == (
        "pending", 2, "timeout", T0 + 6,
    )

    queue.mark_sent([tx_id])
    assert queue.mark_failed([tx_id], "late", next_attempt_at=T0) == 0
    tx = queue.get(tx_id)
    assert (tx.state, tx.attempts, tx.next_attempt_at) == ("sent", 2, None)


def test_mark_failed_truncates_long_errors(queue: OfflineQueue) -> None:
    tx_id = queue.enqueue("s", {})
    queue.mark_failed([tx_id], "x" * 100_000, next_attempt_at=T0)
    assert len(queue.get(tx_id).last_error) == 1024


def test_oldest_pending_age(queue: OfflineQueue, clock) -> None:
    assert queue.oldest_pending_age_s() is None
    first = queue.enqueue("s", {})
    clock.advance(300)
    queue.enqueue("s", {})
    clock.advance(120)

    assert queue.oldest_pending_age_s() == 420
    assert queue.oldest_pending_age_s(now=T0 + 10) == 10
    assert queue.oldest_pending_age_s(now=T0 - 5) == 0  # clock stepped back: never negative
    queue.mark_sent([first])
    assert queue.oldest_pending_age_s() == 120


def test_reopen_keeps_everything(db_path: Path, clock) -> None:
    with OfflineQueue(db_path, clock=clock) as q:
        kept = q.enqueue("hpf-withdraw", FIELDS, IDENTITY, menu_version=3)
        sent = q.enqueue("s", {})
        q.mark_sent([sent])
        q.mark_failed([kept], "timeout", next_attempt_at=T0 + 5)
        before = q.get(kept)

    with OfflineQueue(db_path, clock=clock) as q:
        assert q.get(kept) == before
        assert q.get(sent).state == "sent"
        assert q.counts() == {"pending": 1, "sent": 1, "rejected": 0}
        assert q.recovered_from is None


def test_open_creates_the_folder(tmp_path: Path) -> None:
    path = tmp_path / "a" / "b" / "queue.db"
    with OfflineQueue(str(path)) as q:
        q.enqueue("s", {})
    assert path.is_file()


@pytest.mark.parametrize(
    ("args", "kwargs"),
    [
        (("", {}), {}),
        (("   ", {}), {}),
        ((None, {}), {}),
        (("s", None), {}),
        (("s", ["phone"]), {}),
        (("s", {1: "x"}), {}),
        (("s", {"photo": b"\x00"}), {}),
        (("s", {"when": {1, 2}}), {}),
        (("s", {"x": float("nan")}), {}),
        (("s", {}), {"identity": "330106199001011234"}),
        (("s", {}), {"identity": {"raw": object()}}),
        (("s", {}), {"menu_version": "12"}),
        (("s", {}), {"menu_version": -1}),
        (("s", {}), {"menu_version": True}),
    ],
)
def test_enqueue_validates_arguments(queue: OfflineQueue, args: tuple, kwargs: dict) -> None:
    with pytest.raises(ValueError):
        queue.enqueue(*args, **kwargs)
    assert queue.counts()["pending"] == 0


def test_closed_queue_refuses_work(db_path: Path) -> None:
    q = OfflineQueue(db_path)
    q.close()
    q.close()  # harmless

    with pytest.raises(QueueWriteError):
        q.enqueue("s", {})
    with pytest.raises(QueueError):
        q.counts()


def test_durability_pragmas(queue: OfflineQueue) -> None:
    conn = queue._db.conn
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert conn.execute("PRAGMA synchronous").fetchone()[0] == 2  # FULL
    assert conn.execute("PRAGMA busy_timeout").fetchone()[0] >= 1000


def test_personal_data_never_reaches_the_log(
    queue: OfflineQueue, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    tx_id = queue.enqueue("hpf-withdraw", FIELDS, IDENTITY)
    queue.mark_failed([tx_id], "timeout", next_attempt_at=T0)
    queue.mark_rejected(tx_id, "bad id number")
    tx = queue.get(tx_id)
    with pytest.raises(ValueError) as bad:
        queue.enqueue("s", {"id_number": "330106199001011234", "blob": b"1"})

    assert tx_id in caplog.text
    for secret in ("330106199001011234", "张三", "13800000000", "文三路"):
        assert secret not in caplog.text
        assert secret not in repr(tx)
        assert secret not in str(bad.value)


def test_package_does_not_import_qt() -> None:
    code = (
        "import sys, offline_queue\n"
        "assert not [m for m in sys.modules if m.startswith('PySide6')]\n"
    )
    subprocess.run([sys.executable, "-c", code], cwd=REPO, check=True)


def test_retry_now_makes_held_back_transactions_due(tmp_path):
    from offline_queue import OfflineQueue

    with OfflineQueue(tmp_path / "q.db") as q:
        a = q.enqueue("svc", {"x": 1})
        b = q.enqueue("svc", {"x": 2})
        q.mark_failed([a], "HTTP 500", next_attempt_at=4102444800.0)  # year 2100
        assert [t.id for t in q.due_batch()] == [b]
        assert q.retry_now() == 1
        assert [t.id for t in q.due_batch()] == [a, b]
        assert q.get(a).attempts == 1
