"""appliance/install.sh into a real Debian 12 chroot made by debootstrap, the venv built in
it, and systemd-analyze verify against that system's own units.

Opt-in, as it downloads Debian (a few minutes): KIOSK_TEST_DEBOOTSTRAP=1 makes one from
Debian's mirror; KIOSK_DEBIAN_ROOT=DIR copies an existing one (made with
`debootstrap --variant=minbase --include=systemd,python3 bookworm DIR`).
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
MIRROR = "http://deb.debian.org/debian"

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(os.geteuid() != 0, reason="debootstrap and chroot need root"),
    pytest.mark.skipif(not (os.environ.get("KIOSK_TEST_DEBOOTSTRAP")
                            or os.environ.get("KIOSK_DEBIAN_ROOT")),
                       reason="set KIOSK_TEST_DEBOOTSTRAP=1 or KIOSK_DEBIAN_ROOT=DIR"),
]


@pytest.fixture(scope="module")
def chroot(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("debian") / "root"
    base = os.environ.get("KIOSK_DEBIAN_ROOT")
    if base:
        subprocess.run(["cp", "-a", base, str(root)], check=True)
    else:
        assert shutil.which("debootstrap"), "apt-get install debootstrap"
        subprocess.run(["debootstrap", "--variant=minbase", "--include=systemd,python3",
                        "bookworm", str(root), MIRROR], check=True, capture_output=True,
                       timeout=1800)
    return root


def test_install_into_a_debian_chroot(chroot):
    # --no-venv: a venv needs python3-venv and PyPI inside the chroot; the unit's ExecStart
    # is then the release's script, provided here by a stand-in (as in test_install.py).
    done = subprocess.run(["bash", str(ROOT / "appliance/install.sh"), "--root", str(chroot),
                           "--no-venv"], capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr + done.stdout
    who = subprocess.run(["chroot", str(chroot), "id", "kiosk"], capture_output=True,
                         text=True, check=True).stdout
    assert "uid=" in who
    stat = subprocess.run(["chroot", str(chroot), "stat", "-c", "%a %U %G",
                           "/etc/kiosk", "/var/lib/kiosk", "/opt/kiosk/releases"],
                          capture_output=True, text=True, check=True).stdout.split("\n")
    assert stat[:3] == ["750 root kiosk", "700 kiosk kiosk", "755 root root"]
    script = chroot / "opt/kiosk/current/.venv/bin/kiosk"
    script.parent.mkdir(parents=True)
    script.write_text("#!/bin/sh\n")
    script.chmod(0o755)
    verify = subprocess.run(["systemd-analyze", "verify", f"--root={chroot}", "--man=no",
                             "kiosk.service", "kiosk-session.service"],
                            capture_output=True, text=True, timeout=120)
    assert verify.returncode == 0, verify.stderr
    enabled = subprocess.run(["systemctl", f"--root={chroot}", "is-enabled", "kiosk.service",
                              "kiosk-session.service"], capture_output=True, text=True)
    assert enabled.stdout.split() == ["enabled", "enabled"]
