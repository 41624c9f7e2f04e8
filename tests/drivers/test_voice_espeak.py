"""The espeak-ng voice: real WAVs from real espeak-ng, the prompt cache, drop-in recordings,
and playing through a stand-in aplay (no sound card needed)."""

from __future__ import annotations

import array
import io
import os
import stat
import sys
import time
import wave

import pytest

from drivers.voice import NoSoundDevice, Prompt, VoiceError, VoiceSettings, create_voice
from drivers.voice.cache import VoiceCache, scale_wav, wav_seconds
from drivers.voice.espeak import EspeakVoice
from tests.drivers.voice_fakes import (
    PLAYER_NO_DEVICE,
    PLAYER_OK,
    PLAYER_SLOW,
    counting_espeak,
    install,
    lines,
    needs_espeak,
)

pytestmark = needs_espeak
HOME = Prompt("home.subtitle", "请点一下您要办的事", "zh_CN")


def samples(data: bytes) -> tuple[float, array.array, int]:
    with wave.open(io.BytesIO(data)) as w:
        assert w.getsampwidth() == 2 and w.getnchannels() == 1
        rate, frames = w.getframerate(), w.readframes(w.getnframes())
    pcm = array.array("h", frames)
    if sys.byteorder == "big":
        pcm.byteswap()
    return len(pcm) / rate, pcm, rate


def rms(pcm: array.array) -> float:
    return (sum(s * s for s in pcm) / max(1, len(pcm))) ** 0.5


@pytest.fixture
def voice(tmp_path) -> EspeakVoice:
    return EspeakVoice(VoiceSettings(), cache=VoiceCache(tmp_path / "data"))


@pytest.mark.parametrize(("text", "locale", "low", "high"), [
    ("请点一下您要办的事", "zh_CN", 1.5, 6.0),
    ("您好，欢迎自助办理。请把身份证放到读卡器上。", "zh_CN", 3.0, 12.0),
    ("Please tap the service you need.", "en", 1.0, 5.0),
])
def test_real_wavs_have_speech_of_the_right_length_and_loudness(voice, tmp_path, text, locale,
                                                                 low, high):
    out = tmp_path / "speech.wav"
    seconds = voice.synthesize_to(out, text, locale)
    length, pcm, _ = samples(out.read_bytes())
    assert seconds == pytest.approx(length, abs=0.01)
    assert low < length < high
    assert rms(pcm) > 1000  # speech, not silence
    assert max(abs(s) for s in pcm) < 32767  # not clipped at the default volume


def test_volume_and_rate_change_the_sound(voice, tmp_path):
    loud, quiet, slow = tmp_path / "a.wav", tmp_path / "b.wav", tmp_path / "c.wav"
    voice.synthesize_to(loud, "请核对您的信息", "zh_CN", volume=100)
    voice.synthesize_to(quiet, "请核对您的信息", "zh_CN", volume=30)
    voice.synthesize_to(slow, "请核对您的信息", "zh_CN", rate=90, volume=100)
    (t_loud, p_loud, _), (_, p_quiet, _) = samples(loud.read_bytes()), samples(quiet.read_bytes())
    assert rms(p_quiet) < rms(p_loud) * 0.6
    assert samples(slow.read_bytes())[0] > t_loud * 1.3


def test_prepare_caches_prompts_once_in_private_files(tmp_path):
    log = tmp_path / "espeak.log"
    espeak = counting_espeak(tmp_path / "bin", log)
    cache = VoiceCache(tmp_path / "data")
    voice = EspeakVoice(VoiceSettings(), cache=cache, espeak=str(espeak))
    assert voice.prepare([HOME, Prompt("nav.back", "Back", "en")]) == 2
    assert len(lines(log)) == 2
    assert voice.prepare([HOME, Prompt("nav.back", "Back", "en")]) == 0
    assert len(lines(log)) == 2
    assert stat.S_IMODE(cache.folder.stat().st_mode) == 0o700
    files = list(cache.folder.glob("*.wav"))
    assert len(files) == 2 and all(stat.S_IMODE(f.stat().st_mode) == 0o600 for f in files)
    # the menu changed: the prompt no longer asked for is removed
    voice.prepare([HOME])
    assert len(list(cache.folder.glob("*.wav"))) == 1


def test_a_cached_prompt_plays_with_no_new_synthesis(tmp_path):
    log, played = tmp_path / "espeak.log", tmp_path / "aplay.log"
    espeak = counting_espeak(tmp_path / "bin", log)
    player = install(tmp_path / "bin", "aplay", PLAYER_OK, log=str(played))
    voice = EspeakVoice(VoiceSettings(device="plughw:1"), cache=VoiceCache(tmp_path / "data"),
                        espeak=str(espeak), player=str(player))
    voice.prepare([HOME])
    runs = len(lines(log))
    assert voice.speak(HOME.text, HOME.locale, key=HOME.key).wait(30)
    assert len(lines(log)) == runs  # the cache hit started no espeak-ng
    (args,) = lines(played)
    assert args.startswith("-q -D plughw:1 ") and args.endswith(".wav")
    # dynamic text (maybe a resident's) is piped and never stored
    before = set(voice.cache.folder.iterdir())
    assert voice.speak("您的手机号 13812345678", "zh_CN").wait(30)
    assert len(lines(log)) == runs + 1
    assert lines(played)[-1] == "-q -D plughw:1 -"
    assert set(voice.cache.folder.iterdir()) == before


def test_stop_kills_playback_at_once(tmp_path):
    pids = tmp_path / "pids"
    player = install(tmp_path / "bin", "aplay", PLAYER_SLOW, log=str(pids))
    voice = EspeakVoice(VoiceSettings(), cache=VoiceCache(tmp_path / "data"), player=str(player))
    voice.prepare([HOME])
    starts = (lambda: voice.speak(HOME.text, HOME.locale, key=HOME.key),
              lambda: voice.speak("正在读卡，请不要移动身份证", "zh_CN"))
    for n, start in enumerate(starts, 1):
        playback = start()
        wait_for(lambda n=n: len(lines(pids)) == n)  # the player runs
        assert not playback.done
        assert not playback.wait(timeout=0.01)
        voice.stop()  # what any touch does
        assert playback.done
        assert playback.wait(timeout=0)  # stopped is not an error
        with pytest.raises(ProcessLookupError):
            os.kill(int(lines(pids)[-1]), 0)


def wait_for(condition, limit_s: float = 30) -> None:
    deadline = time.monotonic() + limit_s
    while not condition():
        assert time.monotonic() < deadline, "gave up waiting"
        time.sleep(0.01)


def test_a_new_utterance_stops_the_one_playing(tmp_path):
    player = install(tmp_path / "bin", "aplay", PLAYER_SLOW, log=str(tmp_path / "pids"))
    voice = EspeakVoice(VoiceSettings(), player=str(player))
    first = voice.speak("第一句", "zh_CN")
    second = voice.speak("第二句", "zh_CN")
    assert first.done and not second.done
    voice.close()
    assert second.done


def test_no_sound_device_is_one_clear_error(tmp_path):
    player = install(tmp_path / "bin", "aplay", PLAYER_NO_DEVICE)
    voice = EspeakVoice(VoiceSettings(), player=str(player))
    with pytest.raises(NoSoundDevice) as err:
        voice.speak("你好", "zh_CN").wait(30)
    assert "no sound device 'default'" in str(err.value)
    assert "audio open error" in str(err.value) and "\n" not in str(err.value)


def test_missing_programs_are_voice_errors(tmp_path):
    voice = EspeakVoice(VoiceSettings(), espeak=str(tmp_path / "nope"),
                        player=str(tmp_path / "nope"))
    with pytest.raises(VoiceError, match="install espeak-ng"):
        voice.synthesize_to(tmp_path / "x.wav", "你好", "zh_CN")
    with pytest.raises(VoiceError, match="cannot be started"):
        voice.speak("你好", "zh_CN")
    with pytest.raises(VoiceError, match="no voice for locale"):
        voice.speak("hello", "fr")


def test_a_dropped_in_recording_wins_over_synthesis(tmp_path):
    data = tmp_path / "data"
    (data / "voice").mkdir(parents=True)
    recording = EspeakVoice(VoiceSettings()).synthesize(
        "这是一段录音", "zh_CN", rate=150, volume=100)
    (data / "voice" / "home.subtitle.zh_CN.wav").write_bytes(recording)
    log, played = tmp_path / "espeak.log", tmp_path / "aplay.log"
    espeak = counting_espeak(tmp_path / "bin", log)
    player = install(tmp_path / "bin", "aplay", PLAYER_OK, log=str(played))
    voice = EspeakVoice(VoiceSettings(volume=50), cache=VoiceCache(data), espeak=str(espeak),
                        player=str(player))
    assert voice.prepare([HOME]) == 0 and lines(log) == []
    out = tmp_path / "out.wav"
    seconds = voice.synthesize_to(out, HOME.text, HOME.locale, key=HOME.key)
    assert seconds == pytest.approx(wav_seconds(recording), abs=0.01)
    assert rms(samples(out.read_bytes())[1]) == pytest.approx(
        rms(samples(recording)[1]) * 0.5, rel=0.05)  # brought to the configured volume
    voice.speak(HOME.text, HOME.locale, key=HOME.key).wait(30)
    assert lines(log) == [] and lines(played)[-1].endswith(".wav")
    # without a key (dynamic text) the recording is not used
    voice.synthesize_to(out, HOME.text, HOME.locale)
    assert lines(log) == ["run"]


def test_scale_wav_clips_instead_of_wrapping(voice):
    loud = voice.synthesize("好", "zh_CN", rate=150, volume=100)
    _, pcm, _ = samples(scale_wav(loud, 50.0))
    assert max(pcm) == 32767 and min(pcm) == -32768


def test_create_voice_by_engine(tmp_path):
    assert create_voice("espeak-ng", VoiceSettings(), data_dir=tmp_path).engine == "espeak-ng"
    assert create_voice("sim", VoiceSettings()).engine == "sim"
    from drivers.base import DeviceConfigError

    with pytest.raises(DeviceConfigError, match="'festival'"):
        create_voice("festival", VoiceSettings())


def test_wav_seconds_rejects_what_is_not_a_wav():
    with pytest.raises(VoiceError):
        wav_seconds(b"nonsense")
