"""Where things go on a receipt: text lines, rules and pictures stacked top to bottom, and
the 1-bit image they paint."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

from PIL import Image, ImageDraw, ImageFont

from kiosk.receipts.fonts import font as _font
from kiosk.receipts.wrap import with_colon as _with_colon
from kiosk.receipts.wrap import wrap_text

BOTTOM_MARGIN = 40  # blank dots before the cut
THRESHOLD = 150  # grey levels below this print black; a little bolder than 50 % on thermal paper


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


class ReceiptBuilder:
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
