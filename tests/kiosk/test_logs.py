"""One filter masks personal numbers in every log record, in the rotating files and on stderr."""

from __future__ import annotations

import logging

from kiosk.logs import LOG_BYTES, mask_text, setup_logging


def test_mask_text_masks_id_and_phone_numbers_only():
    text = ("id 330106195503120016 phone 13912345678 x 33010620150101009X "
            "tx 3f1c7a52-8a7e-4f7e-9a55-0d1f4f3b2c11 ts 17955126600000 order 123456")
    masked = mask_text(text)
    assert "330106********0016" in masked and "139****5678" in masked
    assert "330106********009X" in masked
    assert "330106195503120016" not in masked and "13912345678" not in masked
    assert "3f1c7a52-8a7e-4f7e-9a55-0d1f4f3b2c11" in masked  # ids stay readable
    assert "17955126600000" in masked and "123456" in masked


def test_files_hold_masked_text_and_rotate(tmp_path, clean_root):
    path = setup_logging(tmp_path)
    log = logging.getLogger("kiosk.test")
    log.info("card read for %s, phone %s", "330106195503120016", "13912345678")
    try:
        raise ValueError("bad number 330106195503120016")
    except ValueError:
        log.exception("failed")
    for handler in clean_root.handlers:
        handler.flush()
    text = path.read_text("utf-8")
    assert "330106********0016" in text and "139****5678" in text
    assert "330106195503120016" not in text and "13912345678" not in text
    for _ in range(LOG_BYTES // 50):
        log.info("filler line to make the file rotate ...............")
    assert (path.parent / "kiosk.log.1").exists()
    assert sum(f.stat().st_size for f in path.parent.iterdir()) < 7 * LOG_BYTES
