"""Deciding about fetched menus (uplink/menu_poller.py): every rejection keeps the running
menu and is reported; only a verified, valid, newer menu is stored and handed over. The
client is a fake here; tests/e2e/test_menu_e2e.py runs the same over real HTTP."""

from __future__ import annotations

import copy
import json
import logging
import threading
from pathlib import Path

import pytest
from requests.structures import CaseInsensitiveDict

from central.signing import generate_keypair, sign_menu
from contract import resources
from uplink.client import ClientResponse, TokenError, TransportError
from uplink.menu_poller import (
    MAX_MENU_BYTES,
    MenuPoller,
    MenuUpdater,
    Result,
)
from uplink.menu_store import MENU_NAME, TEMP_PREFIX, MenuStore
from uplink.status_board import StatusBoard

KEY_ID = "admin-2026"
PRIVATE, PUBLIC = generate_keypair()
OTHER_PRIVATE, _ = generate_keypair()
KEYS = {KEY_ID: PUBLIC, "admin-2025": "not a key"}
DEFAULT_DOC = json.loads(resources.default_menu_path().read_text("utf-8"))
RUNNING = 3


def menu_doc(version: int) -> dict:
    doc = copy.deepcopy(DEFAULT_DOC)
    doc["version"] = version
    return doc


def body_of(bundle) -> bytes:
    return json.dumps(bundle, ensure_ascii=False).encode("utf-8")


def ok(body: bytes, etag: str | None = '"e1"', truncated: bool = False) -> ClientResponse:
    headers = CaseInsensitiveDict({"ETag": etag} if etag else {})
    return ClientResponse(200, headers, body, truncated)


class FakeClient:
    """Answers queued by the test, in order; records the If-None-Match it was given."""

    def __init__(self, *answers):
        self.answers = list(answers)
        self.etags: list[str | None] = []
        self.closed = False
        self.called = threading.Event()

    def get_menu(self, etag):
        self.etags.append(etag)
        self.called.set()
        answer = self.answers.pop(0) if self.answers else ClientResponse(304)
        if isinstance(answer, Exception):
            raise answer
        return answer

    def close(self):
        self.closed = True


@pytest.fixture
def store(tmp_path) -> MenuStore:
    return MenuStore(tmp_path / "menu")


@pytest.fixture
def board() -> StatusBoard:
    return StatusBoard(RUNNING)


def updater(store, board, *answers, handed=None) -> MenuUpdater:
    return MenuUpdater(FakeClient(*answers), store, board, KEYS, RUNNING,
                       on_menu=None if handed is None else handed.append)


def rejected(board) -> dict | None:
    return board.snapshot()[2]


# --- applying ------------------------------------------------------------------------------


def test_a_newer_signed_menu_is_stored_and_handed_over(store, board, caplog):
    handed = []
    bundle = sign_menu(menu_doc(4), PRIVATE, KEY_ID)
    up = updater(store, board, ok(body_of(bundle), '"v4"'), handed=handed)
    with caplog.at_level(logging.INFO, logger="uplink.menu_poller"):
        outcome = up.check()
    assert outcome.result == Result.APPLIED and outcome.version == 4
    assert [m.version for m in handed] == [4]
    assert up.running_version == 4
    stored = store.read()
    assert stored.bundle == bundle and stored.etag == '"v4"'
    assert board.snapshot()[1:] == (4, None)
    assert "menu version 4 verified" in caplog.text
    up.check()  # the next poll asks with the new ETag
    assert up.client.etags == [None, '"v4"']


def test_304_changes_nothing(store, board):
    handed = []
    up = updater(store, board, ClientResponse(304), handed=handed)
    up.etag = '"e0"'
    assert up.check().result == Result.UNCHANGED
    assert up.client.etags == ['"e0"']
    assert handed == [] and store.read() is None and board.snapshot()[1:] == (RUNNING, None)


def test_an_apply_clears_the_last_rejection(store, board):
    bad = sign_menu(menu_doc(4), OTHER_PRIVATE, KEY_ID)
    good = sign_menu(menu_doc(5), PRIVATE, KEY_ID)
    up = updater(store, board, ok(body_of(bad), '"bad"'), ok(body_of(good), '"good"'))
    assert up.check().result == Result.REJECTED
    assert rejected(board)["version"] == 4 and store.rejection()["version"] == 4
    assert up.check().result == Result.APPLIED
    assert rejected(board) is None and store.rejection() is None
    assert board.snapshot()[1] == 5


# --- rejections ----------------------------------------------------------------------------


def _tampered() -> dict:
    b = sign_menu(menu_doc(4), PRIVATE, KEY_ID)
    b["menu"]["services"][0]["title"]["en"] = "Something else"
    return b


def _invalid_signed() -> dict:
    doc = menu_doc(4)
    doc["services"][0]["category"] = "no-such-category"
    return sign_menu(doc, PRIVATE, KEY_ID)


def _schema_invalid_signed() -> dict:
    doc = menu_doc(4)
    doc["services"][0]["colour"] = "red"
    return sign_menu(doc, PRIVATE, KEY_ID)


REJECTIONS = {
    "bad signature": (lambda: body_of(_tampered()), 4, "bad signature: signature does not "
                                                       "verify with key 'admin-2026'"),
    "signed by another key": (lambda: body_of(sign_menu(menu_doc(4), OTHER_PRIVATE, KEY_ID)),
                              4, "bad signature"),
    "unknown key id": (lambda: body_of(sign_menu(menu_doc(4), PRIVATE, "admin-1999")), 4,
                       "unknown key id: key 'admin-1999' is not a trusted key"),
    "unusable trusted key": (lambda: body_of(sign_menu(menu_doc(4), PRIVATE, "admin-2025")), 4,
                             "unusable trusted key"),
    "invalid document (rules)": (lambda: body_of(_invalid_signed()), 4,
                                 "invalid document: $.services[0].category"),
    "invalid document (schema)": (lambda: body_of(_schema_invalid_signed()), 4,
                                  "invalid document: $.services[0]: unknown key"),
    "older version": (lambda: body_of(sign_menu(menu_doc(2), PRIVATE, KEY_ID)), 2,
                      "not newer: version 2 is not greater than the running version 3"),
    "equal version": (lambda: body_of(sign_menu(menu_doc(RUNNING), PRIVATE, KEY_ID)), RUNNING,
                      "not newer"),
    "not JSON": (lambda: b"<html>gateway says hello</html>", None, "not JSON"),
    "not UTF-8": (lambda: b'{"menu": "\xff"}', None, "not JSON"),
    "empty body": (lambda: b"", None, "not JSON: the answer is empty"),
    "deeply nested": (lambda: b"[" * 200_000, None, "not JSON"),
    "JSON but not a bundle": (lambda: b"[1, 2, 3]", None, "not a bundle"),
    "bundle without signature": (lambda: body_of({"menu": menu_doc(4), "key_id": KEY_ID}), 4,
                                 "not a bundle: the bundle has no signature"),
    "signature not base64": (lambda: body_of({**sign_menu(menu_doc(4), PRIVATE, KEY_ID),
                                             "signature": "%%%"}), 4, "bad signature"),
}


@pytest.mark.parametrize("case", REJECTIONS)
def test_every_rejection_keeps_the_running_menu_and_is_reported(store, board, case, caplog):
    make_body, version, reason = REJECTIONS[case]
    handed = []
    up = updater(store, board, ok(make_body(), '"bad"'), handed=handed)
    with caplog.at_level(logging.WARNING, logger="uplink.menu_poller"):
        outcome = up.check()
    assert outcome.result == Result.REJECTED
    assert outcome.reason.startswith(reason)
    assert handed == [] and up.running_version == RUNNING and store.read() is None
    assert board.snapshot()[1] == RUNNING
    assert rejected(board) == {"version": version, "reason": outcome.reason}
    assert set(rejected(board)) == {"version", "reason"}  # as the heartbeat spec shows it
    kept = store.rejection()
    assert (kept["version"], kept["reason"]) == (version, outcome.reason)
    lines = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert len(lines) == 1 and "rejected" in lines[0] and outcome.reason in lines[0]
    assert len(outcome.reason) <= 300


@pytest.mark.parametrize("size, truncated", [(MAX_MENU_BYTES + 1, False),
                                             (MAX_MENU_BYTES + 1, True)])
def test_over_2_mib_is_rejected(store, board, size, truncated):
    up = updater(store, board, ok(b" " * size, truncated=truncated))
    outcome = up.check()
    assert outcome.result == Result.REJECTED and outcome.reason.startswith("over 2 MiB")
    assert rejected(board)["version"] is None


def test_exactly_2_mib_is_read(store, board):
    body = body_of(sign_menu(menu_doc(4), PRIVATE, KEY_ID))
    body += b" " * (MAX_MENU_BYTES - len(body))  # JSON allows trailing white space
    assert len(body) == MAX_MENU_BYTES
    assert updater(store, board, ok(body)).check().result == Result.APPLIED


def test_a_rejected_bundle_is_not_fetched_again_until_it_changes(store, board):
    up = updater(store, board, ok(body_of(_tampered()), '"bad"'), ClientResponse(304))
    up.check()
    assert up.check().result == Result.UNCHANGED
    assert up.client.etags == [None, '"bad"']
    assert rejected(board)["version"] == 4  # still the last fetched menu, still rejected


# --- failures that are not rejections ------------------------------------------------------


@pytest.mark.parametrize("answer", [
    TransportError("connection refused"),
    TokenError("token file /x does not exist"),
    ClientResponse(401, body=b'{"error": "missing or unknown bearer token"}'),
    ClientResponse(404, body=b'{"error": "no menu is published"}'),
    ClientResponse(503, body=b"{}"),
], ids=["refused", "token", "401", "404", "503"])
def test_network_and_http_failures_are_not_rejections(store, board, answer, caplog):
    store.set_rejection(9, "bad signature: earlier")
    board.set_menu(RUNNING, {"version": 9, "reason": "bad signature: earlier"})
    up = updater(store, board, answer)
    with caplog.at_level(logging.INFO, logger="uplink.menu_poller"):
        outcome = up.check()
    assert outcome.result == Result.FAILED
    (record,) = [r for r in caplog.records if "trying again at the next poll" in r.message]
    # A central with no menu for the kiosk yet is a normal state, not worth a warning a poll.
    assert record.levelno == (logging.INFO if "404" in record.message else logging.WARNING)
    assert rejected(board)["version"] == 9 and store.rejection()["version"] == 9
    assert store.read() is None and up.etag is None


def test_a_menu_that_cannot_be_stored_is_not_applied(tmp_path, board):
    (tmp_path / "menu").write_text("a file where the folder should be")
    handed = []
    up = updater(MenuStore(tmp_path / "menu"), board,
                 ok(body_of(sign_menu(menu_doc(4), PRIVATE, KEY_ID))), handed=handed)
    outcome = up.check()
    assert outcome.result == Result.FAILED and "cannot store" in outcome.reason
    assert handed == [] and up.running_version == RUNNING and up.etag is None
    assert rejected(board) is None


def test_a_failing_handover_is_logged_not_raised(store, board, caplog):
    def boom(menu):
        raise RuntimeError("GUI gone")

    up = MenuUpdater(FakeClient(ok(body_of(sign_menu(menu_doc(4), PRIVATE, KEY_ID)))), store,
                     board, KEYS, RUNNING, on_menu=boom)
    assert up.check().result == Result.APPLIED
    assert "handing over menu version 4 failed" in caplog.text


# --- what a restart remembers --------------------------------------------------------------


def test_prepare_restores_the_rejection_and_the_stored_etag(store, board):
    store.save(sign_menu(menu_doc(RUNNING), PRIVATE, KEY_ID), '"v3"')
    store.set_rejection(4, "bad signature: signature does not verify with key 'admin-2026'")
    stray = store.folder / f"{TEMP_PREFIX}{MENU_NAME}.1.x"
    stray.write_text("{")
    up = updater(store, board)
    up.prepare()
    assert not stray.exists()
    assert rejected(board) == {"version": 4, "reason": "bad signature: signature does not "
                                                       "verify with key 'admin-2026'"}
    assert up.etag == '"v3"'


def test_prepare_ignores_the_stored_etag_of_a_menu_that_does_not_run(store, board):
    store.save(sign_menu(menu_doc(2), PRIVATE, KEY_ID), '"v2"')  # older than the running 3
    up = updater(store, board)
    up.prepare()
    assert up.etag is None


def test_304_for_the_running_stored_menu_clears_a_stale_rejection(store, board):
    # A cut after the new bundle was stored but before the old rejection was removed.
    store.save(sign_menu(menu_doc(RUNNING), PRIVATE, KEY_ID), '"v3"')
    store.set_rejection(2, "not newer: version 2 is not greater than the running version 1")
    up = updater(store, board, ClientResponse(304))
    up.prepare()
    assert rejected(board)["version"] == 2
    assert up.check().result == Result.UNCHANGED
    assert rejected(board) is None and store.rejection() is None


# --- the poller thread ---------------------------------------------------------------------


def test_poller_checks_at_start_on_wake_and_stops(store, board):
    handed = []
    client = FakeClient(ClientResponse(304),
                        ok(body_of(sign_menu(menu_doc(4), PRIVATE, KEY_ID)), '"v4"'))
    up = MenuUpdater(client, store, board, KEYS, RUNNING, on_menu=handed.append)
    poller = MenuPoller(up, poll_s=3600)
    poller.start()
    try:
        assert client.called.wait(5)  # the first check comes at once
        client.called.clear()
        poller.wake()
        assert client.called.wait(5)
    finally:
        assert poller.stop(5)
    assert client.closed
    assert [m.version for m in handed] == [4]
    assert client.etags[:2] == [None, None]


def test_poller_survives_an_unexpected_error(store, board, caplog):
    class Exploding(FakeClient):
        def get_menu(self, etag):
            super().get_menu(etag)
            raise RuntimeError("bug")

    client = Exploding()
    poller = MenuPoller(MenuUpdater(client, store, board, KEYS, RUNNING), poll_s=3600)
    poller.start()
    try:
        assert client.called.wait(5)
        client.called.clear()
        poller.wake()
        assert client.called.wait(5)  # still polling
    finally:
        assert poller.stop(5)
    assert "menu check failed" in caplog.text


def test_poll_interval_must_be_positive(store, board):
    with pytest.raises(ValueError):
        MenuPoller(updater(store, board), poll_s=0)


def test_make_poller_reads_menus_up_to_2_mib(tmp_path):
    from kiosk.central_link import make_poller
    from kiosk.config import load_config_file

    cfg = tmp_path / "kiosk.toml"
    cfg.write_text('[kiosk]\ndata_dir = "data"\n[central]\nurl = "http://127.0.0.1:9"\n'
                   'menu_poll_s = 7\n[central.menu_keys]\n'
                   f'{KEY_ID} = "{PUBLIC}"\n', encoding="utf-8")
    poller = make_poller(load_config_file(cfg), StatusBoard(1), 1)
    assert poller.poll_s == 7
    assert poller.updater.client.max_body_bytes == MAX_MENU_BYTES + 1
    assert poller.updater.store.folder == Path(tmp_path / "data" / "menu")
    assert poller.updater.public_keys == {KEY_ID: PUBLIC}
    poller.updater.close()


# --- the fast schema check never lets through what jsonschema refuses -----------------------


def _small_doc() -> dict:
    """The shipped menu cut to one service per field type, and their categories."""
    doc = copy.deepcopy(DEFAULT_DOC)
    keep, seen = [], set()
    for svc in doc["services"]:
        types = {f["type"] for f in svc.get("fields", [])} - seen
        if types or not keep:
            keep.append(svc)
            seen |= types
    doc["services"] = keep
    used = {s["category"] for s in keep}
    doc["categories"] = [c for c in doc["categories"] if c["id"] in used]
    return doc


def _mutations(node, path=()):
    """(path, mutate) pairs: every key removed, an unknown key added, every value replaced
    by values of other types and by edge cases."""
    odd = [None, True, 0, -1, 1.5, 10**20, "", " ", "abc\n", "ABC", "a" * 49, [], {}, ["x"]]
    if isinstance(node, dict):
        yield path, lambda n: n.__setitem__("unknown_key", 1)
        for key, value in node.items():
            yield path, lambda n, k=key: n.pop(k)
            for v in odd:
                yield path, lambda n, k=key, v=v: n.__setitem__(k, copy.deepcopy(v))
            yield from _mutations(value, (*path, key))
    elif isinstance(node, list) and node:
        yield path, lambda n: n.append(copy.deepcopy(n[0]))
        for v in odd[:4]:
            yield path, lambda n, v=v: n.__setitem__(0, v)
        yield from _mutations(node[0], (*path, 0))


def test_the_fast_schema_check_is_never_more_lenient_than_jsonschema():
    from contract import menu as menu_mod

    fast, slow = menu_mod._fast_validator(), menu_mod._validator()
    assert fast is not None, "jsonschema-rs is a dependency (pyproject.toml)"
    base = _small_doc()
    assert fast.is_valid(base) and slow.is_valid(base)
    checked = refused = 0
    for path, mutate in _mutations(base):
        doc = copy.deepcopy(base)
        target = doc
        for step in path:
            target = target[step]
        mutate(target)
        slow_ok, fast_ok = slow.is_valid(doc), menu_mod._schema_valid(doc)
        if fast_ok:
            assert slow_ok, f"jsonschema-rs accepted what jsonschema refuses at {path}"
        if not (slow_ok and fast_ok):
            # Where they differ (a final newline, which "$" lets through in jsonschema) the
            # rules still refuse the document.
            assert menu_mod.validate(doc), f"a document refused by a validator passed at {path}"
        refused += not slow_ok
        checked += 1
    assert checked > 600 and refused > 300, (checked, refused)


@pytest.mark.parametrize("where", ["categories", "services", "fields", "choices"])
def test_an_id_with_a_final_newline_is_refused(where):
    from contract import menu as menu_mod

    doc = _small_doc()
    svc = next(s for s in doc["services"] if any(f.get("choices") for f in s["fields"]))
    fld = next(f for f in svc["fields"] if f.get("choices"))
    target = {"categories": doc["categories"][0], "services": svc, "fields": fld,
              "choices": fld["choices"][0]}[where]
    target["id"] += "\n"
    assert any("is not a valid id" in p for p in menu_mod.validate(doc))
