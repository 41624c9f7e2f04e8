"""Slots built from a copy of the running slot (only changed wheels installed, nothing left
from the old slot, a clean build when the copy cannot be trusted) and the wheel cache kept
to the running and previous slots, with real venvs and real ``pip --no-index``."""

from __future__ import annotations

import base64
import hashlib
import json
import logging
import shutil
import subprocess
import zipfile
from pathlib import Path

import pytest

from updater import slots
from updater.cache import previous_slot, prune_cache
from updater.layout import Layout
from updater.slot_copy import SEED, installed
from updater.slots import build_slot, read_record


def _dists(venv: Path) -> set[tuple[str, str]]:
    """The venv's own distributions, without what ``python -m venv`` seeds."""
    return {(n, v) for n, v in installed(venv) if n not in SEED}


def _wheel(cache: Path, name: str, version: str, requires: tuple[str, ...] = (),
           script: bool = False) -> dict:
    """A tiny pure-Python wheel put into the cache; its manifest entry."""
    mod = name.replace("-", "_")
    filename = f"{mod}-{version}-py3-none-any.whl"
    info = f"{mod}-{version}.dist-info"
    files = {f"{mod}/__init__.py": f"VERSION = {version!r}\n",
             f"{info}/METADATA": "Metadata-Version: 2.1\n" f"Name: {name}\nVersion: {version}\n"
             + "".join(f"Requires-Dist: {r}\n" for r in requires),
             f"{info}/WHEEL": "Wheel-Version: 1.0\nGenerator: test\nRoot-Is-Purelib: true\n"
             "Tag: py3-none-any\n"}
    if script:
        files[f"{info}/entry_points.txt"] = f"[console_scripts]\n{mod}-tool = {mod}:VERSION\n"
    record = "".join(f"{p},sha256={_b64(t.encode())},{len(t.encode())}\n"
                     for p, t in files.items()) + f"{info}/RECORD,,\n"
    tmp = cache.parent / filename
    with zipfile.ZipFile(tmp, "w") as z:
        for p, t in {**files, f"{info}/RECORD": record}.items():
            z.writestr(p, t)
    data = tmp.read_bytes()
    sha = hashlib.sha256(data).hexdigest()
    tmp.rename(cache / sha)
    return {"name": filename, "size": len(data), "sha256": sha}


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()


def _manifest(version: str, wheels: list[dict]) -> dict:
    return {"version": version, "project": "village-kiosk", "min_from": "0", "notes": "",
            "wheels": wheels}


def _layout(tmp_path) -> Layout:
    layout = Layout(tmp_path / "updates")
    layout.prepare()
    return layout


@pytest.fixture(scope="module")
def running(tmp_path_factory):
    """One layout whose running slot 0.2.0 was built clean (the slow part, done once)."""
    layout = _layout(tmp_path_factory.mktemp("slots"))
    dep_a = _wheel(layout.cache, "dep-a", "1.0")
    dep_b = _wheel(layout.cache, "dep-b", "1.0")
    old = _manifest("0.2.0", [_wheel(layout.cache, "village-kiosk", "0.2.0",
                                     ("dep-a==1.0", "dep-b==1.0"), script=True), dep_a, dep_b])
    build_slot(layout, old)  # nothing runs from a slot yet: clean
    return layout, dep_a


def test_a_new_slot_is_a_copy_of_the_running_one_with_only_the_changed_wheels(
        running, caplog):
    layout, dep_a = running
    assert [w["name"] for w in read_record(layout.slot("0.2.0"))] == [
        "village_kiosk-0.2.0-py3-none-any.whl", "dep_a-1.0-py3-none-any.whl",
        "dep_b-1.0-py3-none-any.whl"]
    dep_c = _wheel(layout.cache, "dep-c", "2.0")
    new = _manifest("0.3.0", [_wheel(layout.cache, "village-kiosk", "0.3.0",
                                     ("dep-a==1.0", "dep-c==2.0"), script=True), dep_a, dep_c])
    caplog.set_level(logging.INFO, "updater")
    slot = build_slot(layout, new, running="0.2.0")
    assert "slot 0.3.0 built (copy)" in caplog.text
    assert "1 wheels kept, 2 removed, 2 installed" in caplog.text  # dep-a kept
    venv = slot / "venv"
    assert _dists(venv) == {
        ("village-kiosk", "0.3.0"), ("dep-a", "1.0"), ("dep-c", "2.0")}  # no dep-b left
    script = (venv / "bin" / "village_kiosk-tool").read_text()
    assert script.startswith(f"#!{venv}/bin/python\n")  # the final path, not the copy's
    assert ".tmp" not in (venv / "pyvenv.cfg").read_text()
    assert "0.2.0" not in (venv / "pyvenv.cfg").read_text()
    run = subprocess.run([str(venv / "bin" / "python"), "-c",
                          "import sys, village_kiosk, dep_c; print(sys.prefix, "
                          "village_kiosk.VERSION)"], capture_output=True, text=True)
    assert run.stdout.split() == [str(venv), "0.3.0"], run.stderr
    assert read_record(slot) == new["wheels"]
    # The running slot was only read.
    assert {("village-kiosk", "0.2.0"), ("dep-b", "1.0")} <= _dists(
        layout.slot("0.2.0") / "venv")
    assert not list(layout.slots.glob(".*"))


@pytest.mark.parametrize("damage", ["running slot broken", "manifest beyond closure"])
def test_a_copy_that_cannot_be_trusted_falls_back_to_a_clean_build(
        running, tmp_path, monkeypatch, damage):
    layout, dep_a = running
    wheels = [_wheel(layout.cache, "village-kiosk", "0.3.1", ("dep-a==1.0",)), dep_a]
    if damage == "running slot broken":  # a record, but no venv that can be copied
        layout = _layout(tmp_path)
        shutil.copy(running[0].slot("0.2.0") / "wheels.json", layout.slot("0.2.0").parent)
        layout.slot("0.2.0").mkdir()
        shutil.move(layout.slots / "wheels.json", layout.slot("0.2.0") / "wheels.json")
        (layout.slot("0.2.0") / "venv").mkdir()
    else:  # a wheel nothing requires: a copy would not hold it, so it is not the manifest
        wheels.append(_wheel(layout.cache, "dep-z", "1.0"))
    for w in wheels:
        if not (layout.cache / w["sha256"]).exists():
            shutil.copy(running[0].cache / w["sha256"], layout.cache / w["sha256"])
    calls = []

    def clean(tmp, *_args):
        calls.append(tmp)
        raise _CleanBuild()

    monkeypatch.setattr(slots, "_clean_build", clean)
    with pytest.raises(_CleanBuild):
        build_slot(layout, _manifest("0.3.1", wheels), running="0.2.0")
    assert calls == [layout.slots / ".0.3.1.tmp"]
    assert not (layout.slots / ".0.3.1.tmp").exists() and not layout.slot("0.3.1").exists()


class _CleanBuild(Exception):
    """Raised by the stand-in clean build: the copy was given up."""


def test_the_cache_keeps_the_running_and_previous_slots_wheels_and_downloads(tmp_path):
    layout = _layout(tmp_path)
    shas = {}
    for version in ("0.1.0", "0.2.0", "0.3.0"):
        shas[version] = _wheel(layout.cache, "village-kiosk", version)
        (layout.slot(version)).mkdir(parents=True)
        (layout.slot(version) / "wheels.json").write_text(json.dumps([shas[version]]))
    preparing = _wheel(layout.cache, "village-kiosk", "0.4.0")
    (layout.cache / ("f" * 64 + ".part")).write_bytes(b"half")
    removed = prune_cache(layout, ("0.3.0", "0.2.0"), {preparing["sha256"]})
    assert removed == 1
    assert sorted(p.name for p in layout.cache.iterdir()) == sorted(
        [shas["0.2.0"]["sha256"], shas["0.3.0"]["sha256"], preparing["sha256"],
         "f" * 64 + ".part"])


def test_the_previous_slot_is_the_newest_older_one_not_refused(tmp_path):
    layout = _layout(tmp_path)
    for version in ("0.1.0", "0.2.0", "0.3.0", "0.4.0"):
        python = layout.python(version)
        python.parent.mkdir(parents=True)
        python.touch()
    (layout.slots / ".0.5.0.tmp").mkdir()  # being built: never a previous slot
    assert previous_slot(layout, "0.4.0", refused=()) == "0.3.0"
    assert previous_slot(layout, "0.4.0", refused={"0.3.0"}) == "0.2.0"  # rolled back
    assert previous_slot(layout, "0.1.0", refused=()) is None
