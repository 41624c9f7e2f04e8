"""The receipt's CJK font: Noto Sans CJK SC found on disk or through fontconfig."""

from __future__ import annotations

import functools
import logging
import subprocess
from pathlib import Path

from PIL import ImageFont

from kiosk.receipts import ReceiptError

logger = logging.getLogger(__name__)

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
def font(size: int, bold: bool = False) -> ImageFont.FreeTypeFont:
    path, index = find_cjk_font(bold)
    try:
        return ImageFont.truetype(path, size, index=index)
    except OSError as exc:
        raise ReceiptError(f"cannot load receipt font {path} (face {index}): {exc}") from exc
