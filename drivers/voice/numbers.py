"""Numbers turned into words before synthesis, read the way people read them.

ID numbers, phone numbers and references are read digit by digit (1 as 幺 yao1 in phone
numbers, as people say it on the phone); amounts, counts and dates are read naturally
(一千二百元, 二〇二六年十二月三日). espeak-ng's pinyin voice reads digits as one cardinal number
and drops decimal points, so nothing with a digit reaches it.
"""

from __future__ import annotations

import re

ZH_DIGITS = "零一二三四五六七八九"
YEAR_DIGITS = "〇一二三四五六七八九"
# Letters as Chinese speakers name them, in tone-number pinyin (passed through pypinyin as-is).
ZH_LETTERS = {
    "A": "ei1", "B": "bi4", "C": "xi1", "D": "di4", "E": "yi4", "F": "ai4 fu5", "G": "ji4",
    "H": "ai4 qi1", "I": "ai4", "J": "jie4", "K": "kai4", "L": "ai4 le5", "M": "ai4 mu5",
    "N": "en1", "O": "ou1", "P": "pi4", "Q": "qiu1", "R": "a4", "S": "ai4 si1", "T": "ti4",
    "U": "you1", "V": "wei1", "W": "da2 bu5 liu3", "X": "ai4 ke4 si1", "Y": "wai4", "Z": "zei4",
}
EN_DIGITS = "zero one two three four five six seven eight nine".split()
MONTHS_EN = ("January February March April May June July August September October November "
             "December").split()

# One pass over the text; the first alternative that matches at a place wins.
_TOKENS = re.compile(r"""
    (?P<date>(?<!\d)(?P<dy>\d{4})\s*[-/.年]\s*(?P<dm>\d{1,2})\s*[-/.月]\s*(?P<dd>\d{1,2})\s*[日号]?(?!\d))
  | (?P<year>(?<!\d)(?P<yy>\d{4})\s*年)
  | (?P<time>(?<![\d:])(?P<th>[01]?\d|2[0-3]):(?P<tm>[0-5]\d)(?![\d:]))
  | (?P<id>(?<![\dA-Za-z])(\d{17}[\dXx]|\d{15})(?![\dA-Za-z]))
  | (?P<phone>(?<![\dA-Za-z])
        (1\d{10}|0\d{2,3}[- ]?\d{7,8}|[48]00[- ]?\d{3}[- ]?\d{4})(?![\dA-Za-z]))
  | (?P<hotline>(?P<hw>拨打|致电|热线|电话|hotline|call)[：:\s]*(?P<hn>\d{3,12})(?!\d))
  | (?P<ref>(?<![A-Za-z0-9_-])(?=[A-Za-z0-9-]*\d)(?=[A-Za-z0-9-]*[A-Za-z])
        [A-Za-z0-9]+(?:-[A-Za-z0-9]+)*(?![A-Za-z0-9_-]))
  | (?P<money>(?<![\d.])(?P<mw>\d+)(?:\.(?P<mf>\d{1,2}))?\s*(?P<mu>元|块|yuan|CNY))
  | (?P<percent>(?<![\d.])(?P<pn>\d+(?:\.\d+)?)\s*%)
  | (?P<decimal>(?<![\d.])(?P<xw>\d+)\.(?P<xf>\d+)(?![\d.]))
  | (?P<integer>\d+)
""", re.VERBOSE | re.IGNORECASE)


# --- Chinese ------------------------------------------------------------------------------

def digits_zh(text: str, *, phone: bool = False) -> str:
    """Each digit (and letter) on its own: 13812345678 -> 幺三八幺二三四五六七八 for a phone."""
    out = []
    for ch in text:
        if ch.isdigit():
            out.append("幺" if phone and ch == "1" else ZH_DIGITS[int(ch)])
        elif ch.upper() in ZH_LETTERS:
            out.append(f" {ZH_LETTERS[ch.upper()]} ")
    return "".join(out)


def _below_10000(n: int, *, leading: bool) -> str:
    units = ((1000, "千"), (100, "百"), (10, "十"), (1, ""))
    out, zero = [], False
    for size, unit in units:
        d = n // size % 10
        if d == 0:
            zero = bool(out)
            continue
        if zero:
            out.append("零")
            zero = False
        if size == 10 and d == 1 and leading and not out:
            out.append("十")  # 十五, not 一十五
        elif d == 2 and size >= 1000:
            out.append("两" + unit)
        else:
            out.append(ZH_DIGITS[d] + unit)
    return "".join(out)


def cardinal_zh(n: int) -> str:
    """12 -> 十二, 1005 -> 一千零五, 500000 -> 五十万, 2000 -> 两千."""
    if n == 0:
        return "零"
    if n >= 10**12:
        return digits_zh(str(n))
    parts, groups = [], [(10**8, "亿"), (10**4, "万"), (1, "")]
    gap = False
    for size, unit in groups:
        chunk = n // size % 10000
        if chunk == 0:
            gap = bool(parts)
            continue
        if parts and (gap or chunk < 1000):
            parts.append("零")
        word = _below_10000(chunk, leading=not parts)
        parts.append(("两" if word == "二" and unit else word) + unit)
        gap = False
    return "".join(parts)


def amount_zh(whole: str, fraction: str | None, unit: str) -> str:
    """1234.50元 -> 一千二百三十四元五角; 0.05元 -> 五分."""
    unit = "块" if unit == "块" else "元"
    jiao, fen = (int(c) for c in (fraction or "").ljust(2, "0")[:2])
    out = cardinal_zh(int(whole)) + unit if int(whole) or not (jiao or fen) else ""
    if jiao:
        out += ZH_DIGITS[jiao] + "角"
    if fen:
        out += ("零" if out and not jiao else "") + ZH_DIGITS[fen] + "分"
    return out


def date_zh(year: str, month: str, day: str | None = None) -> str:
    out = "".join(YEAR_DIGITS[int(c)] for c in year) + "年"
    out += cardinal_zh(int(month)) + "月"
    return out + (cardinal_zh(int(day)) + "日" if day else "")


def _zh_token(m: re.Match) -> str:
    g, kind = m.groupdict(), m.lastgroup
    if kind == "date":
        return date_zh(g["dy"], g["dm"], g["dd"])
    if kind == "year":
        return "".join(YEAR_DIGITS[int(c)] for c in g["yy"]) + "年"
    if kind == "time":
        minutes = int(g["tm"])
        return cardinal_zh(int(g["th"])) + "点" + (cardinal_zh(minutes) + "分" if minutes else "")
    if kind == "id":
        return digits_zh(m.group())
    if kind == "phone":
        return digits_zh(m.group(), phone=True)
    if kind == "hotline":
        return g["hw"] + digits_zh(g["hn"], phone=True)
    if kind == "ref":
        return digits_zh(m.group())
    if kind == "money":
        return amount_zh(g["mw"], g["mf"], g["mu"])
    if kind == "percent":
        return "百分之" + _decimal_zh(g["pn"])
    if kind == "decimal":
        return _decimal_zh(m.group())
    text = m.group()
    return digits_zh(text) if (len(text) > 1 and text[0] == "0") or len(text) > 12 \
        else cardinal_zh(int(text))


def _decimal_zh(text: str) -> str:
    whole, _, frac = text.partition(".")
    return cardinal_zh(int(whole)) + ("点" + digits_zh(frac) if frac else "")


def numbers_to_zh(text: str) -> str:
    """``text`` with every number (and every reference's letters) in Chinese words."""
    return _TOKENS.sub(_zh_token, text)


# --- English ------------------------------------------------------------------------------

def digits_en(text: str) -> str:
    return " ".join(EN_DIGITS[int(c)] if c.isdigit() else c.upper()
                    for c in text if c.isalnum())


def _en_token(m: re.Match) -> str:
    g, kind = m.groupdict(), m.lastgroup
    if kind == "date":
        month = int(g["dm"])
        if not 1 <= month <= 12:
            return digits_en(m.group())
        return f"{int(g['dd'])} {MONTHS_EN[month - 1]} {g['dy']}"
    if kind in ("id", "phone", "ref"):
        return digits_en(m.group()) + " "
    if kind == "hotline":
        return f"{g['hw']} {digits_en(g['hn'])} "
    if kind == "money":
        fen = int((g["mf"] or "").ljust(2, "0"))
        cents = f" {fen} fen" if fen else ""
        return f"{int(g['mw'])} yuan{cents}"
    if kind == "decimal":
        return f"{int(g['xw'])} point {digits_en(g['xf'])}"
    if kind == "integer" and len(m.group()) > 1 and m.group()[0] == "0":
        return digits_en(m.group())
    return m.group()  # espeak-ng's English voice reads cardinals, years and times well


def numbers_to_en(text: str) -> str:
    return re.sub(r"\s{2,}", " ", _TOKENS.sub(_en_token, text)).strip()
