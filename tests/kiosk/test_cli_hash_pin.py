"""`kiosk diag hash-pin` through a real pseudo-terminal (no echo, asked twice) and a pipe."""

from __future__ import annotations

import fcntl
import os
import re
import select
import subprocess
import sys
import termios
import time
from pathlib import Path

from kiosk.technician.pin import verify_pin

ROOT = Path(__file__).resolve().parents[2]
LINE = re.compile(r'^pin_hash = "(scrypt\$[^"]+)"$')
ENV = {**os.environ, "PYTHONPATH": str(ROOT)}
CMD = [sys.executable, "-m", "kiosk", "diag", "hash-pin"]


def _make_controlling_tty() -> None:
    fcntl.ioctl(0, termios.TIOCSCTTY, 0)  # getpass talks to /dev/tty: let it be our pty


class Terminal:
    """The command on a pty that is its controlling terminal, as in a technician's shell."""

    def __init__(self):
        self.master, slave = os.openpty()
        self.proc = subprocess.Popen(CMD, stdin=slave, stdout=slave, stderr=slave, env=ENV,
                                     start_new_session=True, preexec_fn=_make_controlling_tty)
        os.close(slave)
        self.seen = b""

    def read_until(self, text: bytes, timeout: float = 20) -> None:
        deadline = time.monotonic() + timeout
        while text not in self.seen:
            assert time.monotonic() < deadline, self.seen
            if select.select([self.master], [], [], 0.2)[0]:
                try:
                    chunk = os.read(self.master, 4096)
                except OSError:  # EIO: the command closed the terminal
                    chunk = b""
                if not chunk:
                    raise AssertionError(f"ended before {text!r}: {self.seen!r}")
                self.seen += chunk

    def type(self, text: str) -> None:
        os.write(self.master, text.encode())

    def finish(self) -> tuple[int, str]:
        code = self.proc.wait(timeout=30)
        while select.select([self.master], [], [], 0.1)[0]:
            try:
                chunk = os.read(self.master, 4096)
            except OSError:
                break
            if not chunk:
                break
            self.seen += chunk
        os.close(self.master)
        return code, self.seen.decode("utf-8", "replace")


def test_terminal_asks_twice_without_echo_and_prints_the_toml_line():
    term = Terminal()
    term.read_until(b"PIN (6-12 digits): ")
    term.type("24680135\n")
    term.read_until(b"again: ")
    term.type("24680135\n")
    code, output = term.finish()
    assert code == 0, output
    lines = [line.strip() for line in output.splitlines() if line.strip()]
    hash_lines = [m.group(1) for line in lines if (m := LINE.match(line))]
    assert len(hash_lines) == 1 and verify_pin("24680135", hash_lines[0])
    others = "\n".join(line for line in lines if not LINE.match(line))
    assert "24680135" not in others  # never echoed


def test_terminal_with_two_different_pins_makes_nothing():
    term = Terminal()
    term.read_until(b"PIN (6-12 digits): ")
    term.type("123456\n")
    term.read_until(b"again: ")
    term.type("123465\n")
    code, output = term.finish()
    assert code == 1
    assert "the two PINs differ" in output and "pin_hash" not in output
    assert "123456" not in output and "123465" not in output


def test_terminal_refuses_a_short_pin_before_asking_again():
    term = Terminal()
    term.read_until(b"PIN (6-12 digits): ")
    term.type("123\n")
    code, output = term.finish()
    assert code == 1 and "6 to 12 digits" in output and "again" not in output


def pipe(text: str) -> subprocess.CompletedProcess:
    return subprocess.run(CMD, input=text, env=ENV, capture_output=True, text=True, timeout=60)


def test_pipe_reads_one_line_once():
    result = pipe("975313\n")
    assert result.returncode == 0, result.stderr
    match = LINE.match(result.stdout.strip())
    assert match and verify_pin("975313", match.group(1))
    assert result.stderr == ""


def test_pipe_refuses_what_is_not_6_to_12_digits():
    for text in ("12a456\n", "\n", "", "1234567890123\n", " 123456\n", "1234\n", "12345\n"):
        result = pipe(text)
        assert result.returncode == 1, text
        assert result.stdout == ""
        assert result.stderr.strip().splitlines() == [
            "kiosk: a PIN is 6 to 12 digits (0-9); no hash was made"]
