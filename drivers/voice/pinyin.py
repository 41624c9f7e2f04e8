"""Chinese text to tone-number pinyin for espeak-ng's ``cmn-latn-pinyin`` voice.

pypinyin (``Style.TONE3``, phrase context) does the reading; the project's override list
(config/voice/pinyin_overrides.json) fixes the phrases it gets wrong (还款 is huan2 kuan3,
not hai2 kuan3). Numbers become words first (drivers/voice/numbers.py); punctuation becomes
a pause: ``,`` for a short one, ``.`` for the end of a sentence.
"""

from __future__ import annotations

import functools
import json
import re
import threading
from pathlib import Path

from drivers.voice.base import VoiceError
from drivers.voice.numbers import ZH_LETTERS, numbers_to_zh

_SHORT_PAUSE = set("，、；：,;:·—-（）()《》“”\"'/")
_LONG_PAUSE = set("。！？!?…\n")
_SYLLABLE = re.compile(r"^[a-z]+[1-5]$")
_load_lock = threading.Lock()
_loaded: set[Path] = set()


def overrides_path() -> Path:
    from contract.resources import config_dir

    return config_dir() / "voice" / "pinyin_overrides.json"


def load_overrides(path: Path | None = None) -> dict[str, str]:
    """Read an override list and hand it to pypinyin (once per file, process-wide)."""
    from pypinyin import load_phrases_dict

    path = (path or overrides_path()).resolve()
    try:
        raw = json.loads(path.read_text("utf-8"))
    except (OSError, ValueError) as exc:
        raise VoiceError(f"{path}: the pinyin override list cannot be read ({exc})") from None
    phrases = {k: v for k, v in raw.items() if not k.startswith("_")}
    table = {}
    for phrase, reading in phrases.items():
        syllables = reading.split()
        if len(syllables) != len(phrase) or not all(_SYLLABLE.match(s) for s in syllables):
            raise VoiceError(f"{path}: {phrase}: expected one tone-number syllable per "
                             f"character, got {reading!r}")
        table[phrase] = [[s] for s in syllables]
    with _load_lock:
        if path not in _loaded:
            # style="tone2" takes tone numbers; pypinyin places each on the right vowel.
            load_phrases_dict(table, style="tone2")
            _loaded.add(path)
    return phrases


@functools.lru_cache(maxsize=1)
def _ensure_overrides() -> None:
    load_overrides()


def speech_tokens(text: str) -> list[str]:
    """Tone-number syllables of ``text``, with ``,`` and ``.`` where it pauses."""
    from pypinyin import Style, lazy_pinyin

    _ensure_overrides()
    words = numbers_to_zh(text)
    out: list[str] = []
    for chunk in lazy_pinyin(words, style=Style.TONE3, neutral_tone_with_five=True):
        for token in _split_chunk(chunk):
            if token in (",", ".") and (not out or out[-1] in (",", ".")):
                if token == "." and out:
                    out[-1] = "."
                continue
            out.append(token)
    while out and out[0] in (",", "."):
        out.pop(0)
    return out


def _split_chunk(chunk: str) -> list[str]:
    """One pypinyin result: a syllable, or a run of what pypinyin did not read."""
    if _SYLLABLE.match(chunk):
        return [chunk]
    out = []
    for piece in re.split(r"(\s+|[^\sa-z0-9])", chunk.lower()):
        if not piece or piece.isspace():
            continue
        if _SYLLABLE.match(piece):
            out.append(piece)
        elif piece in _LONG_PAUSE:
            out.append(".")
        elif piece in _SHORT_PAUSE:
            out.append(",")
        elif piece.isalpha():
            out.extend(" ".join(ZH_LETTERS.get(c.upper(), "") for c in piece).split())
    return out


def to_pinyin(text: str) -> str:
    """Tone-number syllables separated by spaces: 银行 -> ``yin2 hang2``."""
    return " ".join(t for t in speech_tokens(text) if t not in (",", "."))


def espeak_input(text: str) -> str:
    """What espeak-ng's pinyin voice is given: syllables with ``,`` and ``.`` as pauses."""
    return re.sub(r" ([,.])", r"\1", " ".join(speech_tokens(text)))
