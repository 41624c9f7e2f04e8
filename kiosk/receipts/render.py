"""Render a transaction receipt to a 1-bit raster image for a thermal printer.

Receipts are drawn with a CJK font instead of sent as printer text, so Chinese prints the same
on every ESC/POS printer whatever its firmware. The renderer only ever receives data that the
caller has already masked; it draws strings exactly as given and never sees raw personal data.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from datetime import datetime

import qrcode
from PIL import Image

from contract.times import DEFAULT_ZONE, people_time
from kiosk.receipts import ReceiptError
from kiosk.receipts.fonts import find_cjk_font
from kiosk.receipts.layout import ReceiptBuilder, ReceiptLayout
from kiosk.receipts.wrap import wrap_text

logger = logging.getLogger(__name__)

DEFAULT_LABELS: dict[str, str] = {
    "service": "Service",
    "name": "Name",
    "id_number": "ID number",
    "time": "Time",
    "reference": "Reference",
    "kiosk": "Kiosk",
    "scan": "Scan to look up this transaction",
    "footer": "",
    # A kiosk whose clock was never set prints no date (never one from 1970), but this.
    "time_unknown": "时间未知（本机时钟未校准） Time not known (kiosk clock not set)",
}

QR_QUIET_ZONE = 4  # modules, as ISO/IEC 18004 asks
QR_WIDTH_SHARE = 0.5  # the QR code's share of the paper width


@dataclass(frozen=True)
class ReceiptData:
    """Everything printed on one receipt. Personal values arrive already masked."""

    title: str
    service_title: str
    service_point: str
    kiosk_id: str
    transaction_id: str
    reference: str
    created_at: datetime | None  # aware, UTC, printed in ``time_zone``; None: clock unknown
    resident_name: str  # already masked, may be ""
    id_number: str  # already masked, may be ""
    answers: tuple[tuple[str, str], ...]  # (label, display value), already masked
    note: str
    labels: dict[str, str] = field(default_factory=dict)
    time_zone: str = DEFAULT_ZONE  # kiosk.timezone: the zone people read times in
    banner: str = ""  # e.g. "printed after a restart": a line above everything else

    def label(self, key: str) -> str:
        return self.labels.get(key, DEFAULT_LABELS.get(key, key))


def qr_image(text: str, width_dots: int) -> Image.Image:
    """A crisp QR code (error correction M, quiet zone 4) about half as wide as the paper."""
    qr = qrcode.QRCode(
        error_correction=qrcode.constants.ERROR_CORRECT_M, box_size=1, border=QR_QUIET_ZONE
    )
    qr.add_data(text)
    qr.make(fit=True)
    matrix = qr.get_matrix()
    modules = len(matrix)
    box = max(1, round(width_dots * QR_WIDTH_SHARE / modules))
    if modules * box > width_dots:
        box = max(1, width_dots // modules)
    image = Image.new("L", (modules, modules))
    image.putdata([0 if dark else 255 for row in matrix for dark in row])
    return image.resize((modules * box, modules * box), Image.Resampling.NEAREST)


def local_time(created_at: datetime | None, time_zone: str = DEFAULT_ZONE,
               unknown: str = DEFAULT_LABELS["time_unknown"]) -> str:
    """``created_at`` as YYYY-MM-DD HH:MM in ``time_zone`` (a naive time is taken as UTC);
    ``unknown`` when there is none or the kiosk's clock was not set (a date in 1970)."""
    return people_time(created_at, time_zone, unknown=unknown)


def layout_receipt(data: ReceiptData, width_dots: int = 384) -> ReceiptLayout:
    """Place every element of the receipt for paper ``width_dots`` wide."""
    if width_dots < 200:
        raise ReceiptError(f"paper width {width_dots} dots is too narrow for a receipt")
    b = ReceiptBuilder(width_dots)
    body = b.font(20)
    small = b.font(17)

    if data.banner:
        b.paragraph(data.banner, b.font(20, bold=True), center=True)
        b.space(6)
    b.paragraph(data.title, b.font(27, bold=True), center=True)
    b.space(2)
    if data.service_point:
        b.paragraph(data.service_point, small, center=True)
    b.space(10)
    b.rule()
    b.space(10)

    rows = [(data.label("service"), data.service_title)]
    if data.resident_name:
        rows.append((data.label("name"), data.resident_name))
    if data.id_number:
        rows.append((data.label("id_number"), data.id_number))
    rows.append((data.label("time"), local_time(data.created_at, data.time_zone,
                                                  data.label("time_unknown"))))
    rows.append((data.label("kiosk"), data.kiosk_id))
    # One caption column for both tables, so every value starts at the same place.
    column = b.caption_width([caption for caption, _ in (*rows, *data.answers)], body)
    b.rows(rows, body, column)
    if data.answers:
        b.space(6)
        b.rule(dashed=True)
        b.space(10)
        b.rows(data.answers, body, column)
    b.space(10)
    b.rule()
    b.space(14)

    b.paragraph(data.label("reference"), small, center=True)
    b.space(6)
    b.fitted_line(data.reference, 64, bold=True)
    b.space(8)
    b.picture(qr_image(data.transaction_id, width_dots))
    b.paragraph(data.label("scan"), small, center=True)
    b.paragraph(data.transaction_id, b.font(14), center=True)

    if data.note:
        b.space(12)
        b.rule(dashed=True)
        b.space(10)
        b.paragraph(data.note, small)
    if data.label("footer"):
        b.space(12)
        b.paragraph(data.label("footer"), small, center=True)
    return b.finish()


def render_receipt(data: ReceiptData, width_dots: int = 384) -> Image.Image:
    """The receipt as a 1-bit image exactly ``width_dots`` wide, ready for ``print_image``."""
    started = time.perf_counter()
    image = layout_receipt(data, width_dots).render()
    logger.debug(
        "rendered receipt %s: %dx%d in %.1f ms",
        data.reference,
        image.width,
        image.height,
        (time.perf_counter() - started) * 1000,
    )
    return image


__all__ = [
    "DEFAULT_LABELS",
    "ReceiptData",
    "ReceiptError",
    "ReceiptLayout",
    "find_cjk_font",
    "layout_receipt",
    "local_time",
    "qr_image",
    "render_receipt",
    "wrap_text",
]
