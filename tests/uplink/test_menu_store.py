"""The last known good menu on disk (uplink/menu_store.py): atomic replacement, what a start
picks, and processes killed at every step of a write."""

from __future__ import annotations

import copy
import json
import logging
import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from central.signing import generate_keypair, sign_menu
from contract import resources
from kiosk.central_link import load_running_menu, menu_store
from kiosk.config import load_config_file
from uplink.menu_store import (
    MENU_NAME,
    TEMP_PREFIX,
    MenuStore,
    MenuStoreError,
    schema_digest,
    write_atomic,
)

ROOT = Path(__file__).resolve().parents[2]
KEY_ID = "admin-2026"
PRIVATE, PUBLIC = generate_keypair()
KEYS = {KEY_ID: PUBLIC}
DEFAULT_DOC = json.loads(resources.default_menu_path().read_text("utf-8"))


def menu_doc(version: int, extra_service: str | None = None) -> dict:
    doc = copy.deepcopy(DEFAULT_DOC)
    doc["version"] = version
    if extra_service:
        svc = copy.deepcopy(doc["services"][0])
        svc["id"] = extra_service
        doc["services"].append(svc)
    return doc


def bundle(version: int, **kw) -> dict:
    return sign_menu(menu_doc(version, **kw), PRIVATE, KEY_ID)


def write_kiosk_config(tmp_path: Path, menu_file: Path | None = None, keys: dict = KEYS) -> Path:
    lines = ['[kiosk]', 'data_dir = "data"']
    if menu_file is not None:
        lines.append(f'menu_file = "{menu_file}"')
    lines.append("[central.menu_keys]")
    lines += [f'{k} = "{v}"' for k, v in keys.items()]
    path = tmp_path / "kiosk.toml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


@pytest.fixture
def store(tmp_path) -> MenuStore:
    return MenuStore(tmp_path / "data" / "menu")


# --- writing and reading ------------------------------------------------------------------


def test_save_then_read_keeps_the_bundle_and_its_etag(store):
    b = bundle(4)
    stored = store.save(b, '"v4-abc"')
    assert stored.version == 4
    again = store.read()
    assert again.bundle == b and again.etag == '"v4-abc"' and again.schema == schema_digest()
    assert again.stored_at.endswith("Z")
    assert store.load_menu(again, KEYS).version == 4
    assert sorted(p.name for p in store.folder.iterdir()) == [MENU_NAME]


def test_read_of_an_empty_folder_is_none(store):
    assert store.read() is None
    assert store.rejection() is None
    assert store.clean() == []


@pytest.mark.parametrize("content, message", [
    (b"", "not valid JSON"),
    (b'{"format": 1, "bundle": {"menu": {}', "not valid JSON"),
    (b"\xff\xfe garbage", "not valid JSON"),
    (b"[1, 2]", "not a stored menu bundle"),
    (b'{"format": 2, "bundle": {}, "etag": null, "schema": "x", "stored_at": "x"}',
     "not a stored menu bundle"),
    (b'{"format": 1, "bundle": [], "etag": null, "schema": "x", "stored_at": "x"}',
     "not a stored menu bundle"),
    (b"[" * 100_000, "not valid JSON"),
])
def test_a_damaged_file_is_an_error_not_a_crash(store, content, message):
    store.folder.mkdir(parents=True)
    store.menu_path.write_bytes(content)
    with pytest.raises(MenuStoreError, match=message):
        store.read()


def test_an_oversized_file_is_not_read(store):
    store.folder.mkdir(parents=True)
    with store.menu_path.open("wb") as f:
        f.truncate(3 * 1024 * 1024)
    with pytest.raises(MenuStoreError, match="over the size limit"):
        store.read()


def test_a_failed_write_leaves_the_old_file_and_no_temporary_file(store, monkeypatch):
    store.save(bundle(4), '"v4"')
    real_write = os.write

    def failing_write(fd, data):
        real_write(fd, bytes(data[:100]))
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "write", failing_write)
    with pytest.raises(OSError, match="No space"):
        store.save(bundle(5), '"v5"')
    monkeypatch.undo()
    assert store.read().version == 4
    assert sorted(p.name for p in store.folder.iterdir()) == [MENU_NAME]


def test_clean_removes_only_unfinished_writes(store):
    store.save(bundle(4), None)
    stray = store.folder / f"{TEMP_PREFIX}{MENU_NAME}.123.abcd"
    stray.write_bytes(b'{"half a')
    assert store.clean() == [stray]
    assert not stray.exists() and store.read().version == 4


def test_write_atomic_replaces_content(tmp_path):
    path = tmp_path / "f.json"
    write_atomic(path, b"one")
    write_atomic(path, b"two")
    assert path.read_bytes() == b"two"
    assert [p.name for p in tmp_path.iterdir()] == ["f.json"]


# --- verifying again -------------------------------------------------------------------


def test_a_tampered_stored_menu_does_not_verify(store):
    b = bundle(4)
    b["menu"]["services"][0]["title"]["zh_CN"] = "改过的"
    stored = store.save(b, None)
    with pytest.raises(MenuStoreError, match="bad signature: signature does not verify"):
        store.load_menu(stored, KEYS)


def test_a_key_no_longer_trusted_is_refused(store):
    stored = store.save(bundle(4), None)
    with pytest.raises(MenuStoreError, match="unknown key id"):
        store.load_menu(stored, {"admin-2027": PUBLIC})


def test_schema_runs_again_when_the_software_changed_it(store):
    doc = menu_doc(4)
    doc["services"][0]["colour"] = "red"  # the rules do not look at unknown keys; the schema does
    stored = store.save(sign_menu(doc, PRIVATE, KEY_ID), None)
    # Stamped with this software's schema: only the rules run at start (the updater checks
    # the schema before it stores; this test stored the bundle directly).
    assert store.load_menu(stored, KEYS).version == 4
    older_software = type(stored)(stored.bundle, None, "another-schema", stored.stored_at)
    with pytest.raises(MenuStoreError, match="invalid document: .*colour"):
        store.load_menu(older_software, KEYS)


def test_a_signed_document_of_the_wrong_shape_is_refused_not_a_crash(store):
    stored = store.save(sign_menu({"version": 9}, PRIVATE, KEY_ID), None)
    with pytest.raises(MenuStoreError, match="invalid document"):
        store.load_menu(stored, KEYS)


# --- the rejection -----------------------------------------------------------------------


def test_rejection_is_kept_across_instances_and_cleared(store):
    saved = store.set_rejection(7, "bad signature: signature does not verify")
    again = MenuStore(store.folder).rejection()
    assert again == saved and again["version"] == 7 and again["at"].endswith("Z")
    store.clear_rejection()
    assert MenuStore(store.folder).rejection() is None
    store.clear_rejection()  # nothing to clear is fine


@pytest.mark.parametrize("content", [b"{", b"[]", b'{"version": "7", "reason": "x", "at": "t"}',
                                     b'{"version": 7, "at": "t"}'])
def test_a_damaged_rejection_file_counts_as_none(store, content, caplog):
    store.folder.mkdir(parents=True)
    store.rejection_path.write_bytes(content)
    with caplog.at_level(logging.WARNING, logger="uplink.menu_store"):
        assert store.rejection() is None
    assert caplog.records


# --- the menu a start picks ----------------------------------------------------------------


def test_start_without_a_stored_menu_uses_the_default(tmp_path):
    config = load_config_file(write_kiosk_config(tmp_path))
    assert load_running_menu(config).version == DEFAULT_DOC["version"]


def test_start_uses_a_newer_stored_menu(tmp_path):
    config = load_config_file(write_kiosk_config(tmp_path))
    menu_store(config).save(bundle(5, extra_service="new-subsidy"), '"v5"')
    menu = load_running_menu(config)
    assert menu.version == 5 and menu.service("new-subsidy") is not None


def test_a_newer_menu_file_wins_over_an_older_stored_menu(tmp_path):
    menu_file = tmp_path / "local.json"
    menu_file.write_text(json.dumps(menu_doc(8)), encoding="utf-8")
    config = load_config_file(write_kiosk_config(tmp_path, menu_file=menu_file))
    menu_store(config).save(bundle(5), None)
    assert load_running_menu(config).version == 8
    menu_store(config).save(bundle(9), None)
    assert load_running_menu(config).version == 9


@pytest.mark.parametrize("damage", ["garbage", "tampered", "key removed", "truncated"])
def test_a_stored_menu_that_cannot_be_used_falls_back_and_is_logged(tmp_path, damage, caplog):
    keys = {"other": generate_keypair()[1]} if damage == "key removed" else KEYS
    config = load_config_file(write_kiosk_config(tmp_path, keys=keys))
    store = menu_store(config)
    store.save(bundle(5), None)
    raw = store.menu_path.read_bytes()
    if damage == "garbage":
        store.menu_path.write_bytes(b"\x00" * 512)
    elif damage == "tampered":
        store.menu_path.write_bytes(raw.replace(b'"version":5', b'"version":6'))
    elif damage == "truncated":
        store.menu_path.write_bytes(raw[: len(raw) // 2])
    with caplog.at_level(logging.ERROR, logger="uplink.menu_store"):
        assert load_running_menu(config).version == DEFAULT_DOC["version"]
    assert any("stored menu" in r.getMessage() for r in caplog.records)


# --- killed at every step of a write -------------------------------------------------------

KILL_CHILD = textwrap.dedent("""\
    import json, os, signal, sys
    from pathlib import Path
    from uplink.menu_store import MenuStore

    folder, step, bundle_path = Path(sys.argv[1]), sys.argv[2], Path(sys.argv[3])
    bundle = json.loads(bundle_path.read_text("utf-8"))
    real_write, real_fsync, real_replace = os.write, os.fsync, os.replace
    fsyncs = []

    def die():
        os.kill(os.getpid(), signal.SIGKILL)

    def write(fd, data):
        if step == "mid-write":
            real_write(fd, bytes(data[: len(data) // 2]))
            die()
        return real_write(fd, data)

    def fsync(fd):
        fsyncs.append(fd)
        if step == "after-write" and len(fsyncs) == 1:
            die()  # the temporary file is written, not yet flushed
        if step == "after-rename" and len(fsyncs) == 2:
            die()  # renamed over the old file, the folder not yet flushed
        real_fsync(fd)
        if step == "after-dir-fsync" and len(fsyncs) == 2:
            die()  # everything done, the caller not yet told

    def replace(src, dst):
        if step == "after-fsync":
            die()  # the temporary file is flushed, not yet renamed
        real_replace(src, dst)

    os.write, os.fsync, os.replace = write, fsync, replace
    MenuStore(folder).save(bundle, '"v6"')
    print("finished")
""")

STEPS = {"mid-write": 5, "after-write": 5, "after-fsync": 5, "after-rename": 6,
         "after-dir-fsync": 6}


@pytest.mark.parametrize("step", STEPS)
@pytest.mark.parametrize("first_store", [False, True], ids=["over-v5", "first-ever"])
def test_killed_at_each_step_of_the_write_leaves_old_or_new(tmp_path, step, first_store):
    config = load_config_file(write_kiosk_config(tmp_path))
    store = menu_store(config)
    if first_store:
        store.folder.mkdir(parents=True)
    else:
        store.save(bundle(5), '"v5"')
    new = tmp_path / "new.json"
    new.write_text(json.dumps(bundle(6, extra_service="new-subsidy")), encoding="utf-8")
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.run([sys.executable, "-c", KILL_CHILD, str(store.folder), step, str(new)],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)
    assert proc.returncode == -signal.SIGKILL, proc.stderr
    assert "finished" not in proc.stdout

    expected = STEPS[step]
    if first_store and expected == 5:
        assert store.read() is None  # nothing was ever stored: the default menu runs
        expected = DEFAULT_DOC["version"]
    else:
        stored = store.read()  # never a broken file
        assert stored.version == expected
        assert store.load_menu(stored, KEYS).version == expected
    # The next start works and runs the old or the new menu, whole.
    menu = load_running_menu(config)
    assert menu.version == expected
    assert (menu.service("new-subsidy") is not None) == (expected == 6)
    # Leftovers of the cut are removed, and the next write succeeds.
    store.clean()
    assert not [p for p in store.folder.iterdir() if p.name.startswith(TEMP_PREFIX)]
    store.save(bundle(7), '"v7"')
    assert load_running_menu(config).version == 7
