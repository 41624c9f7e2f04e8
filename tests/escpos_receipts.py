"""A fixed Chinese receipt for the ESC/POS tests: same data, same time, same image every run."""

from __future__ import annotations

from datetime import UTC, datetime

from pyzbar.pyzbar import decode

from kiosk.receipts.render import ReceiptData

TX_ID = "3f1c7a52-9b1e-4c55-8d2a-0e6f2b7c9a14"
# Long enough that the 384-dot receipt is taller than python-escpos's 960-row fragments.
EXPLANATION = "本人于2025年在转塘街道购买首套自住住房，现申请提取住房公积金用于支付购房款。" * 3

ZH_LABELS = {
    "service": "办理事项",
    "name": "姓名",
    "id_number": "证件号码",
    "time": "办理时间",
    "reference": "查询编号",
    "kiosk": "终端编号",
    "scan": "扫码查询办理进度",
    "footer": "请妥善保管本回执",
}


def zh_receipt() -> ReceiptData:
    return ReceiptData(
        title="公积金提取申请回执",
        service_title="住房公积金提取",
        service_point="西湖区转塘街道便民服务中心",
        kiosk_id="ZJ-HZ-0001",
        transaction_id=TX_ID,
        reference="3F1C-7A52",
        created_at=datetime(2026, 3, 2, 6, 5, tzinfo=UTC),
        resident_name="张**",
        id_number="330106********1234",
        answers=(("提取原因", "购买自住住房"), ("情况说明", EXPLANATION)),
        note="本回执仅证明申请已提交，不代表审批结果。",
        labels=ZH_LABELS,
    )


def qr_texts(image) -> list[str]:
    return [symbol.data.decode() for symbol in decode(image.convert("L"))]
