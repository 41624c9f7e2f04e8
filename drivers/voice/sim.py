"""Voices that make no sound: ``sim`` records what it was asked (tests, the demo) and
``none`` says nothing (speech switched off)."""

from __future__ import annotations

import io
import wave
from dataclasses import dataclass
from pathlib import Path

from drivers.voice.base import FinishedPlayback, Playback, Prompt, Voice, VoiceError

SIM_RATE = 16000


@dataclass(frozen=True)
class Spoken:
    text: str
    locale: str
    rate: int
    volume: int
    key: str | None
    pinyin: str  # tone-number syllables for Chinese, "" for English


class SimPlayback(Playback):
    """Plays until stopped or ``finish()``ed, so tests can see a touch silence it."""

    def __init__(self):
        self.stopped = False
        self._ended = False

    def finish(self) -> None:
        self._ended = True

    def wait(self, timeout: float | None = None) -> bool:
        return self.done

    def stop(self) -> None:
        self.stopped = self._ended = True

    @property
    def done(self) -> bool:
        return self._ended


class SimVoice(Voice):
    engine = "sim"

    def __init__(self, settings=None):
        super().__init__(settings)
        self.spoken: list[Spoken] = []
        self.prepared: list[Prompt] = []
        self.playbacks: list[SimPlayback] = []

    def _start(self, text, locale, rate, volume, key) -> Playback:
        self.spoken.append(Spoken(text, locale, rate, volume, key, _pinyin(text, locale)))
        playback = SimPlayback()
        self.playbacks.append(playback)
        return playback

    def synthesize_to(self, path: Path, text: str, locale: str, *, rate: int | None = None,
                      volume: int | None = None, key: str | None = None) -> float:
        """A silent WAV, a quarter of a second per syllable or word."""
        self.spoken.append(Spoken(text, locale, rate or self.settings.rate,
                                  self.settings.volume if volume is None else volume, key,
                                  _pinyin(text, locale)))
        words = len((_pinyin(text, locale) or text).split())
        frames = SIM_RATE * words // 4
        out = io.BytesIO()
        with wave.open(out, "wb") as w:
            w.setnchannels(1)
            w.setsampwidth(2)
            w.setframerate(SIM_RATE)
            w.writeframes(b"\0\0" * frames)
        Path(path).write_bytes(out.getvalue())
        return frames / SIM_RATE

    def prepare(self, prompts: list[Prompt]) -> int:
        self.prepared = list(prompts)
        return len(prompts)


class NoVoice(Voice):
    """Speech switched off (``[voice] enabled = false``)."""

    engine = "none"

    def _start(self, text, locale, rate, volume, key) -> Playback:
        return FinishedPlayback()

    def synthesize_to(self, path, text, locale, *, rate=None, volume=None, key=None) -> float:
        raise VoiceError("the voice is switched off ([voice] enabled = false)")


def _pinyin(text: str, locale: str) -> str:
    if locale != "zh_CN":
        return ""
    from drivers.voice.pinyin import to_pinyin

    return to_pinyin(text)
