"""The TOML configuration (kiosk-interfaces.md "Configuration"): lookup, defaults, errors."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from kiosk import config as config_mod
from kiosk.config import ConfigError, demo_config, find_config_path, load_config

REPO = Path(__file__).resolve().parents[2]

SPEC_EXAMPLE = """\
[kiosk]
id = "ZJ-HZ-0001"
locale = "zh_CN"          # default UI language; "en" is also shipped
idle_timeout_s = 60       # no touch for this long: back to the home screen, session data wiped
data_dir = "/var/lib/kiosk"
menu_file = ""            # optional: a local menu document used until a newer signed one arrives

[central]
url = ""                  # empty: offline-only, nothing is ever sent
token_file = "/etc/kiosk/token"
ca_file = ""
sync_interval_s = 30
menu_poll_s = 300
heartbeat_s = 60
max_backoff_s = 300
auth_retry_s = 300

[central.menu_keys]       # trusted Ed25519 public keys, key_id = base64 of the raw 32 bytes
admin-2026 = "MCowBQYDK2VwAyEAGb9ECWmEzf6FQbrBZ9w7lshQhqowtrbLDFw4rXAxZuE="

[devices]
card_reader = "sim:"
printer = "sim:"

[diagnostics]
pin_hash = ""
"""


@pytest.fixture(autouse=True)
def _no_outside_config(monkeypatch, tmp_path):
    """No test sees the machine's /etc/kiosk/kiosk.toml or a $KIOSK_CONFIG of its caller."""
    monkeypatch.delenv("KIOSK_CONFIG", raising=False)
    monkeypatch.setattr(config_mod, "SYSTEM_CONFIG", tmp_path / "no-such-etc" / "kiosk.toml")
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))


def write(path: Path, text: str | bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    return path


def marked(path: Path, marker: str) -> Path:
    """A valid file whose kiosk id tells which one was loaded."""
    return write(path, f'[kiosk]\nid = "{marker}"\n')


# --- lookup order ----------------------------------------------------------------------

def test_cli_path_wins_over_env_and_system(tmp_path, monkeypatch):
    cli = marked(tmp_path / "cli" / "kiosk.toml", "CLI-1")
    env = marked(tmp_path / "env" / "kiosk.toml", "ENV-1")
    system = marked(tmp_path / "etc" / "kiosk.toml", "SYS-1")
    monkeypatch.setenv("KIOSK_CONFIG", str(env))
    monkeypatch.setattr(config_mod, "SYSTEM_CONFIG", system)
    cfg = load_config(str(cli))
    assert cfg.kiosk.id == "CLI-1"
    assert cfg.source == cli
    assert not cfg.is_demo


def test_env_wins_over_system(tmp_path, monkeypatch):
    env = marked(tmp_path / "env" / "kiosk.toml", "ENV-1")
    system = marked(tmp_path / "etc" / "kiosk.toml", "SYS-1")
    monkeypatch.setenv("KIOSK_CONFIG", str(env))
    monkeypatch.setattr(config_mod, "SYSTEM_CONFIG", system)
    assert load_config(None).kiosk.id == "ENV-1"
    assert find_config_path(None) == env


def test_empty_env_is_ignored(tmp_path, monkeypatch):
    system = marked(tmp_path / "etc" / "kiosk.toml", "SYS-1")
    monkeypatch.setenv("KIOSK_CONFIG", "")
    monkeypatch.setattr(config_mod, "SYSTEM_CONFIG", system)
    assert load_config(None).kiosk.id == "SYS-1"


def test_system_file_when_no_cli_or_env(tmp_path, monkeypatch):
    system = marked(tmp_path / "etc" / "kiosk.toml", "SYS-1")
    monkeypatch.setattr(config_mod, "SYSTEM_CONFIG", system)
    cfg = load_config()
    assert cfg.kiosk.id == "SYS-1"
    assert cfg.source == system


def test_demo_when_no_file_anywhere(tmp_path):
    assert find_config_path(None) is None
    cfg = load_config(None)
    assert cfg.is_demo
    assert cfg.source is None
    assert cfg.devices.card_reader == "sim:"
    assert cfg.devices.printer == "sim:"
    assert cfg.central.url == ""  # no central: nothing is ever sent
    # data under the user's data directory (XDG_DATA_HOME set by the fixture)
    assert cfg.kiosk.data_dir == tmp_path / "xdg" / "kiosk"
    assert cfg.queue_path == tmp_path / "xdg" / "kiosk" / "queue.db"
    assert cfg.kiosk.locale == "zh_CN"


def test_demo_data_dir_can_be_given(tmp_path):
    cfg = demo_config(tmp_path / "demo-data")
    assert cfg.kiosk.data_dir == tmp_path / "demo-data"
    assert cfg.is_demo


def test_demo_falls_back_to_home_local_share(tmp_path, monkeypatch):
    monkeypatch.delenv("XDG_DATA_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert load_config(None).kiosk.data_dir == tmp_path / "home" / ".local" / "share" / "kiosk"


def test_missing_cli_path_is_an_error_naming_it(tmp_path, monkeypatch):
    # Even with a good $KIOSK_CONFIG: a technician's explicit --config must not be ignored.
    monkeypatch.setenv("KIOSK_CONFIG", str(marked(tmp_path / "env.toml", "ENV-1")))
    missing = tmp_path / "nope" / "kiosk.toml"
    with pytest.raises(ConfigError) as err:
        load_config(str(missing))
    msg = str(err.value)
    assert str(missing) in msg
    assert "--config" in msg
    assert "\n" not in msg


def test_missing_env_path_is_an_error_naming_it(tmp_path, monkeypatch):
    missing = tmp_path / "gone.toml"
    monkeypatch.setenv("KIOSK_CONFIG", str(missing))
    with pytest.raises(ConfigError) as err:
        load_config(None)
    assert str(missing) in str(err.value)
    assert "KIOSK_CONFIG" in str(err.value)


def test_a_folder_is_not_a_config_file(tmp_path):
    with pytest.raises(ConfigError, match="not found"):
        load_config(str(tmp_path))


# --- defaults and values ---------------------------------------------------------------

def test_empty_file_gives_documented_defaults(tmp_path):
    path = write(tmp_path / "kiosk.toml", "")
    cfg = load_config(str(path))
    assert cfg.source == path
    assert not cfg.is_demo
    k, c, d = cfg.kiosk, cfg.central, cfg.devices
    assert (k.id, k.locale, k.idle_timeout_s) == ("ZJ-HZ-0001", "zh_CN", 60)
    assert k.data_dir == Path("/var/lib/kiosk")
    assert k.menu_file is None
    assert cfg.queue_path == Path("/var/lib/kiosk/queue.db")
    assert c.url == ""
    assert c.token_file == Path("/etc/kiosk/token")
    assert c.ca_file is None
    assert (c.sync_interval_s, c.menu_poll_s, c.heartbeat_s) == (30, 300, 60)
    assert (c.max_backoff_s, c.auth_retry_s) == (300, 300)
    assert c.menu_keys == {}
    assert (d.card_reader, d.printer, d.paper_width_dots) == ("sim:", "sim:", 384)
    assert cfg.diagnostics.pin_hash == ""


def test_spec_example_loads(tmp_path):
    cfg = load_config(str(write(tmp_path / "kiosk.toml", SPEC_EXAMPLE)))
    assert cfg.kiosk.id == "ZJ-HZ-0001"
    assert cfg.central.menu_keys == {
        "admin-2026": "MCowBQYDK2VwAyEAGb9ECWmEzf6FQbrBZ9w7lshQhqowtrbLDFw4rXAxZuE="
    }


def test_values_are_taken(tmp_path):
    path = write(tmp_path / "kiosk.toml", """\
[kiosk]
id = "ZJ-NB-0042"
locale = "en"
idle_timeout_s = 15
hide_cursor = false
service_point = "石桥村便民服务点"

[central]
url = "https://central.example.gov.cn/api/"
sync_interval_s = 5

[devices]
card_reader = "serial:///dev/ttyUSB0?protocol=ga467&baudrate=115200"
printer = "socket://10.0.0.5:9100"
paper_width_dots = 576
""")
    cfg = load_config(str(path))
    assert cfg.kiosk.id == "ZJ-NB-0042"
    assert cfg.kiosk.locale == "en"
    assert cfg.kiosk.idle_timeout_s == 15
    assert cfg.kiosk.hide_cursor is False
    assert cfg.kiosk.service_point == "石桥村便民服务点"
    assert cfg.central.url == "https://central.example.gov.cn/api"  # trailing / dropped
    assert cfg.central.sync_interval_s == 5
    assert cfg.central.menu_poll_s == 300  # untouched keys keep their defaults
    assert cfg.devices.card_reader.startswith("serial://")
    assert cfg.devices.paper_width_dots == 576


def test_defaults_are_not_shared_between_loads(tmp_path):
    first = load_config(str(write(tmp_path / "a.toml", '[central.menu_keys]\nk1 = "AAAA"\n')))
    second = load_config(str(write(tmp_path / "b.toml", "")))
    assert first.central.menu_keys == {"k1": "AAAA"}
    assert second.central.menu_keys == {}


# --- relative paths --------------------------------------------------------------------

def test_relative_paths_are_relative_to_the_files_folder(tmp_path, monkeypatch):
    folder = tmp_path / "etc" / "kiosk"
    path = write(folder / "kiosk.toml", """\
[kiosk]
data_dir = "data"
menu_file = "menus/local.json"

[central]
token_file = "secrets/token"
ca_file = "../ca.pem"
""")
    elsewhere = tmp_path / "somewhere-else"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    cfg = load_config(str(path))
    assert cfg.kiosk.data_dir == folder / "data"
    assert cfg.queue_path == folder / "data" / "queue.db"
    assert cfg.kiosk.menu_file == folder / "menus" / "local.json"
    assert cfg.central.token_file == folder / "secrets" / "token"
    assert cfg.central.ca_file.resolve() == (tmp_path / "etc" / "ca.pem").resolve()


def test_relative_paths_through_env_and_system(tmp_path, monkeypatch):
    env = write(tmp_path / "env" / "kiosk.toml", '[kiosk]\ndata_dir = "d"\n')
    monkeypatch.setenv("KIOSK_CONFIG", str(env))
    assert load_config().kiosk.data_dir == tmp_path / "env" / "d"
    monkeypatch.delenv("KIOSK_CONFIG")
    system = write(tmp_path / "etc" / "kiosk.toml", '[kiosk]\ndata_dir = "d"\n')
    monkeypatch.setattr(config_mod, "SYSTEM_CONFIG", system)
    assert load_config().kiosk.data_dir == tmp_path / "etc" / "d"


def test_absolute_and_home_paths_are_kept(tmp_path, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    path = write(tmp_path / "conf" / "kiosk.toml", f"""\
[kiosk]
data_dir = "{tmp_path / 'abs-data'}"
menu_file = "~/menu.json"
""")
    cfg = load_config(str(path))
    assert cfg.kiosk.data_dir == tmp_path / "abs-data"
    assert cfg.kiosk.menu_file == tmp_path / "home" / "menu.json"


# --- errors: one line naming the file, the key and what was expected --------------------

BAD_FILES = [
    # (id, file text, fragments the message must contain)
    ("not-toml", '[kiosk\nid = "x"\n', ["not valid TOML", "expected a TOML file", "line 1"]),
    ("not-toml-value", "[kiosk]\nid = ZJ-1\n", ["not valid TOML", "line 2"]),
    ("duplicate-key", '[kiosk]\nid = "A"\nid = "B"\n', ["not valid TOML"]),
    ("unknown-section", "[kioks]\nid = 1\n", ["[kioks]", "unknown section", "[kiosk]"]),
    ("section-not-table", "kiosk = 5\n", ["kiosk", "expected a table"]),
    ("unknown-key", "[kiosk]\nidle_timeout = 60\n",
     ["[kiosk] idle_timeout", "unknown key", "idle_timeout_s"]),
    ("unknown-key-devices", '[devices]\nprinter_uri = "sim:"\n',
     ["[devices] printer_uri", "unknown key", "printer"]),
    ("unknown-subtable", "[devices.extra]\na = 1\n", ["[devices] extra", "unknown key"]),
    ("string-for-int", '[kiosk]\nidle_timeout_s = "60"\n',
     ["[kiosk] idle_timeout_s", "expected a whole number of seconds", '"60" (string)']),
    ("bool-for-int", "[central]\nsync_interval_s = true\n",
     ["[central] sync_interval_s", "expected a positive whole number", "(boolean)"]),
    ("float-for-int", "[central]\nheartbeat_s = 1.5\n",
     ["[central] heartbeat_s", "expected a positive whole number", "1.5 (number)"]),
    ("int-for-string", "[kiosk]\nid = 5\n", ["[kiosk] id", "expected a kiosk id", "5 (integer)"]),
    ("int-for-path", "[kiosk]\ndata_dir = 5\n", ["[kiosk] data_dir", "expected a folder path"]),
    ("array-for-string", '[devices]\nprinter = ["sim:"]\n',
     ["[devices] printer", "expected a device URI", "(array)"]),
    ("string-for-bool", '[kiosk]\nhide_cursor = "yes"\n',
     ["[kiosk] hide_cursor", "expected true or false"]),
    ("locale-fr", '[kiosk]\nlocale = "fr"\n',
     ["[kiosk] locale", 'expected one of "zh_CN", "en"', '"fr"']),
    ("idle-zero", "[kiosk]\nidle_timeout_s = 0\n",
     ["[kiosk] idle_timeout_s", "at least 15", "0 (integer)"]),
    ("idle-negative", "[kiosk]\nidle_timeout_s = -60\n", ["[kiosk] idle_timeout_s"]),
    ("paper-100", "[devices]\npaper_width_dots = 100\n",
     ["[devices] paper_width_dots", "384", "576", "100 (integer)"]),
    ("sync-zero", "[central]\nsync_interval_s = 0\n", ["[central] sync_interval_s", "positive"]),
    ("backoff-negative", "[central]\nmax_backoff_s = -1\n", ["[central] max_backoff_s"]),
    ("bad-url", '[central]\nurl = "ftp://central"\n', ["[central] url", "http(s) URL"]),
    ("bad-kiosk-id", '[kiosk]\nid = "has space"\n', ["[kiosk] id", "expected a kiosk id"]),
    ("menu-keys-not-table", '[central]\nmenu_keys = "abc"\n',
     ["[central] menu_keys", "expected a table"]),
    ("menu-key-int", "[central.menu_keys]\nadmin-2026 = 5\n",
     ["[central.menu_keys] admin-2026", "expected a base64 Ed25519 public key"]),
    ("menu-key-table", "[central.menu_keys.admin]\nkey = \"x\"\n",
     ["[central.menu_keys] admin", "expected a base64"]),
    ("menu-key-empty", '[central.menu_keys]\nadmin-2026 = ""\n',
     ["[central.menu_keys] admin-2026", "expected a base64"]),
]


@pytest.mark.parametrize(("text", "fragments"), [b[1:] for b in BAD_FILES],
                         ids=[b[0] for b in BAD_FILES])
def test_bad_file_gives_one_clear_line(tmp_path, text, fragments):
    path = write(tmp_path / "conf" / "kiosk.toml", text)
    with pytest.raises(ConfigError) as err:
        load_config(str(path))
    msg = str(err.value)
    assert "\n" not in msg, msg
    assert msg.startswith(f"{path}: "), msg
    assert "expected" in msg, msg
    for fragment in fragments:
        assert fragment in msg, f"{fragment!r} not in {msg!r}"
    assert err.value.__cause__ is None  # raised "from None": no chained traceback
    assert err.value.__suppress_context__ or err.value.__context__ is None


def test_not_utf8(tmp_path):
    path = write(tmp_path / "kiosk.toml", '[kiosk]\nservice_point = "石桥村"\n'.encode("gbk"))
    with pytest.raises(ConfigError) as err:
        load_config(str(path))
    msg = str(err.value)
    assert msg.startswith(f"{path}: ")
    assert "UTF-8" in msg
    assert "expected a TOML file" in msg
    assert "\n" not in msg


def test_first_problem_is_reported_with_its_own_key(tmp_path):
    path = write(tmp_path / "kiosk.toml",
                 '[kiosk]\nlocale = "en"\nidle_timeout_s = 5\n[devices]\npaper_width_dots = 1\n')
    with pytest.raises(ConfigError, match=r"\[kiosk\] idle_timeout_s"):
        load_config(str(path))


def test_long_values_are_shortened_in_the_message(tmp_path):
    path = write(tmp_path / "kiosk.toml", f'[kiosk]\nlocale = "{"x" * 500}"\n')
    with pytest.raises(ConfigError) as err:
        load_config(str(path))
    assert len(str(err.value)) < len(str(path)) + 200


def test_every_schema_key_has_a_default_of_its_type():
    for section, keys in config_mod.SCHEMA.items():
        for name, spec in keys.items():
            assert isinstance(spec.default, spec.type), f"[{section}] {name}"
            if spec.check is not None and not spec.path and spec.default != "":
                assert spec.check(spec.default), f"[{section}] {name} default fails its check"
            assert spec.expected, f"[{section}] {name} has no expected text"


# --- the real command line -------------------------------------------------------------

def run_cli(*args: str, tmp_path: Path) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k != "KIOSK_CONFIG"}
    env["XDG_DATA_HOME"] = str(tmp_path / "xdg")
    return subprocess.run(
        [sys.executable, "-m", "kiosk", *args], cwd=REPO, env=env,
        capture_output=True, text=True, timeout=30,
    )


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ('[kiosk]\nidle_timeout_s = "60"\n', "idle_timeout_s"),
        ("[devices]\npaper_width_dots = 100\n", "paper_width_dots"),
        ("[central.menu_keys]\nadmin-2026 = 5\n", "admin-2026"),
        ("[kiosk]\nidel_timeout_s = 60\n", "idel_timeout_s"),
    ],
)
def test_cli_bad_config_exits_2_with_one_line(tmp_path, text, key):
    bad = write(tmp_path / "BAD.toml", text)
    proc = run_cli("queue", "status", "--config", str(bad), tmp_path=tmp_path)
    assert proc.returncode == 2, proc
    lines = proc.stderr.splitlines()
    assert len(lines) == 1, proc.stderr
    assert str(bad) in lines[0]
    assert key in lines[0]
    assert "expected" in lines[0]
    assert "Traceback" not in proc.stderr + proc.stdout
    assert proc.stdout == ""


def test_cli_not_toml_exits_2(tmp_path):
    bad = write(tmp_path / "BAD.toml", "this is = not [toml\n")
    proc = run_cli("queue", "status", "--json", "--config", str(bad), tmp_path=tmp_path)
    assert proc.returncode == 2
    assert len(proc.stderr.splitlines()) == 1
    assert str(bad) in proc.stderr
    assert "Traceback" not in proc.stderr + proc.stdout


def test_cli_missing_config_exits_2(tmp_path):
    missing = tmp_path / "missing.toml"
    proc = run_cli("queue", "status", "--config", str(missing), tmp_path=tmp_path)
    assert proc.returncode == 2
    assert len(proc.stderr.splitlines()) == 1
    assert str(missing) in proc.stderr
    assert "Traceback" not in proc.stderr + proc.stdout


def test_cli_good_config_reports_empty_queue(tmp_path):
    good = write(tmp_path / "conf" / "kiosk.toml", '[kiosk]\ndata_dir = "data"\n')
    proc = run_cli("queue", "status", "--json", "--config", str(good), tmp_path=tmp_path)
    assert proc.returncode == 0, proc.stderr
    result = json.loads(proc.stdout)
    assert result["pending"] == 0
    assert result["sent"] == 0
    assert result["rejected"] == 0
    assert result["oldest_pending_s"] is None


# --- transport: https only (kiosk-interfaces.md) ---------------------------------------

@pytest.mark.parametrize("url", [
    "https://central.example.gov.cn",
    "https://10.0.0.5:8443/api",
    "http://127.0.0.1:8080",
    "http://127.8.9.10",
    "http://localhost:9000/api",
    "http://[::1]:8080",
    "",
])
def test_https_or_loopback_is_accepted_without_warning(tmp_path, url, caplog):
    path = write(tmp_path / "kiosk.toml", f'[central]\nurl = "{url}"\n')
    with caplog.at_level("WARNING", logger="kiosk.config"):
        cfg = load_config(str(path))
    assert cfg.central.url == url and cfg.central.allow_insecure_http is False
    assert caplog.records == []


@pytest.mark.parametrize("url", [
    "http://central.example.gov.cn",
    "http://10.0.0.5:8080",
    "http://192.168.1.10",
    "http://127.0.0.1.example.com",  # a name that starts like loopback
    "http://127.0.0.1@central.example.gov.cn",  # userinfo that looks like loopback
    "http://localhost.example.com",
    "http://[::2]:8080",
    "http://0.0.0.0:8080",
])
def test_plain_http_elsewhere_stops_start_up_naming_the_key(tmp_path, url):
    path = write(tmp_path / "kiosk.toml", f'[central]\nurl = "{url}"\n')
    with pytest.raises(ConfigError) as err:
        load_config(str(path))
    msg = str(err.value)
    assert "\n" not in msg and msg.startswith(f"{path}: [central] url: expected an https:// URL")
    assert "allow_insecure_http = true" in msg and url[:30] in msg
    assert err.value.__cause__ is None


def test_allow_insecure_http_accepts_it_and_warns_at_every_start(tmp_path, caplog):
    path = write(tmp_path / "kiosk.toml",
                 '[central]\nurl = "http://10.8.0.1:8080"\nallow_insecure_http = true\n')
    with caplog.at_level("WARNING", logger="kiosk.config"):
        for _ in range(2):  # two starts, two warnings
            cfg = load_config(str(path))
    assert cfg.central.url == "http://10.8.0.1:8080" and cfg.central.allow_insecure_http
    warnings = [r for r in caplog.records if r.levelname == "WARNING"]
    assert len(warnings) == 2
    assert "http://10.8.0.1:8080" in warnings[0].getMessage()
    assert "allow_insecure_http" in warnings[0].getMessage()


def test_the_insecure_http_warning_never_shows_a_password(tmp_path, caplog):
    path = write(tmp_path / "kiosk.toml", '[central]\nurl = "http://k:secret@10.8.0.1"\n'
                                          "allow_insecure_http = true\n")
    with caplog.at_level("WARNING", logger="kiosk.config"):
        load_config(str(path))
    assert "http://10.8.0.1 is plain" in caplog.text and "secret" not in caplog.text


def test_allow_insecure_http_must_be_a_boolean(tmp_path):
    path = write(tmp_path / "kiosk.toml", '[central]\nallow_insecure_http = "yes"\n')
    with pytest.raises(ConfigError, match=r"\[central\] allow_insecure_http: expected true or "
                                          r"false"):
        load_config(str(path))


def test_the_demo_default_is_https_only():
    assert demo_config().central.allow_insecure_http is False
