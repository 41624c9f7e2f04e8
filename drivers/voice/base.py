"""The small interface every voice implements: speech is a device.

``speak`` starts playing and returns at once with a ``Playback`` handle; ``stop`` silences
the voice at once (any touch calls it). Qt-free; nothing here blocks the caller's thread
beyond starting a process.
"""

from __future__ import annotations

import abc
import threading
from dataclasses import dataclass
from pathlib import Path

from drivers.base import DeviceError

LOCALES = ("zh_CN", "en")


class VoiceError(DeviceError):
    """Speech that could not be made or played; the message is one line for a technician."""


class NoSoundDevice(VoiceError):
    """The sound device (ALSA/PipeWire) could not be opened."""


@dataclass(frozen=True)
class VoiceSettings:
    """The ``[voice]`` section: volume 0-100, rate in words per minute, ALSA device name."""

    volume: int = 80
    rate: int = 150
    device: str = "default"


@dataclass(frozen=True)
class Prompt:
    """A fixed text to have ready: its translation key, its text and its locale."""

    key: str
    text: str
    locale: str


class Playback(abc.ABC):
    """One utterance being played."""

    @abc.abstractmethod
    def wait(self, timeout: float | None = None) -> bool:
        """Block until playing ended (True) or ``timeout`` passed (False). Raises
        VoiceError when the sound could not be played (not when it was stopped)."""

    @abc.abstractmethod
    def stop(self) -> None:
        """Silence it at once; a no-op when it already ended."""

    @property
    @abc.abstractmethod
    def done(self) -> bool: ...


class FinishedPlayback(Playback):
    """Nothing to play (an empty text, a silent voice), or played elsewhere already."""

    def wait(self, timeout: float | None = None) -> bool:
        return True

    def stop(self) -> None:
        pass

    @property
    def done(self) -> bool:
        return True


class Voice(abc.ABC):
    """Speaks Chinese (``zh_CN``) and English (``en``) text."""

    engine: str = ""

    def __init__(self, settings: VoiceSettings | None = None):
        self.settings = settings or VoiceSettings()
        self._lock = threading.Lock()
        self._current: Playback | None = None

    def speak(self, text: str, locale: str, *, rate: int | None = None,
              volume: int | None = None, key: str | None = None) -> Playback:
        """Stop what is playing and start ``text``. ``key`` names a fixed prompt (its
        translation key): a recording dropped in for it, or the cache, is played."""
        _check_locale(locale)
        with self._lock:
            if self._current is not None:
                self._current.stop()
            self._current = self._start(text, locale, rate or self.settings.rate,
                                        self.settings.volume if volume is None else volume, key)
            return self._current

    def stop(self) -> None:
        """Silence the voice at once."""
        with self._lock:
            if self._current is not None:
                self._current.stop()
                self._current = None

    def close(self) -> None:
        self.stop()

    @abc.abstractmethod
    def _start(self, text: str, locale: str, rate: int, volume: int,
               key: str | None) -> Playback: ...

    @abc.abstractmethod
    def synthesize_to(self, path: Path, text: str, locale: str, *, rate: int | None = None,
                      volume: int | None = None, key: str | None = None) -> float:
        """Write ``text`` as a WAV file to ``path``; returns its length in seconds."""

    def prepare(self, prompts: list[Prompt]) -> int:
        """Have the fixed prompts ready to play at once; returns how many were made."""
        return 0

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def _check_locale(locale: str) -> None:
    if locale not in LOCALES:
        raise VoiceError(f"no voice for locale {locale!r} (expected one of {', '.join(LOCALES)})")
