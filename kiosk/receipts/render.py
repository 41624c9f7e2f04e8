"""Render a transaction receipt to a 1-bit raster image for a thermal printer.

Receipts are drawn with a CJK font instead of sent as printer text, so Chinese prints the same
on every ESC/POS printer whatever its firmware. The renderer only ever receives data that the
caller has already masked; it draws strings exactly as given and never sees raw personal data.
"""

from __future__ import annotations

import functools
import logging
import math
import subprocess
import time
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import qrcode
from PIL import Image, ImageDraw, ImageFont

logger = logging.getLogger(__name__)

# China has one time zone and no daylight saving time: a fixed offset needs no tzdata.
CHINA_TZ = timezone(timedelta(hours=8), "CST")

DEFAULT_LABELS: dict[str, str] = {
    "service": "Service",
    "name": "Name",
    "id_number": "ID number",
    "time": "Time",
    "reference": "Reference",
    "kiosk": "Kiosk",
    "scan": "Scan to look up this transaction",
    "footer": "",
}

# Known homes of Noto Sans CJK (regular, bold, face index of Simplified Chinese in that file).
# Debian/Ubuntu: fonts-noto-cjk. The .ttc collections hold JP, KR, SC, TC, HK in that order.
FONT_CANDIDATES: tuple[tuple[str, str, int], ...] = (
    (
        "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
        "/usr/share/fonts/opentype/noto/NotoSansCJK-Bold.ttc",
        2,
    ),
    (
        "/usr/share/fonts/noto-cjk/NotoSansCJK-Regular.ttc",
        "/usr/share/fonts/noto-cjk/NotoSansCJK-Bold.ttc",
        2,
    ),
    (
        "/usr/share/fonts/google-noto-cjk/NotoSansCJK-Regular.ttc",
        "/usr/share/fonts/google-noto-cjk/NotoSansCJK-Bold.ttc",
        2,
    ),
    (
        "/usr/share/fonts/opentype/noto/NotoSansCJKsc-Regular.otf",
        "/usr/share/fonts/opentype/noto/NotoSansCJKsc-Bold.otf",
        0,
    ),
)

QR_QUIET_ZONE = 4  # modules, as ISO/IEC 18004 asks
QR_WIDTH_SHARE = 0.5  # the QR code's share of the paper width
BOTTOM_MARGIN = 40  # blank dots before the cut
THRESHOLD = 150  # grey levels below this print black; a little bolder than 50 % on thermal paper

# Characters that may not start a line (they stay with the text before them) and that may not
# end one (they go with the text after them): the usual Chinese line-breaking rules.
_NO_LINE_START = frozenset("，。、；：？！）》」』】〕〉”’…—·,.;:?!)]}%")
_NO_LINE_END = frozenset("（《「『【〔〈“‘([{")


class ReceiptError(Exception):
    """A receipt could not be rendered (no usable font, bad data)."""


@dataclass(frozen=True)
class ReceiptData:
    """Everything printed on one receipt. Personal values arrive already masked."""

    title: str
    service_title: str
    service_point: str
    kiosk_id: str
    transaction_id: str
    reference: str
    created_at: datetime  # aware, UTC; printed in China Standard Time
    resident_name: str  # already masked, may be ""
    id_number: str  # already masked, may be ""
    answers: tuple[tuple[str, str], ...]  # (label, display value), already masked
    note: str
    labels: dict[str, str] = field(default_factory=dict)

    def label(self, key: str) -> str:
        return self.labels.get(key, DEFAULT_LABELS.get(key, key))


# --- fonts -----------------------------------------------------------------------------------


def _fc_match(bold: bool) -> tuple[str, int] | None:
    """Ask fontconfig for Noto Sans CJK SC; None unless it answers with a CJK face."""
    pattern = "Noto Sans CJK SC:style=Bold" if bold else "Noto Sans CJK SC"
    try:
        out = subprocess.run(
            ["fc-match", "-f", "%{file}\t%{index}\t%{family}", pattern],
            capture_output=True,
            text=True,
            timeout=5,
            check=True,
        ).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    path, _, rest = out.partition("\t")
    index, _, family = rest.partition("\t")
    # fc-match always answers with its closest font, often DejaVu: accept only a CJK SC face.
    if "CJK SC" not in family and "Source Han Sans" not in family:
        return None
    if not path or not Path(path).is_file():
        return None
    return path, int(index) if index.isdigit() else 0


@functools.lru_cache(maxsize=4)
def find_cjk_font(bold: bool = False) -> tuple[str, int]:
    """Path and face index of Noto Sans CJK SC (bold or regular).

    A missing bold face falls back to the regular one; no CJK font at all is a ReceiptError.
    """
    for regular, bold_path, index in FONT_CANDIDATES:
        path = bold_path if bold else regular
        if Path(path).is_file():
            return path, index
    found = _fc_match(bold)
    if found:
        return found
    if bold:
        try:
            found = find_cjk_font(False)
        except ReceiptError:
            pass
        else:
            logger.warning("no bold CJK font found; receipts use the regular face for bold")
            return found
    raise ReceiptError(
        "no Chinese font found for receipts: install Noto Sans CJK "
        "(Debian/Ubuntu package fonts-noto-cjk)"
    )


@functools.lru_cache(maxsize=32)
def _font(size: int, bold: bool = False) -> ImageFont.FreeTypeFont:
    path, index = find_cjk_font(bold)
    try:
        return ImageFont.truetype(path, size, index=index)
    except OSError as exc:
        raise ReceiptError(f"cannot load receipt font {path} (face {index}): {exc}") from exc


# --- text wrapping ---------------------------------------------------------------------------


def _is_wide(ch: str) -> bool:
    return unicodedata.east_asian_width(ch) in ("W", "F")


def _tokens(text: str) -> list[str]:
    """Split into unbreakable pieces: each CJK character alone, other words with their spaces."""
    tokens: list[str] = []
    word = ""
    for ch in text:
        if _is_wide(ch):
            if word:
                tokens.append(word)
                word = ""
            tokens.append(ch)
        elif ch.isspace():
            word += ch
        else:
            if word and word[-1].isspace():
                tokens.append(word)
                word = ""
            word += ch
    if word:
        tokens.append(word)
    # Keep closing punctuation with what precedes it and opening punctuation with what follows.
    merged: list[str] = []
    for tok in tokens:
        if merged and (tok[0] in _NO_LINE_START or merged[-1].rstrip()[-1:] in _NO_LINE_END):
            merged[-1] += tok
        else:
            merged.append(tok)
    return merged


def wrap_text(text: str, font: ImageFont.FreeTypeFont, max_width: float) -> list[str]:
    """Break ``text`` into lines no wider than ``max_width`` pixels in ``font``.

    Breaks between any two CJK characters and at spaces in other scripts; a word longer than a
    whole line is cut by character. Explicit newlines are kept.
    """
    lines: list[str] = []
    for paragraph in text.split("\n"):
        line = ""
        for tok in _tokens(paragraph):
            if font.getlength((line + tok).rstrip()) <= max_width:
                line += tok
                continue
            if line.strip():
                lines.append(line.rstrip())
            line = tok.lstrip()
            while line and font.getlength(line.rstrip()) > max_width:
                cut = 1
                while cut < len(line) and font.getlength(line[: cut + 1]) <= max_width:
                    cut += 1
                lines.append(line[:cut])
                line = line[cut:].lstrip()
        lines.append(line.rstrip())
    return lines


def _with_colon(caption: str) -> str:
    if not caption or caption[-1] in ":：":
        return caption
    return caption + ("：" if any(_is_wide(ch) for ch in caption) else ":")


# --- layout ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Text:
    x: int
    baseline: int
    text: str
    font: ImageFont.FreeTypeFont


@dataclass(frozen=True)
class _Rule:
    y: int
    x0: int
    x1: int
    thickness: int
    dash: int = 0  # 0: solid


@dataclass(frozen=True)
class _Picture:
    x: int
    y: int
    image: Image.Image


@dataclass
class ReceiptLayout:
    """What goes where on the receipt; ``render`` paints it."""

    width: int
    height: int = 0
    items: list[_Text | _Rule | _Picture] = field(default_factory=list)

    def texts(self) -> list[str]:
        """Every line of text drawn, top to bottom (for tests and logs of non-personal data)."""
        return [item.text for item in self.items if isinstance(item, _Text)]

    def render(self) -> Image.Image:
        canvas = Image.new("L", (self.width, self.height), 255)
        draw = ImageDraw.Draw(canvas)
        for item in self.items:
            if isinstance(item, _Text):
                draw.text((item.x, item.baseline), item.text, font=item.font, fill=0, anchor="ls")
            elif isinstance(item, _Rule):
                y0, y1 = item.y, item.y + item.thickness - 1
                if item.dash:
                    for x in range(item.x0, item.x1, 2 * item.dash):
                        draw.rectangle((x, y0, min(x + item.dash, item.x1) - 1, y1), fill=0)
                else:
                    draw.rectangle((item.x0, y0, item.x1 - 1, y1), fill=0)
            else:
                canvas.paste(item.image, (item.x, item.y))
        table = [255 if level >= THRESHOLD else 0 for level in range(256)]
        return canvas.point(table, "1")


class _Builder:
    """Stacks blocks top to bottom at a scale set by the paper width."""

    def __init__(self, width: int):
        self.layout = ReceiptLayout(width)
        self.scale = width / 384
        self.margin = self.px(10)
        self.left = self.margin
        self.right = width - self.margin
        self.y = self.px(8)

    def px(self, dots: float) -> int:
        return max(1, round(dots * self.scale))

    def font(self, size: float, bold: bool = False) -> ImageFont.FreeTypeFont:
        return _font(self.px(size), bold)

    def space(self, dots: float) -> None:
        self.y += self.px(dots)

    def _line(self, x: int, text: str, font: ImageFont.FreeTypeFont) -> None:
        size = font.size
        # CJK glyphs sit in a box from 0.88 em above to 0.12 em below the baseline; a line of
        # 1.4 em leaves 0.2 em of air above and below it.
        self.layout.items.append(_Text(x, self.y + round(size * 1.08), text, font))
        self.y += round(size * 1.4)

    def paragraph(self, text: str, font: ImageFont.FreeTypeFont, center: bool = False) -> None:
        width = self.right - self.left
        lines = wrap_text(text, font, width)
        if center and len(lines) > 1:
            # Balance centred lines: the narrowest width that needs no more lines, so a title
            # never ends with one lonely word or character.
            low, high = width // 2, width
            while low < high:
                mid = (low + high) // 2
                if len(wrap_text(text, font, mid)) <= len(lines):
                    high = mid
                else:
                    low = mid + 1
            lines = wrap_text(text, font, high)
        for line in lines:
            if center:
                x = (self.layout.width - round(font.getlength(line))) // 2
            else:
                x = self.left
            self._line(x, line, font)

    def caption_width(self, captions: Sequence[str], font: ImageFont.FreeTypeFont) -> int:
        """Width of the caption column: the widest caption, at most 42 % of the line."""

        def width(caption: str) -> int:
            caption = _with_colon(caption)
            # A full-width colon carries its own space; a Latin one needs some after it.
            air = 0 if caption.endswith("：") else font.size / 3
            return math.ceil(font.getlength(caption) + air)

        widest = max((width(c) for c in captions), default=0)
        return min(widest, round((self.right - self.left) * 0.42))

    def rows(
        self, rows: Sequence[tuple[str, str]], font: ImageFont.FreeTypeFont, caption_width: int
    ) -> None:
        """Two columns: captions on the left, values aligned after the caption column."""
        value_x = self.left + caption_width + self.px(4)
        for caption, value in rows:
            caption_lines = wrap_text(_with_colon(caption), font, caption_width)
            value_lines = wrap_text(value, font, self.right - value_x)
            top = self.y
            for line in caption_lines:
                self._line(self.left, line, font)
            bottom, self.y = self.y, top
            for line in value_lines:
                self._line(value_x, line, font)
            self.y = max(self.y, bottom) + self.px(2)

    def rule(self, dashed: bool = False) -> None:
        thickness = self.px(1.5)
        dash = self.px(4) if dashed else 0
        self.layout.items.append(_Rule(self.y, self.left, self.right, thickness, dash))
        self.y += thickness

    def fitted_line(self, text: str, size: float, bold: bool) -> None:
        """One centred line as large as ``size`` allows while still fitting the paper."""
        font = self.font(size, bold)
        while font.size > 8 and font.getlength(text) > self.right - self.left:
            font = _font(font.size - 2, bold)
        left, top, right, bottom = font.getbbox(text, anchor="ls")
        x = (self.layout.width - (right - left)) // 2 - left
        # Tight box for large type: the reference has no descenders worth reserving space for.
        self.layout.items.append(_Text(x, self.y - top, text, font))
        self.y += bottom - top

    def picture(self, image: Image.Image) -> None:
        x = (self.layout.width - image.width) // 2
        self.layout.items.append(_Picture(x, self.y, image))
        self.y += image.height

    def finish(self) -> ReceiptLayout:
        self.layout.height = self.y + BOTTOM_MARGIN
        return self.layout


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


def local_time(created_at: datetime) -> str:
    """``created_at`` as YYYY-MM-DD HH:MM in China Standard Time; a naive time is taken as UTC."""
    if created_at.tzinfo is None:
        created_at = created_at.replace(tzinfo=UTC)
    return created_at.astimezone(CHINA_TZ).strftime("%Y-%m-%d %H:%M")


def layout_receipt(data: ReceiptData, width_dots: int = 384) -> ReceiptLayout:
    """Place every element of the receipt for paper ``width_dots`` wide."""
    if width_dots < 200:
        raise ReceiptError(f"paper width {width_dots} dots is too narrow for a receipt")
    b = _Builder(width_dots)
    body = b.font(20)
    small = b.font(17)

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
    rows.append((data.label("time"), local_time(data.created_at)))
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
