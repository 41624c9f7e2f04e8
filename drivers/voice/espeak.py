"""The espeak-ng voice: espeak-ng and aplay run as programs (espeak-ng is GPL-3: never linked).

Chinese goes to espeak-ng's ``cmn-latn-pinyin`` voice as tone-number pinyin (it reads Chinese
characters badly), English to its ``en`` voice. Fixed prompts play from the WAV cache (one
``aplay`` process); other text is piped ``espeak-ng --stdout | aplay`` and never stored, since
it may name a resident. ``aplay`` plays through ALSA, or PipeWire through its ALSA plugin.
"""

from __future__ import annotations

import logging
import shutil
import subprocess
from pathlib import Path

from drivers.voice.base import (
    FinishedPlayback,
    NoSoundDevice,
    Playback,
    Prompt,
    Voice,
    VoiceError,
    VoiceSettings,
)
from drivers.voice.cache import VoiceCache, fix_wav_header, wav_seconds

log = logging.getLogger(__name__)

ESPEAK_VOICES = {"zh_CN": "cmn-latn-pinyin", "en": "en"}
SYNTH_TIMEOUT_S = 30


def speech_input(text: str, locale: str) -> str:
    """The text espeak-ng is given: pinyin for Chinese, numbers as words for English."""
    if locale == "zh_CN":
        from drivers.voice.pinyin import espeak_input

        return espeak_input(text)
    from drivers.voice.numbers import numbers_to_en

    return numbers_to_en(text)


class ProcessPlayback(Playback):
    """Playing through child processes; the last one is the player."""

    def __init__(self, procs: list[subprocess.Popen], device: str):
        self._procs, self._device, self._stopped = procs, device, False

    @property
    def done(self) -> bool:
        return self._procs[-1].poll() is not None

    def wait(self, timeout: float | None = None) -> bool:
        player = self._procs[-1]
        try:
            _, err = player.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            return False
        for proc in self._procs[:-1]:
            proc.wait()
        if player.returncode != 0 and not self._stopped:
            raise _player_error(player.returncode, err or b"", self._device)
        return True

    def stop(self) -> None:
        self._stopped = True
        for proc in reversed(self._procs):
            if proc.poll() is None:
                proc.kill()
        for proc in self._procs:
            proc.wait()
        for proc in self._procs:
            for stream in (proc.stdin, proc.stdout, proc.stderr):
                if stream is not None:
                    stream.close()


def _player_error(code: int, err: bytes, device: str) -> VoiceError:
    lines = [ln.strip() for ln in err.decode(errors="replace").splitlines() if ln.strip()]
    last = lines[-1] if lines else f"exit status {code}"
    if "audio open error" in last or "Unknown PCM" in last or "No such" in last:
        return NoSoundDevice(f"no sound device {device!r}: {last}")
    return VoiceError(f"playing failed on {device!r}: {last}")


class EspeakVoice(Voice):
    engine = "espeak-ng"

    def __init__(self, settings: VoiceSettings | None = None, *, cache: VoiceCache | None = None,
                 espeak: str = "espeak-ng", player: str = "aplay"):
        super().__init__(settings)
        self.cache, self.espeak, self.player = cache, espeak, player

    # --- playing --------------------------------------------------------------------------

    def _start(self, text, locale, rate, volume, key) -> Playback:
        ready = self._ready_file(text, locale, rate, volume, key)
        if ready is not None:
            return ProcessPlayback([self._popen(self._player_argv(str(ready)))],
                                   self.settings.device)
        words = speech_input(text, locale)
        if not words:
            return FinishedPlayback()
        synth = self._popen(self._espeak_argv(locale, rate, volume, "--stdout"),
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE)
        try:
            play = self._popen(self._player_argv("-"), stdin=synth.stdout)
        except VoiceError:
            synth.kill()
            raise
        synth.stdout.close()  # the player holds the pipe now; espeak-ng sees it close
        playback = ProcessPlayback([synth, play], self.settings.device)
        try:
            synth.stdin.write(words.encode())  # a few hundred bytes: fits the pipe at once
            synth.stdin.close()
        except OSError as exc:  # espeak-ng died at once
            playback.stop()
            raise VoiceError(f"{self.espeak} stopped before it was given the text ({exc})"
                             ) from None
        return playback

    def _ready_file(self, text, locale, rate, volume, key) -> Path | None:
        """A file to play at once: a dropped-in recording or a cached prompt."""
        if self.cache is None or key is None:
            return None
        recording = self.cache.drop_in(key, locale)
        if recording is not None:
            return self.cache.drop_in_at_volume(recording, volume)
        cached = self.cache.path_for(self.engine, text, locale, rate, volume)
        return cached if cached.is_file() else None

    def _player_argv(self, source: str) -> list[str]:
        return [self.player, "-q", "-D", self.settings.device, source]

    def _espeak_argv(self, locale: str, rate: int, volume: int, *out: str) -> list[str]:
        return [self.espeak, "-v", ESPEAK_VOICES[locale], "-s", str(rate), "-a", str(volume),
                "--stdin", *out]

    def _popen(self, argv: list[str], **kw) -> subprocess.Popen:
        try:
            return subprocess.Popen(argv, stderr=subprocess.PIPE, **kw)
        except OSError as exc:
            raise VoiceError(f"{argv[0]} cannot be started ({exc.strerror}); "
                             f"install {'alsa-utils' if argv[0] == self.player else 'espeak-ng'}"
                             ) from None

    # --- files ----------------------------------------------------------------------------

    def synthesize(self, text: str, locale: str, rate: int, volume: int) -> bytes:
        """``text`` as WAV bytes, made by espeak-ng now (blocking, ~10-50 ms)."""
        words = speech_input(text, locale)
        try:
            done = subprocess.run(self._espeak_argv(locale, rate, volume, "--stdout"),
                                  input=words.encode(), capture_output=True,
                                  timeout=SYNTH_TIMEOUT_S, check=False)
        except OSError as exc:
            raise VoiceError(f"{self.espeak} cannot be started ({exc.strerror}); "
                             "install espeak-ng") from None
        except subprocess.TimeoutExpired:
            raise VoiceError(f"{self.espeak} took over {SYNTH_TIMEOUT_S} s") from None
        if done.returncode != 0:
            err = done.stderr.decode(errors="replace").strip().splitlines()
            raise VoiceError(f"{self.espeak} failed: {err[-1] if err else done.returncode}")
        return fix_wav_header(done.stdout)

    def synthesize_to(self, path: Path, text: str, locale: str, *, rate: int | None = None,
                      volume: int | None = None, key: str | None = None) -> float:
        rate = rate or self.settings.rate
        volume = self.settings.volume if volume is None else volume
        ready = self._ready_file(text, locale, rate, volume, key)
        data = ready.read_bytes() if ready is not None else self.synthesize(
            text, locale, rate, volume)
        Path(path).write_bytes(data)
        return wav_seconds(data)

    def prepare(self, prompts: list[Prompt]) -> int:
        """Synthesise every prompt not yet cached (and no recording dropped in for it);
        files of prompts no longer asked for are removed."""
        if self.cache is None:
            return 0
        s, made, keep = self.settings, 0, set()
        for p in prompts:
            path = self.cache.path_for(self.engine, p.text, p.locale, s.rate, s.volume)
            keep.add(path)
            recording = self.cache.drop_in(p.key, p.locale)
            if recording is not None:
                keep.add(self.cache.drop_in_at_volume(recording, s.volume))
            elif not path.is_file():
                self.cache.store(path, self.synthesize(p.text, p.locale, s.rate, s.volume))
                made += 1
        self.cache.prune(keep)
        log.info("voice: %d prompts ready, %d synthesised", len(prompts), made)
        return made


def espeak_available(espeak: str = "espeak-ng") -> bool:
    return shutil.which(espeak) is not None

