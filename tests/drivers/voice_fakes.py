"""Stand-ins for aplay (and a counting espeak-ng) on PATH, so the voice is tested without a
sound card."""

from __future__ import annotations

import shutil
import stat
from pathlib import Path

import pytest

needs_espeak = pytest.mark.skipif(shutil.which("espeak-ng") is None,
                                  reason="espeak-ng is not installed (dev.sh installs it)")

# Logs its arguments; reads a piped WAV to its end; exits 0.
PLAYER_OK = """#!/bin/sh
echo "$@" >> "{log}"
if [ "$4" = "-" ]; then cat > /dev/null; fi
exit 0
"""
# Logs its pid, then plays "for a minute".
PLAYER_SLOW = """#!/bin/sh
echo $$ >> "{log}"
exec sleep 60
"""
# As aplay says it on a machine without a sound card.
PLAYER_NO_DEVICE = """#!/bin/sh
echo "ALSA lib pcm.c:2666:(snd_pcm_open_noupdate) Unknown PCM default" >&2
echo "aplay: main:831: audio open error: No such file or directory" >&2
exit 1
"""
# Counts its runs, then is the real espeak-ng.
ESPEAK_COUNTING = """#!/bin/sh
echo run >> "{log}"
exec "{real}" "$@"
"""


def install(bin_dir: Path, name: str, script: str, **fmt: str) -> Path:
    bin_dir.mkdir(parents=True, exist_ok=True)
    path = bin_dir / name
    path.write_text(script.format(**fmt))
    path.chmod(path.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
    return path


def counting_espeak(bin_dir: Path, log: Path) -> Path:
    return install(bin_dir, "espeak-ng", ESPEAK_COUNTING, log=str(log),
                   real=shutil.which("espeak-ng") or "espeak-ng")


def lines(path: Path) -> list[str]:
    return path.read_text().splitlines() if path.exists() else []
