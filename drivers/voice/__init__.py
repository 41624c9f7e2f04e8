"""Speech as a device: ``create_voice`` picks the engine from the ``[voice]`` settings.

Engines (one explicit table, imported only when chosen): ``espeak-ng`` (the real voice),
``sim`` (records what it was asked) and ``none`` (silent).
"""

from __future__ import annotations

import importlib
from pathlib import Path

from drivers.voice.base import (
    NoSoundDevice,
    Playback,
    Prompt,
    Voice,
    VoiceError,
    VoiceSettings,
)

VOICES = {
    "espeak-ng": "drivers.voice.espeak:EspeakVoice",
    "sim": "drivers.voice.sim:SimVoice",
    "none": "drivers.voice.sim:NoVoice",
}

__all__ = ["VOICES", "NoSoundDevice", "Playback", "Prompt", "Voice", "VoiceError",
           "VoiceSettings", "create_voice"]


def create_voice(engine: str, settings: VoiceSettings, *, data_dir: Path | None = None) -> Voice:
    """The voice named ``engine``; ``data_dir`` holds the espeak-ng voice's prompt cache
    (``voice-cache/``) and a deployment's recordings (``voice/``)."""
    from drivers.base import DeviceConfigError

    target = VOICES.get(engine)
    if target is None:
        raise DeviceConfigError(f"voice engine {engine!r}: unknown "
                                f"(known: {', '.join(VOICES)})")
    module, cls = target.split(":")
    voice_cls = getattr(importlib.import_module(module), cls)
    if engine == "espeak-ng":
        from drivers.voice.cache import VoiceCache

        return voice_cls(settings, cache=VoiceCache(data_dir) if data_dir else None)
    return voice_cls(settings)
