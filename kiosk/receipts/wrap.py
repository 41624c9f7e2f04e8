"""Line breaking for receipts: between CJK characters, at spaces elsewhere, by the usual
Chinese rules for punctuation."""

from __future__ import annotations

import unicodedata

from PIL import ImageFont

# Characters that may not start a line (they stay with the text before them) and that may not
# end one (they go with the text after them): the usual Chinese line-breaking rules.
_NO_LINE_START = frozenset("，。、；：？！）》」』】〕〉”’…—·,.;:?!)]}%")
_NO_LINE_END = frozenset("（《「『【〔〈“‘([{")


def is_wide(ch: str) -> bool:
    return unicodedata.east_asian_width(ch) in ("W", "F")


def _tokens(text: str) -> list[str]:
    """Split into unbreakable pieces: each CJK character alone, other words with their spaces."""
    tokens: list[str] = []
    word = ""
    for ch in text:
        if is_wide(ch):
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


def with_colon(caption: str) -> str:
    if not caption or caption[-1] in ":：":
        return caption
    return caption + ("：" if any(is_wide(ch) for ch in caption) else ":")
