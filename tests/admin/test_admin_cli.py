"""``kiosk-admin`` as a real subprocess: keygen's key file, validate, diff, sign, and publish
to a ``kiosk-central serve`` subprocess with admins and trusted keys."""

from __future__ import annotations

import copy
import json
import os
import re
import signal
import stat
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from contract.signing import public_key_b64, read_private_key, verify_bundle

ROOT = Path(__file__).resolve().parents[2]
ENV = {**os.environ, "PYTHONPATH": str(ROOT)}
ENV.pop("KIOSK_ADMIN_TOKEN", None)
ADMIN_TOKEN = "alice-admin-token-0123456789"
KIOSKS = {"ZJ-HZ-0001": ("tok-hz-0001-0123456789", "hangzhou"),
          "ZJ-NB-0001": ("tok-nb-0001-0123456789", "ningbo")}


def admin(*args: str, timeout: float = 30) -> subprocess.CompletedProcess:
    run = subprocess.run([sys.executable, "-m", "admin", *args], cwd=ROOT, env=ENV,
                         capture_output=True, text=True, timeout=timeout)
    assert "Traceback" not in run.stderr, run.stderr
    return run


@pytest.fixture(scope="module")
def menu_doc() -> dict:
    return json.loads((ROOT / "config" / "menu.default.json").read_text("utf-8"))


def _write(path: Path, doc) -> Path:
    path.write_text(json.dumps(doc, ensure_ascii=False, indent=1), "utf-8")
    return path


@pytest.fixture(scope="module")
def key(tmp_path_factory) -> tuple[Path, str]:
    """A key made by ``kiosk-admin keygen``: its file and the printed config line."""
    out = tmp_path_factory.mktemp("keys") / "admin-2026.key"
    run = admin("keygen", "--out", str(out))
    assert run.returncode == 0, run.stderr
    return out, run.stdout


def test_keygen_writes_a_0600_key_and_the_config_line(key, tmp_path):
    path, line = key
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    key_id, public = re.fullmatch(r'(\S+) = "(\S+)"\n', line).groups()
    assert key_id == "admin-2026"
    assert public == public_key_b64(read_private_key(path))

    before = path.read_bytes()
    again = admin("keygen", "--out", str(path))
    assert again.returncode == 2 and "exists; use --force" in again.stderr
    assert path.read_bytes() == before  # never over an existing key

    loose = tmp_path / "k.key"
    loose.write_text("old")
    loose.chmod(0o644)
    forced = admin("keygen", "--out", str(loose), "--key-id", "admin-2027", "--force")
    assert forced.returncode == 0 and forced.stdout.startswith('admin-2027 = "')
    assert stat.S_IMODE(loose.stat().st_mode) == 0o600 and loose.read_text() != "old"


def test_validate(tmp_path, menu_doc):
    ok = admin("menu", "validate", str(ROOT / "config" / "menu.default.json"))
    assert ok.returncode == 0
    assert "valid menu, version 1, 8 categories, 33 services" in ok.stdout

    bad = copy.deepcopy(menu_doc)
    bad["surprise"] = 1
    bad["services"][1]["fields"] = [{"id": "x", "type": "telephone",
                                     "label": {"zh_CN": "电话", "en": "Phone"}}]
    bad["services"][2]["category"] = "nowhere"
    run = admin("menu", "validate", str(_write(tmp_path / "bad.json", bad)))
    assert run.returncode == 1
    lines = run.stdout.splitlines()
    assert any(line.endswith("bad.json: $: unknown key ('surprise' was unexpected)")
               for line in lines)
    assert any("$.services[1].fields[0].type: 'telephone' is not one of" in line
               for line in lines)
    assert "not a valid menu (2 problems)" in run.stderr  # schema first, then the rules

    rules = copy.deepcopy(menu_doc)
    rules["services"][2]["category"] = "nowhere"
    run = admin("menu", "validate", str(_write(tmp_path / "rules.json", rules)))
    assert run.returncode == 1
    assert "$.services[2].category: 'nowhere' names no category" in run.stdout

    broken = tmp_path / "broken.json"
    broken.write_text('{"version": 1,\n  "locales": [,]}')
    run = admin("menu", "validate", str(broken))
    assert run.returncode == 1 and "$: not valid JSON (" in run.stdout
    assert "line 2 column" in run.stdout

    dup = tmp_path / "dup.json"
    dup.write_text(json.dumps(menu_doc).replace('"enabled": true', '"enabled": true, '
                                                '"enabled": false', 1))
    run = admin("menu", "validate", str(dup))
    assert run.returncode == 1
    assert "$.services[0]: key 'enabled' is given more than once" in run.stdout

    missing = admin("menu", "validate", str(tmp_path / "nope.json"))
    assert missing.returncode == 2 and "cannot read" in missing.stderr


def test_diff_exit_codes(tmp_path, menu_doc):
    old = _write(tmp_path / "old.json", menu_doc)
    same = admin("menu", "diff", str(old), str(old))
    assert same.returncode == 0 and same.stdout == "no differences\n"
    newer = copy.deepcopy(menu_doc)
    newer["version"] = 2
    newer["services"][0]["enabled"] = False
    new = _write(tmp_path / "new.json", newer)
    run = admin("menu", "diff", str(old), str(new))
    assert run.returncode == 1
    assert "version: 1 -> 2" in run.stdout and "enabled: true -> false" in run.stdout
    as_json = admin("menu", "diff", str(old), str(new), "--json")
    assert as_json.returncode == 1
    assert json.loads(as_json.stdout)["services"]["changed"][0]["changes"] == [
        {"what": "enabled", "old": True, "new": False}]
    invalid = _write(tmp_path / "invalid.json", {"version": 3})
    run = admin("menu", "diff", str(old), str(invalid))
    assert run.returncode == 2 and "not a valid menu" in run.stderr


def test_sign(key, tmp_path, menu_doc):
    path, line = key
    key_id, public = re.fullmatch(r'(\S+) = "(\S+)"\n', line).groups()
    src = _write(tmp_path / "menu.json", {**menu_doc, "version": 5})
    out = tmp_path / "bundle.json"
    run = admin("menu", "sign", str(src), "--key", str(path), "--out", str(out))
    assert run.returncode == 0, run.stderr
    bundle = json.loads(out.read_text("utf-8"))
    assert bundle["key_id"] == key_id
    assert verify_bundle(bundle, {key_id: public})["version"] == 5

    to_stdout = admin("menu", "sign", str(src), "--key", str(path), "--key-id", "other")
    assert to_stdout.returncode == 0 and json.loads(to_stdout.stdout)["key_id"] == "other"
    assert admin("menu", "validate", str(out)).stdout.endswith(
        "valid signed bundle, version 5, 8 categories, 33 services (32 enabled)\n")

    invalid = _write(tmp_path / "invalid.json", {**menu_doc, "version": 0})
    refused = admin("menu", "sign", str(invalid), "--key", str(path), "--out",
                    str(tmp_path / "never.json"))
    assert refused.returncode == 1 and "$.version" in refused.stderr
    assert "nothing signed" in refused.stderr and not (tmp_path / "never.json").exists()

    bad_key = tmp_path / "bad.key"
    bad_key.write_text("not a key")
    run = admin("menu", "sign", str(src), "--key", str(bad_key))
    assert run.returncode == 2 and "bad.key" in run.stderr and run.stdout == ""


# -- against a live central ----------------------------------------------------------------


@pytest.fixture(scope="module")
def central(tmp_path_factory, key) -> Iterator[str]:
    """``kiosk-central serve`` with admins and the keygen key trusted; its URL."""
    folder = tmp_path_factory.mktemp("central")
    kiosks = folder / "kiosks.toml"
    kiosks.write_text("".join(f'[kiosks.{k}]\ntoken = "{t}"\ngroup = "{g}"\n'
                              for k, (t, g) in KIOSKS.items()))
    admins = folder / "admins.toml"
    admins.write_text(f'[admins.alice]\ntoken = "{ADMIN_TOKEN}"\n')
    keys = folder / "keys.toml"
    keys.write_text("[menu_keys]\n" + key[1])  # keygen's line, pasted as is
    for path in (kiosks, admins):
        path.chmod(0o600)
    proc = subprocess.Popen(
        [sys.executable, "-m", "central", "serve", "--db", str(folder / "c.db"), "--port", "0",
         "--kiosks", str(kiosks), "--admins", str(admins), "--menu-keys", str(keys)],
        cwd=ROOT, env=ENV, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        url = re.search(r"listening on (http://\S+)", proc.stdout.readline()).group(1)
        assert f"fleet page for admins at {url}/admin/fleet" in proc.stdout.readline()
        yield url
    finally:
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=10)
    assert proc.returncode == 0, err
    assert ADMIN_TOKEN not in err and "Traceback" not in err


def _kiosk_menu(url: str, kiosk: str) -> dict:
    token = KIOSKS[kiosk][0]
    r = requests.get(f"{url}/api/v1/kiosks/{kiosk}/menu", timeout=10,
                     headers={"Authorization": f"Bearer {token}", "X-Kiosk-Id": kiosk})
    assert r.status_code == 200
    return r.json()


def _bundle(tmp_path: Path, key: tuple[Path, str], doc: dict, version: int) -> Path:
    src = _write(tmp_path / f"menu-{version}.json", {**doc, "version": version})
    out = tmp_path / f"bundle-{version}.json"
    assert admin("menu", "sign", str(src), "--key", str(key[0]), "--out",
                 str(out)).returncode == 0
    return out


def test_publish_and_versions(central, key, tmp_path, menu_doc):
    v2, v3 = _bundle(tmp_path, key, menu_doc, 2), _bundle(tmp_path, key, menu_doc, 3)
    run = admin("menu", "publish", str(v2), "--central", central, "--token", ADMIN_TOKEN)
    assert run.returncode == 0, run.stderr
    assert run.stdout.startswith("published menu version 2 for all kiosks")
    assert "2 kiosks get it: ZJ-HZ-0001, ZJ-NB-0001" in run.stdout

    token_file = tmp_path / "token"
    token_file.write_text(ADMIN_TOKEN + "\n")
    run = admin("menu", "publish", str(v3), "--central", central + "/", "--token-file",
                str(token_file), "--group", "hangzhou")
    assert run.returncode == 0, run.stderr
    assert "for group hangzhou" in run.stdout and "1 kiosk get it: ZJ-HZ-0001" in run.stdout
    assert _kiosk_menu(central, "ZJ-HZ-0001")["menu"]["version"] == 3
    assert _kiosk_menu(central, "ZJ-NB-0001")["menu"]["version"] == 2

    again = admin("menu", "publish", str(v3), "--central", central, "--token", ADMIN_TOKEN,
                  "--group", "hangzhou")
    assert again.returncode == 1
    assert again.stderr.startswith("kiosk-admin: the central answered 409: version 3 is not "
                                   "greater than version 3")
    assert len(again.stderr.splitlines()) == 1

    versions = admin("menu", "versions", "--central", central, "--token", ADMIN_TOKEN)
    assert versions.returncode == 0
    rows = versions.stdout.splitlines()
    assert rows[0].split() == ["id", "version", "for", "key", "admin", "published", "(UTC)"]
    assert re.match(r"2\s+3\s+group hangzhou\s+admin-2026\s+alice\s+\S+Z\s+newest", rows[1])
    assert re.match(r"1\s+2\s+all kiosks\s+admin-2026\s+alice\s+\S+Z\s+newest", rows[2])
    as_json = admin("menu", "versions", "--central", central, "--token", ADMIN_TOKEN, "--json")
    assert [m["version"] for m in json.loads(as_json.stdout)["menus"]] == [3, 2]


def test_publish_refusals(central, key, tmp_path, menu_doc):
    v9 = _bundle(tmp_path, key, menu_doc, 9)
    cases = [
        (("--token", KIOSKS["ZJ-HZ-0001"][0]), 1, "403: a kiosk token cannot be used"),
        (("--token", "wrong-token-0123456789"), 1, "401: missing or unknown admin token"),
        (("--token", ADMIN_TOKEN, "--kiosk", "ZJ-XX-0001"), 1, "404: no kiosk 'ZJ-XX-0001'"),
        (("--token", ADMIN_TOKEN, "--group", "a", "--kiosk", "b"), 2, "not allowed with"),
        ((), 2, "no admin token"),
    ]
    for extra, code, message in cases:
        run = admin("menu", "publish", str(v9), "--central", central, *extra)
        assert run.returncode == code, (extra, run.stderr)
        assert message in run.stderr

    tampered = json.loads(v9.read_text("utf-8"))
    tampered["menu"]["services"][0]["enabled"] = False
    forged = _write(tmp_path / "forged.json", tampered)
    run = admin("menu", "publish", str(forged), "--central", central, "--token", ADMIN_TOKEN)
    assert run.returncode == 1 and "403: signature:" in run.stderr

    menu_only = _write(tmp_path / "plain.json", menu_doc)
    run = admin("menu", "publish", str(menu_only), "--central", central, "--token", ADMIN_TOKEN)
    assert run.returncode == 2 and "not a signed bundle" in run.stderr

    run = admin("menu", "publish", str(v9), "--central", "http://127.0.0.1:9", "--token",
                ADMIN_TOKEN)
    assert run.returncode == 2 and "cannot reach http://127.0.0.1:9" in run.stderr
    assert len(run.stderr.splitlines()) == 1
    run = admin("menu", "publish", str(v9), "--central", "ftp://x", "--token", ADMIN_TOKEN)
    assert run.returncode == 2 and "expected an http:// or https:// URL" in run.stderr


def _beat(url: str, kiosk: str, **extra) -> requests.Response:
    token = KIOSKS[kiosk][0]
    body = {"kiosk_id": kiosk, "time": "2026-11-24T09:31:00Z", **extra}
    return requests.post(f"{url}/api/v1/kiosks/{kiosk}/heartbeat", json=body, timeout=10,
                         headers={"Authorization": f"Bearer {token}", "X-Kiosk-Id": kiosk})


def test_command_send_show_and_save_a_screenshot(central, tmp_path):
    auth = ("--central", central, "--token", ADMIN_TOKEN)
    sent = admin("command", "send", "screenshot", "--group", "hangzhou", *auth, "--json")
    assert sent.returncode == 0, sent.stderr
    (made,) = json.loads(sent.stdout)["commands"]
    assert (made["kiosk_id"], made["status"]) == ("ZJ-HZ-0001", "pending")
    # the kiosk's side: the next heartbeat carries it, the file goes up, the next reports it
    (command,) = _beat(central, "ZJ-HZ-0001").json()["commands"]
    token = KIOSKS["ZJ-HZ-0001"][0]
    up = requests.post(central + command["args"]["upload_path"], data=b"\x89PNG fake",
                       headers={"Authorization": f"Bearer {token}", "X-Kiosk-Id": "ZJ-HZ-0001",
                                "Content-Type": "image/png"}, timeout=10)
    assert up.status_code == 201
    _beat(central, "ZJ-HZ-0001", command_results=[
        {"id": made["id"], "status": "done", "detail": "1080x1920"}])
    out = tmp_path / "shot.png"
    shown = admin("command", "show", made["id"], "--out", str(out), *auth)
    assert shown.returncode == 0, shown.stderr
    assert "done (1080x1920)" in shown.stdout and out.read_bytes() == b"\x89PNG fake"
    listed = admin("command", "list", "--kiosk", "ZJ-HZ-0001", *auth)
    assert made["id"] in listed.stdout
    waited = admin("command", "send", "restart", "--kiosk", "ZJ-NB-0001", "--wait", "0", *auth)
    assert waited.returncode == 1 and "pending" in waited.stdout  # no kiosk answered yet
    nobody = admin("command", "send", "restart", "--kiosk", "ZJ-XX-0009", *auth)
    assert nobody.returncode == 1 and "404" in nobody.stderr
