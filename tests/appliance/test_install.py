"""appliance/install.sh into a throwaway root, and systemd-analyze verify on every unit.

The throwaway root is a folder holding what the script and systemd-analyze read from a
Debian 12 system: the account files and this machine's systemd units (targets, getty@,
systemd-user-sessions). The release's virtualenv is pip's work (``--no-venv`` here); a
stand-in for its ``kiosk`` script lets systemd-analyze check the unit's ExecStart path.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
INSTALL = ROOT / "appliance" / "install.sh"
UNITS = ("kiosk.service", "kiosk-session.service")

pytestmark = [
    pytest.mark.skipif(os.geteuid() != 0, reason="install.sh runs as root"),
    pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="needs systemd"),
]


def _base_root(root: Path) -> Path:
    etc = root / "etc"
    etc.mkdir(parents=True)
    (etc / "passwd").write_text("root:x:0:0:root:/root:/bin/bash\n")
    (etc / "group").write_text("root:x:0:\naudio:x:29:\nvideo:x:44:\ninput:x:105:\n"
                               "render:x:106:\n")
    (etc / "shadow").write_text("root:*:19000:0:99999:7:::\n")
    (etc / "gshadow").write_text("root:*::\naudio:*::\nvideo:*::\ninput:*::\nrender:*::\n")
    for name in ("shadow", "gshadow"):
        (etc / name).chmod(0o640)
    (root / "usr" / "lib" / "systemd").mkdir(parents=True)
    shutil.copytree("/usr/lib/systemd/system", root / "usr/lib/systemd/system", symlinks=True)
    (root / "usr" / "bin").mkdir(parents=True, exist_ok=True)
    shutil.copy2("/usr/bin/env", root / "usr/bin/env")
    return root


def _install(root: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(["bash", str(INSTALL), "--root", str(root), "--no-venv", *args],
                          capture_output=True, text=True, timeout=120)


def _ids(root: Path, name: str) -> tuple[int, int]:
    for line in (root / "etc/passwd").read_text().splitlines():
        fields = line.split(":")
        if fields[0] == name:
            return int(fields[2]), int(fields[3])
    raise AssertionError(f"no user {name}")


@pytest.fixture(scope="module")
def installed(tmp_path_factory) -> Path:
    root = _base_root(tmp_path_factory.mktemp("throwaway") / "root")
    done = _install(root)
    assert done.returncode == 0, done.stderr + done.stdout
    # The stand-in for the venv's console script (see the module's docstring).
    script = root / "opt/kiosk/current/.venv/bin/kiosk"
    script.parent.mkdir(parents=True)
    script.write_text("#!/bin/sh\n")
    script.chmod(0o755)
    return root


def test_user_and_folders(installed):
    root = installed
    passwd = (root / "etc/passwd").read_text()
    line = next(x for x in passwd.splitlines() if x.startswith("kiosk:"))
    assert line.endswith(":/var/lib/kiosk:/usr/sbin/nologin")
    uid, gid = _ids(root, "kiosk")
    assert 0 < uid < 1000  # a system user
    for group in ("video", "input", "render", "audio"):
        members = next(x for x in (root / "etc/group").read_text().splitlines()
                       if x.startswith(group + ":"))
        assert "kiosk" in members.split(":")[3].split(",")
    expected = {"etc/kiosk": (0o750, 0, gid), "var/lib/kiosk": (0o700, uid, gid),
                "opt/kiosk/releases": (0o755, 0, 0)}
    for path, (mode, owner, group) in expected.items():
        st = (root / path).stat()
        assert (st.st_mode & 0o7777, st.st_uid, st.st_gid) == (mode, owner, group), path
    cfg = (root / "etc/kiosk/kiosk.toml").stat()
    assert (cfg.st_mode & 0o777, cfg.st_gid) == (0o640, gid)


def test_release_units_rules_and_session(installed):
    root = installed
    current = root / "opt/kiosk/current"
    assert current.is_symlink() and os.readlink(current).startswith("releases/")
    assert (current / "kiosk" / "app.py").is_file()
    for unit in UNITS:
        assert (root / "etc/systemd/system" / unit).read_text() == \
            (ROOT / "appliance" / unit).read_text()
    wants = root / "etc/systemd/system/graphical.target.wants"
    assert {p.name for p in wants.iterdir()} >= set(UNITS)
    assert os.readlink(root / "etc/systemd/system/getty@tty1.service") == "/dev/null"
    assert os.readlink(root / "etc/systemd/system/default.target").endswith("graphical.target")
    assert "kiosk-printer" in (root / "etc/udev/rules.d/70-kiosk-devices.rules").read_text()
    assert "pam_systemd.so" in (root / "etc/pam.d/kiosk-autologin").read_text()
    assert "kiosk-shell.so" in (root / "etc/kiosk/weston.ini").read_text()


def test_systemd_analyze_verifies_every_unit(installed):
    done = subprocess.run(["systemd-analyze", "verify", f"--root={installed}", "--man=no",
                           *UNITS], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0 and done.stderr == "", done.stderr


def test_the_kiosk_unit_is_supervised_and_sandboxed():
    text = (ROOT / "appliance" / "kiosk.service").read_text()
    for line in ("Type=notify", "WatchdogSec=", "Restart=always", "StartLimitAction=reboot",
                 "StartLimitBurst=", "StartLimitIntervalSec=", "ProtectSystem=strict",
                 "ProtectHome=yes", "PrivateTmp=yes", "NoNewPrivileges=yes",
                 "ReadWritePaths=/var/lib/kiosk\n", "DevicePolicy=closed",
                 "LoadCredentialEncrypted=queue-key:/etc/kiosk/queue-key.cred"):
        assert line in text, line
    assert text.count("ReadWritePaths=") == 1


def test_a_second_install_keeps_the_configuration(tmp_path):
    root = _base_root(tmp_path / "root")
    assert _install(root).returncode == 0
    cfg = root / "etc/kiosk/kiosk.toml"
    cfg.write_text('[kiosk]\nid = "ZJ-HZ-0042"\n')
    done = _install(root)
    assert done.returncode == 0, done.stderr
    assert 'ZJ-HZ-0042' in cfg.read_text()
    users = [x for x in (root / "etc/passwd").read_text().splitlines() if x.startswith("kiosk:")]
    assert len(users) == 1


def test_vsmartcard_is_refused(tmp_path):
    root = _base_root(tmp_path / "root")
    done = _install(root, "--packages", "vsmartcard-vpcd")
    assert done.returncode == 3 and "test" in done.stderr
    assert not (root / "etc/kiosk").exists()  # refused before anything was installed
    status = root / "var/lib/dpkg/status"
    status.parent.mkdir(parents=True)
    status.write_text("Package: vsmartcard-vpcd\nStatus: install ok installed\n\n")
    done = _install(root)
    assert done.returncode == 3 and "purge" in done.stderr


def test_updates_run_the_kiosk_under_the_guard(tmp_path):
    root = _base_root(tmp_path / "root")
    done = _install(root, "--updates")
    assert done.returncode == 0, done.stderr + done.stdout
    drop_in = root / "etc/systemd/system/kiosk.service.d/update-guard.conf"
    assert (drop_in.stat().st_mode & 0o777) == 0o644
    assert "-m updater.guard" in drop_in.read_text()
    assert "[updates] enabled = true" in done.stdout
    python = root / "opt/kiosk/current/.venv/bin/python"  # stand-in, as in ``installed``
    python.parent.mkdir(parents=True)
    python.write_text("#!/bin/sh\n")
    python.chmod(0o755)
    verify = subprocess.run(["systemd-analyze", "verify", f"--root={root}", "--man=no",
                             *UNITS], capture_output=True, text=True, timeout=120)
    assert verify.returncode == 0 and verify.stderr == "", verify.stderr
    plain = _base_root(tmp_path / "plain")
    assert _install(plain).returncode == 0
    assert not (plain / "etc/systemd/system/kiosk.service.d").exists()
