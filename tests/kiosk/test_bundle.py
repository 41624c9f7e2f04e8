"""The diagnostics bundle after a visit with a planted identity: every member there, and no
personal data, token or PIN hash in any of them."""

from __future__ import annotations

import logging
import tomllib
import zipfile

import pytest

from kiosk.config import demo_config, load_config_file
from kiosk.logs import setup_logging
from kiosk.technician import status as st
from kiosk.technician.audit import AuditLog
from kiosk.technician.export import BundleError, config_text, export_bundle, removable_folders
from kiosk.technician.pin import hash_pin
from kiosk.technician.rejections import personal_values
from offline_queue import OfflineQueue

TOKEN = "tok-5f2a9c7e1b3d4f60"
NAME, ID_NUMBER, PHONE = "张三丰", "330106199001011234", "13812345678"
NOW = 1_800_000_000.0


@pytest.fixture
def kiosk(tmp_path):
    pin_hash = hash_pin("246813")
    (tmp_path / "token").write_text(TOKEN + "\n")
    cfg = tmp_path / "kiosk.toml"
    cfg.write_text(
        "# the test kiosk\n"
        '[kiosk]\nid = "ZJ-HZ-0042"\ndata_dir = "data"\n'
        '[central]\nurl = "http://127.0.0.1:9"\ntoken_file = "token"\n'
        f'[diagnostics]\npin_hash = "{pin_hash}"   # set by the installer\n',
        encoding="utf-8")
    return load_config_file(cfg), pin_hash


def planted_visit(config) -> dict[str, str]:
    """A resident's visit: queued, one rejected, logged (one line carelessly), audited."""
    identity = {"method": "ga467", "name": NAME, "id_number": ID_NUMBER}
    with OfflineQueue(config.queue_path) as queue:
        tx = queue.enqueue("hpf-withdraw", {"phone": PHONE, "amount": 1200}, identity)
        queue.mark_rejected(queue.enqueue("hpf-withdraw", {"phone": PHONE}, identity),
                            f"identity {ID_NUMBER} / {PHONE} not eligible")
        log = logging.getLogger("kiosk.shell.controller")
        log.info("card read for %s %s, phone %s, transaction %s", NAME, ID_NUMBER, PHONE, tx)
        audit = AuditLog.for_data_dir(config.kiosk.data_dir, clock=lambda: NOW)
        audit.record("test-read", "ok", identity=f"{NAME} {ID_NUMBER}")
        audit.record("test-print", "ok", printer="sim:")
        # A line written by something that bypassed the masking filter.
        rotated = config.kiosk.data_dir / "logs" / "kiosk.log.1"
        rotated.write_text(f"raw line: {NAME} {ID_NUMBER} {PHONE} token {TOKEN}\n", "utf-8")
        status = st.collect_status(
            config, devices={}, device_since={}, sync=None, queue=queue, menu_version=1,
            menu_rejected=None, started_at=NOW - 60, central_probe=None, now=NOW)
        personal = personal_values(queue)
    return {"status": status, "personal": personal, "audit": audit, "tx": tx}


def test_bundle_after_a_planted_visit_holds_no_personal_data(tmp_path, kiosk, clean_root):
    config, pin_hash = kiosk
    setup_logging(config.kiosk.data_dir)
    visit = planted_visit(config)
    for handler in clean_root.handlers:
        handler.flush()
    usb = tmp_path / "usb"
    usb.mkdir()
    path = export_bundle(usb, config=config, status=visit["status"], audit=visit["audit"],
                         personal=visit["personal"], now=NOW)
    assert path.name == "kiosk-diag-ZJ-HZ-0042-20270115T080000Z.zip"
    assert [p.name for p in usb.iterdir()] == [path.name]  # no temporary file left
    with zipfile.ZipFile(path) as zf:
        assert zf.testzip() is None
        names = zf.namelist()
        texts = {name: zf.read(name).decode("utf-8") for name in names}
    assert names == ["README.txt", "status.json", "config.toml", "logs/kiosk.log",
                     "audit/audit-2027-01-15.jsonl"]
    salt, digest = pin_hash.split("$")[2:]
    forbidden = [NAME, NAME[1:], ID_NUMBER, PHONE, TOKEN, pin_hash, salt, digest]
    for name, text in texts.items():
        for secret in forbidden:
            assert secret not in text, f"{secret!r} in {name}"
    log_text = texts["logs/kiosk.log"]
    assert "raw line: 张** 330106********1234 138****5678 token <removed>" in log_text
    assert f"card read for 张** 330106********1234, phone 138****5678, transaction " \
           f"{visit['tx']}" in log_text
    assert "330106********1234" in texts["audit/audit-2027-01-15.jsonl"]
    assert '"test-print"' in texts["audit/audit-2027-01-15.jsonl"]
    cfg = tomllib.loads(texts["config.toml"])
    assert cfg["diagnostics"]["pin_hash"] == ""
    assert cfg["central"] == {"url": "http://127.0.0.1:9", "token_file": "token"}
    assert "# the test kiosk" in texts["config.toml"]
    assert '"id": "ZJ-HZ-0042"' in texts["status.json"]
    assert "app version" in texts["README.txt"] and "audit/audit-2027-01-15.jsonl" in \
        texts["README.txt"]


def test_demo_config_is_written_from_its_values(tmp_path):
    text = config_text(demo_config(tmp_path))
    data = tomllib.loads(text)
    assert data["kiosk"]["id"] == "DEMO-0001" and data["diagnostics"]["pin_hash"] == ""
    assert data["devices"]["card_reader"] == "sim:"


def test_secret_lines_of_every_spelling_are_emptied(tmp_path):
    cfg = tmp_path / "k.toml"
    cfg.write_text('[central]\ntoken_file = "/etc/kiosk/token"\n'
                   '[diagnostics]\n  "pin_hash"="scrypt$n=2,r=1,p=1$abc$def"\n', "utf-8")
    text = config_text(load_config_file(cfg))
    assert "scrypt" not in text and 'token_file = "/etc/kiosk/token"' in text
    assert tomllib.loads(text)["diagnostics"]["pin_hash"] == ""


def test_a_failed_write_leaves_no_file_that_looks_complete(tmp_path, kiosk, monkeypatch):
    config, _ = kiosk
    audit = AuditLog(tmp_path / "audit")
    calls = []
    real = zipfile.ZipFile.writestr

    def pulled(self, *args, **kwargs):
        calls.append(1)
        if len(calls) == 3:
            raise OSError(5, "Input/output error")  # the stick was pulled
        return real(self, *args, **kwargs)

    monkeypatch.setattr(zipfile.ZipFile, "writestr", pulled)
    dest = tmp_path / "usb"
    with pytest.raises(BundleError, match="Input/output error"):
        export_bundle(dest, config=config, status={"level": "ok"}, audit=audit, log_lines=[])
    assert list(dest.iterdir()) == []


def test_an_unusable_destination_is_one_clear_error(tmp_path, kiosk):
    config, _ = kiosk
    not_a_folder = tmp_path / "file"
    not_a_folder.write_text("x")
    with pytest.raises(BundleError, match="could not be written"):
        export_bundle(not_a_folder, config=config, status={}, audit=AuditLog(tmp_path),
                      log_lines=[])


def test_removable_folders_lists_writable_mounts_then_the_fallback(tmp_path):
    media = tmp_path / "media" / "tech"
    (media / "STICK").mkdir(parents=True)
    (media / "file.txt").write_text("not a folder")
    found = removable_folders(tmp_path / "data", globs=(str(media / "*"),), mounted_only=False)
    assert found == [media / "STICK", tmp_path / "data" / "exports"]
    # Real mount points only by default: a plain folder is not a USB stick.
    assert removable_folders(tmp_path / "data", globs=(str(media / "*"),)) == [
        tmp_path / "data" / "exports"]
