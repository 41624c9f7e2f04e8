"""WAV files of the fixed prompts, made once and played at once.

``<data_dir>/voice-cache/<hash>.wav`` (files 0600, folder 0700) is keyed by engine, text,
locale, rate and volume. A deployment may drop better recordings of the fixed prompts in
``<data_dir>/voice/<translation key>.<locale>.wav``; they win over synthesis, brought to the
configured volume (16-bit PCM) in the cache.
"""

from __future__ import annotations

import array
import hashlib
import io
import json
import logging
import sys
import wave
from pathlib import Path

from contract.atomic import TEMP_PREFIX, write_atomic
from drivers.voice.base import VoiceError

log = logging.getLogger(__name__)


class VoiceCache:
    def __init__(self, data_dir: Path):
        self.folder = Path(data_dir) / "voice-cache"
        self.drop_in_folder = Path(data_dir) / "voice"

    def path_for(self, engine: str, text: str, locale: str, rate: int, volume: int) -> Path:
        blob = json.dumps([engine, text, locale, rate, volume], ensure_ascii=False)
        return self.folder / f"{hashlib.sha256(blob.encode()).hexdigest()[:32]}.wav"

    def drop_in(self, key: str | None, locale: str) -> Path | None:
        """The recording a deployment dropped in for prompt ``key``, if any."""
        if not key or "/" in key or key.startswith("."):
            return None
        path = self.drop_in_folder / f"{key}.{locale}.wav"
        return path if path.is_file() else None

    def drop_in_at_volume(self, recording: Path, volume: int) -> Path:
        """``recording`` scaled to ``volume`` (100 = as recorded), made once into the cache."""
        stat = recording.stat()
        target = self.path_for("drop-in", f"{recording.name}:{stat.st_size}:{stat.st_mtime_ns}",
                               "", 0, volume)
        if not target.is_file():
            self.store(target, scale_wav(recording.read_bytes(), volume / 100))
        return target

    def store(self, path: Path, data: bytes) -> None:
        self.folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        write_atomic(path, data, mode=0o600)

    def prune(self, keep: set[Path]) -> int:
        """Remove cached files not in ``keep`` (prompts of an older menu); returns how many."""
        if not self.folder.is_dir():
            return 0
        removed = 0
        for path in self.folder.iterdir():
            stale = path.suffix == ".wav" and path not in keep
            if stale or path.name.startswith(TEMP_PREFIX):
                path.unlink(missing_ok=True)
                removed += 1
        return removed


def wav_seconds(data: bytes) -> float:
    """The length of a PCM WAV, from its data size (espeak-ng's ``--stdout`` header gives
    no real length)."""
    try:
        with wave.open(io.BytesIO(data)) as w:
            rate, frame = w.getframerate(), w.getsampwidth() * w.getnchannels()
    except (wave.Error, EOFError) as exc:
        raise VoiceError(f"not a WAV file ({exc})") from None
    at = data.find(b"data")
    if at < 0 or not rate or not frame:
        return 0.0
    return (len(data) - at - 8) // frame / rate


def fix_wav_header(data: bytes) -> bytes:
    """A streamed WAV (sizes 0xFFFFFFFF) with its RIFF and data sizes set."""
    at = data.find(b"data")
    if not data.startswith(b"RIFF") or at < 0:
        raise VoiceError("the synthesiser did not produce a WAV")
    size = len(data) - at - 8
    return (data[:4] + (len(data) - 8).to_bytes(4, "little") + data[8:at + 4]
            + size.to_bytes(4, "little") + data[at + 8:])


def scale_wav(data: bytes, factor: float) -> bytes:
    """16-bit PCM samples times ``factor``, clipped; other formats are returned as they are."""
    with wave.open(io.BytesIO(data)) as w:
        params, frames = w.getparams(), w.readframes(w.getnframes())
    if params.sampwidth != 2 or factor == 1:
        if params.sampwidth != 2:
            log.warning("a dropped-in recording is not 16-bit PCM: played at its own volume")
        return data
    samples = array.array("h", frames)
    if sys.byteorder == "big":
        samples.byteswap()
    for i, s in enumerate(samples):
        samples[i] = max(-32768, min(32767, int(s * factor)))
    if sys.byteorder == "big":
        samples.byteswap()
    out = io.BytesIO()
    with wave.open(out, "wb") as w:
        w.setparams(params)
        w.writeframes(samples.tobytes())
    return out.getvalue()

