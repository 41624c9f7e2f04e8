"""``kiosk-central``: serve as a real subprocess, keygen's key file, stats, one-line errors."""

from __future__ import annotations

import json
import os
import re
import signal
import stat
import subprocess
import sys

import pytest
import requests
from central_helpers import K1, K2, KIOSKS, ROOT, headers, heartbeat_body, make_tx, post_batch

from central.cli import main
from central.signing import sign_menu, verify_bundle

ENV = {**os.environ, "PYTHONPATH": str(ROOT)}


def _kiosks_toml(path):
    lines = []
    for kiosk, entry in KIOSKS.items():
        lines += [f"[kiosks.{kiosk}]", f'token = "{entry["token"]}"',
                  f'group = "{entry["group"]}"', ""]
    path.write_text("\n".join(lines), "utf-8")
    path.chmod(0o600)
    return path


def _cli(*args: str, timeout: float = 30) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "central", *args], cwd=ROOT, env=ENV,
                          capture_output=True, text=True, timeout=timeout)


def test_serve_answers_and_stops_on_sigterm(tmp_path, menu_file):
    key = tmp_path / "admin-2026.key"
    keygen = _cli("keygen", "--out", str(key))
    assert keygen.returncode == 0, keygen.stderr
    key_id, public = re.fullmatch(r'(\S+) = "(\S+)"\n', keygen.stdout).groups()
    proc = subprocess.Popen(
        [sys.executable, "-m", "central", "serve", "--db", str(tmp_path / "c.db"),
         "--port", "0", "--kiosks", str(_kiosks_toml(tmp_path / "kiosks.toml")),
         "--menu", str(menu_file), "--signing-key", str(key), "--key-id", key_id],
        cwd=ROOT, env=ENV, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        line = proc.stdout.readline()
        url = re.search(r"listening on (http://127\.0\.0\.1:\d+)", line).group(1)
        r = requests.post(f"{url}/api/v1/kiosks/{K1}/heartbeat", json=heartbeat_body(K1),
                          headers=headers(K1), timeout=10)
        assert r.status_code == 204
        assert post_batch(url, [make_tx()]).json()["results"][0]["status"] == "accepted"
        bundle = requests.get(f"{url}/api/v1/kiosks/{K1}/menu", headers=headers(K1),
                              timeout=10).json()
        assert verify_bundle(bundle, {key_id: public})["version"] == 1
    finally:
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=10)
    assert proc.returncode == 0, err
    assert "Traceback" not in err
    assert KIOSKS[K1]["token"] not in err and "13800000000" not in err  # no secrets, no data

    stats = _cli("stats", "--db", str(tmp_path / "c.db"), "--json")
    assert stats.returncode == 0, stats.stderr
    (row,) = json.loads(stats.stdout)["kiosks"]
    assert row["kiosk_id"] == K1 and row["transactions"] == 1
    assert 0 <= row["last_heartbeat_age_s"] < 60


def test_keygen_writes_a_0600_key_and_refuses_to_overwrite(tmp_path, capsys):
    out = tmp_path / "keys" / "k.key"
    out.parent.mkdir()
    assert main(["keygen", "--out", str(out), "--key-id", "admin-2027"]) == 0
    assert stat.S_IMODE(out.stat().st_mode) == 0o600
    line = capsys.readouterr().out
    key_id, public = re.fullmatch(r'(\S+) = "(\S+)"\n', line).groups()
    assert key_id == "admin-2027"
    bundle = sign_menu({"version": 1}, out.read_text().strip(), key_id)
    assert verify_bundle(bundle, {key_id: public}) == {"version": 1}

    assert main(["keygen", "--out", str(out)]) == 2
    assert "exists" in capsys.readouterr().err
    out.chmod(0o644)
    assert main(["keygen", "--out", str(out), "--force"]) == 0
    assert stat.S_IMODE(out.stat().st_mode) == 0o600

    assert main(["pubkey", "--signing-key", str(out)]) == 0
    assert capsys.readouterr().out.startswith('k = "')


def test_stats_table_lists_kiosks_never_heard_from(tmp_path, capsys):
    from central.store import CentralStore
    from central.wire import check_transaction

    db = tmp_path / "c.db"
    with CentralStore.open(db) as store:
        store.add_transactions(K1, [check_transaction(make_tx()) for _ in range(3)])
    assert main(["stats", "--db", str(db), "--kiosks",
                 str(_kiosks_toml(tmp_path / "kiosks.toml"))]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].split() == ["kiosk", "group", "transactions", "last", "transaction", "last",
                              "heartbeat"]
    assert out[1].split()[:3] == [K1, "hangzhou", "3"] and out[1].endswith("never")
    assert out[2].split() == [K2, "hangzhou", "0", "never", "never"]


@pytest.mark.parametrize("args, message", [
    (["stats", "--db", "{tmp}/missing.db"], "no such database"),
    (["serve", "--db", "{tmp}/c.db", "--kiosks", "{tmp}/none.toml"], "cannot read"),
    (["serve", "--db", "{tmp}/c.db", "--kiosks", "{tmp}/bad.toml"], "not valid TOML"),
    (["serve", "--db", "{tmp}/c.db", "--kiosks", "{tmp}/kiosks.toml", "--menu", "m.json"],
     "--menu needs --signing-key and --key-id"),
    (["pubkey", "--signing-key", "{tmp}/bad.toml"], "not valid base64"),
    (["serve", "--db", "{tmp}/c.db", "--kiosks", "{tmp}/kiosks.toml", "--command-expiry",
      "-1"], "--command-expiry: expected seconds >= 0"),
    (["serve", "--db", "{tmp}/c.db", "--kiosks", "{tmp}/kiosks.toml", "--upload-max-age",
      "-5"], "--upload-max-age: expected seconds >= 0"),
])
def test_errors_are_one_line_without_traceback(tmp_path, capsys, args, message):
    (tmp_path / "bad.toml").write_text("[kiosks\n", "utf-8")
    _kiosks_toml(tmp_path / "kiosks.toml")
    code = main([a.replace("{tmp}", str(tmp_path)) for a in args])
    err = capsys.readouterr().err
    assert code == 2
    assert message in err and err.count("\n") == 1 and "Traceback" not in err


def test_command_expiry_defaults_to_an_hour_and_0_keeps_commands(tmp_path):
    from central.cli import _central, _parser

    base = ["serve", "--db", str(tmp_path / "c.db"), "--kiosks",
            str(_kiosks_toml(tmp_path / "kiosks.toml"))]
    assert _central(_parser().parse_args(base)).command_expiry_s == 3600
    assert _central(_parser().parse_args([*base, "--command-expiry", "600"])
                    ).command_expiry_s == 600
    assert _central(_parser().parse_args([*base, "--command-expiry", "0"])
                    ).command_expiry_s is None


def test_a_port_in_use_is_one_line(tmp_path, capsys):
    import socket

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        code = main(["serve", "--db", str(tmp_path / "c.db"), "--port", str(port),
                     "--kiosks", str(_kiosks_toml(tmp_path / "kiosks.toml"))])
    assert code == 2
    assert "cannot listen" in capsys.readouterr().err
