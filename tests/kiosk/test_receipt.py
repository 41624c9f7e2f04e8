"""Receipt rendering: size, 1-bit output, a readable QR code, masked data drawn as given."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime

import pytest
from escpos_receipts import TX_ID, ZH_LABELS, qr_texts
from PIL import ImageFont

from kiosk.receipts import fonts
from kiosk.receipts import render as receipt
from kiosk.receipts.layout import _Text
from kiosk.receipts.render import (
    ReceiptData,
    ReceiptError,
    find_cjk_font,
    layout_receipt,
    render_receipt,
    wrap_text,
)

MASKED_ID = "330106********1234"

EN_LABELS = {
    "service": "Service",
    "name": "Name",
    "id_number": "ID number",
    "time": "Time",
    "reference": "Reference",
    "kiosk": "Kiosk",
    "scan": "Scan to check progress",
    "footer": "Please keep this receipt",
}
LONG_ZH = "本人于2025年在转塘街道购买首套自住住房，现申请提取住房公积金用于支付购房款。" * 3


def zh_receipt(**changes) -> ReceiptData:
    data = ReceiptData(
        title="公积金提取申请回执",
        service_title="住房公积金提取",
        service_point="西湖区转塘街道便民服务中心",
        kiosk_id="ZJ-HZ-0001",
        transaction_id=TX_ID,
        reference="3F1C-7A52",
        created_at=datetime(2026, 3, 2, 6, 5, tzinfo=UTC),
        resident_name="张**",
        id_number=MASKED_ID,
        answers=(("提取原因", "购买自住住房"), ("情况说明", LONG_ZH)),
        note="本回执仅证明申请已提交，不代表审批结果。审核结果将以短信方式通知。",
        labels=ZH_LABELS,
    )
    return dataclasses.replace(data, **changes)


def en_receipt() -> ReceiptData:
    return zh_receipt(
        title="Housing Fund Withdrawal Receipt",
        service_title="Housing provident fund withdrawal",
        service_point="Zhuantang Subdistrict Service Centre, Xihu District",
        resident_name="Z**",
        answers=(
            ("Reason", "Purchase of an owner-occupied home"),
            ("Explanation", "I bought my first home in Zhuantang in 2025 and " * 4),
        ),
        note="This receipt only confirms that the application was submitted.",
        labels=EN_LABELS,
    )


@pytest.mark.parametrize("width", [384, 512, 576])
def test_chinese_receipt_size_mode_and_qr(width):
    image = render_receipt(zh_receipt(), width)
    assert image.mode == "1"
    assert image.width == width
    assert image.height > width
    texts = qr_texts(image)
    assert len(texts) == 1
    assert TX_ID in texts[0]


@pytest.mark.parametrize("width", [384, 512, 576])
def test_qr_is_about_half_the_width(width):
    qr = receipt.qr_image(TX_ID, width)
    assert 0.45 <= qr.width / width <= 0.55


def test_english_receipt():
    image = render_receipt(en_receipt(), 384)
    assert (image.mode, image.width) == ("1", 384)
    assert TX_ID in qr_texts(image)[0]
    texts = layout_receipt(en_receipt(), 384).texts()
    assert "ID number:" in texts
    assert "3F1C-7A52" in texts


def test_masked_values_are_drawn_exactly_as_given():
    texts = layout_receipt(zh_receipt(), 384).texts()
    assert MASKED_ID in texts
    assert "张**" in texts
    assert "3F1C-7A52" in texts


def test_empty_identity_rows_are_left_out():
    texts = layout_receipt(zh_receipt(resident_name="", id_number=""), 384).texts()
    assert "姓名：" not in texts
    assert "证件号码：" not in texts


def test_time_is_printed_in_china_standard_time():
    texts = layout_receipt(zh_receipt(), 384).texts()
    assert "2026-03-02 14:05" in texts


@pytest.mark.parametrize("width", [384, 576])
def test_long_values_wrap_inside_the_paper(width):
    unbroken = "X" * 120  # one "word" longer than a line must be cut too
    data = zh_receipt(answers=(("情况说明", LONG_ZH), ("备注", unbroken), ("Remark", "word " * 60)))
    layout = layout_receipt(data, width)
    image = layout.render()
    assert image.width == width
    for item in layout.items:
        if isinstance(item, _Text):
            assert item.x >= 0
            assert item.x + item.font.getlength(item.text) <= width
    assert "".join(t for t in layout.texts() if t.startswith("X")) == unbroken
    assert TX_ID in qr_texts(image)[0]


def test_reference_is_the_largest_type():
    layout = layout_receipt(zh_receipt(), 384)
    sizes = {item.text: item.font.size for item in layout.items if isinstance(item, _Text)}
    assert sizes["3F1C-7A52"] == max(sizes.values())
    assert sizes["3F1C-7A52"] >= 384 // 8


def test_wrap_keeps_closing_punctuation_off_line_starts():
    font = fonts.font(20)
    text = "甲" * 17 + "，乙丙。"
    width = round(font.getlength("甲" * 17))
    lines = wrap_text(text, font, width)
    assert all(line[0] not in "，。" for line in lines if line)
    assert "".join(lines) == text


def test_wrap_breaks_latin_at_spaces():
    font = fonts.font(20)
    width = max(font.getlength("alpha beta"), font.getlength("gamma delta"))
    lines = wrap_text("alpha beta gamma delta epsilon", font, width)
    assert lines == ["alpha beta", "gamma delta", "epsilon"]


def test_missing_font_names_the_debian_package(monkeypatch):
    monkeypatch.setattr(
        fonts, "FONT_CANDIDATES", (("/nonexistent/a.ttc", "/nonexistent/b.ttc", 2),)
    )
    monkeypatch.setattr(fonts, "_fc_match", lambda bold: None)
    find_cjk_font.cache_clear()
    try:
        with pytest.raises(ReceiptError, match="fonts-noto-cjk"):
            find_cjk_font()
    finally:
        find_cjk_font.cache_clear()


def test_finds_simplified_chinese_face():
    path, index = find_cjk_font()
    font = ImageFont.truetype(path, 20, index=index)
    assert "SC" in font.getname()[0]
