"""A crash between storing a transaction and the done screen: the crash is logged masked and
ends `kiosk run` with a non-zero code; after the restart the receipt prints at once, with a
line saying it was printed after a restart."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
PLUGIN = Path(__file__).resolve().parent / "crash_plugin"
ID_NUMBER = "330106195503120016"


def kiosk_run(config: Path, **env: str) -> subprocess.Popen:
    full = {**os.environ, "QT_QPA_PLATFORM": "offscreen",
            "PYTHONPATH": os.pathsep.join([str(PLUGIN), str(REPO)]), **env}
    return subprocess.Popen([sys.executable, "-m", "kiosk", "run", "--windowed", "--config",
                             str(config)], env=full, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)


def test_a_crash_after_storing_prints_the_receipt_after_the_restart(tmp_path):
    config = tmp_path / "kiosk.toml"
    config.write_text('[kiosk]\nid = "CRASH-01"\ndata_dir = "data"\nlocale = "en"\n'
                      '[devices]\ncard_reader = "sim:"\nprinter = "sim:"\n'
                      "allow_simulated = true\n", encoding="utf-8")
    stored = tmp_path / "stored.txt"
    first = kiosk_run(config, CRASH_TEST_VISIT=str(stored))
    out, err = first.communicate(timeout=120)
    assert first.returncode == 70, err
    tx_id = stored.read_text()
    assert "injected crash" in err and "RuntimeError" in err  # logged, with its traceback
    log_text = (tmp_path / "data" / "logs" / "kiosk.log").read_text("utf-8")
    assert "injected crash" in log_text
    for text in (out, err, log_text):
        assert ID_NUMBER not in text  # nothing unmasked in the journal or the log
    receipt = tmp_path / "data" / "receipts" / f"{tx_id}.png"
    assert not receipt.exists()  # the crash came before the receipt

    texts = tmp_path / "texts.jsonl"
    second = kiosk_run(config, CRASH_TEST_TEXTS=str(texts))
    try:
        deadline = time.monotonic() + 120
        while not receipt.exists() and second.poll() is None and time.monotonic() < deadline:
            time.sleep(0.2)  # waiting for the event (the file), not asserting a duration
        assert receipt.exists(), second.stderr.read() if second.poll() is not None else ""
    finally:
        second.send_signal(signal.SIGTERM)
        second.communicate(timeout=60)
    printed = [json.loads(line) for line in texts.read_text("utf-8").splitlines()]
    assert [p["id"] for p in printed] == [tx_id]
    assert printed[0]["texts"][0] == "Printed after a restart of the kiosk"
    assert ID_NUMBER not in json.dumps(printed, ensure_ascii=False)
