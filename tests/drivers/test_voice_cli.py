"""``kiosk diag test-voice``, the [voice] section and the sim and none voices."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import wave
from pathlib import Path

import pytest

from drivers.voice import Prompt, VoiceError, VoiceSettings, create_voice
from kiosk.config import ConfigError, demo_config, load_config
from tests.drivers.voice_fakes import PLAYER_NO_DEVICE, PLAYER_OK, install, lines, needs_espeak

REPO = Path(__file__).resolve().parents[2]


def write_config(tmp_path: Path, voice: str = "") -> Path:
    path = tmp_path / "kiosk.toml"
    path.write_text(f'[kiosk]\ndata_dir = "{tmp_path / "data"}"\n[voice]\n{voice}', "utf-8")
    return path


def kiosk(tmp_path: Path, *args: str, bin_dir: Path | None = None):
    env = {k: v for k, v in os.environ.items() if k != "KIOSK_CONFIG"}
    env["PYTHONPATH"] = str(REPO)
    if bin_dir is not None:
        env["PATH"] = f"{bin_dir}{os.pathsep}{env['PATH']}"
    return subprocess.run([sys.executable, "-m", "kiosk", "diag", "test-voice", *args],
                          cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60)


def audit_entries(tmp_path: Path) -> list[dict]:
    folder = tmp_path / "data" / "diagnostics" / "audit"
    return [json.loads(line) for f in sorted(folder.glob("*")) for line in lines(f)]


@needs_espeak
def test_out_writes_the_home_prompt_as_a_wav_and_prints_json(tmp_path):
    cfg = write_config(tmp_path)
    out = tmp_path / "home.wav"
    proc = kiosk(tmp_path, "--config", str(cfg), "--out", str(out), "--json")
    assert proc.returncode == 0, proc.stderr
    result = json.loads(proc.stdout)
    assert result["engine"] == "espeak-ng"
    assert result["text"] == "请点一下您要办的事"
    assert result["pinyin"] == "qing3 dian3 yi1 xia4 nin2 yao4 ban4 de5 shi4"
    with wave.open(str(out)) as w:
        seconds = w.getnframes() / w.getframerate()
    assert result["seconds"] == pytest.approx(seconds, abs=0.01) and seconds > 1
    (entry,) = audit_entries(tmp_path)
    assert entry["event"] == "test-voice" and entry["outcome"] == "ok"
    assert entry["detail"]["via"] == "cli"


@needs_espeak
def test_text_plays_through_the_configured_device(tmp_path):
    cfg = write_config(tmp_path, 'device = "plughw:0,0"\nvolume = 60\n')
    played = tmp_path / "aplay.log"
    bin_dir = tmp_path / "bin"
    install(bin_dir, "aplay", PLAYER_OK, log=str(played))
    proc = kiosk(tmp_path, "--config", str(cfg), "--text", "还款 13812345678", "--json",
                 bin_dir=bin_dir)
    assert proc.returncode == 0, proc.stderr
    result = json.loads(proc.stdout)
    assert result["pinyin"] == ("huan2 kuan3 yao1 san1 ba1 yao1 er4 san1 si4 wu3 liu4 qi1 "
                                "ba1")
    assert result["played"] is True and result["seconds"] > 1
    assert lines(played) == ["-q -D plughw:0,0 -"]


@needs_espeak
def test_english_text_has_no_pinyin_and_plain_output(tmp_path):
    cfg = write_config(tmp_path)
    proc = kiosk(tmp_path, "--config", str(cfg), "--text", "Hello", "--out",
                 str(tmp_path / "x.wav"))
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith("espeak-ng: ") and "written to" in proc.stdout
    proc = kiosk(tmp_path, "--config", str(cfg), "--text", "Hello", "--out",
                 str(tmp_path / "x.wav"), "--json")
    assert "pinyin" not in json.loads(proc.stdout)


@needs_espeak
def test_no_sound_device_is_one_line_and_exit_1(tmp_path):
    cfg = write_config(tmp_path)
    bin_dir = tmp_path / "bin"
    install(bin_dir, "aplay", PLAYER_NO_DEVICE)
    proc = kiosk(tmp_path, "--config", str(cfg), bin_dir=bin_dir)
    assert proc.returncode == 1
    assert proc.stdout == ""
    (line,) = proc.stderr.splitlines()
    assert line.startswith("kiosk: no sound device 'default'") and "Traceback" not in line
    (entry,) = audit_entries(tmp_path)
    assert entry["outcome"] == "failed"


def test_an_unwritable_out_is_one_line(tmp_path):
    cfg = write_config(tmp_path, 'engine = "sim"\n')
    proc = kiosk(tmp_path, "--config", str(cfg), "--out", str(tmp_path / "no" / "x.wav"))
    assert proc.returncode == 1
    (line,) = proc.stderr.splitlines()
    assert "cannot be written" in line


def test_voice_section_defaults_and_checks(tmp_path):
    v = demo_config(tmp_path).voice
    assert (v.enabled, v.volume, v.rate, v.device, v.engine) == (True, 80, 150, "default",
                                                                 "espeak-ng")
    cfg = write_config(tmp_path, 'enabled = false\nvolume = 100\nrate = 200\nengine = "sim"\n')
    v = load_config(str(cfg)).voice
    assert (v.enabled, v.volume, v.rate, v.engine) == (False, 100, 200, "sim")
    for bad, key in (("volume = 101", "volume"), ("rate = 10", "rate"),
                     ('engine = "festival"', "engine"), ('device = ""', "device"),
                     ("enabled = 1", "enabled")):
        with pytest.raises(ConfigError, match=rf"\[voice\] {key}: expected"):
            load_config(str(write_config(tmp_path, bad + "\n")))


def test_the_example_configuration_has_the_voice_section():
    from contract import resources
    from kiosk.config import load_config_file

    v = load_config_file(resources.config_dir() / "kiosk.example.toml").voice
    assert (v.enabled, v.volume, v.rate, v.device) == (True, 80, 150, "default")


def test_sim_voice_records_what_it_was_asked(tmp_path):
    voice = create_voice("sim", VoiceSettings(volume=70))
    first = voice.speak("请到银行办理", "zh_CN", key=None)
    assert not first.done
    voice.stop()  # a touch
    assert first.done and voice.playbacks[0].stopped
    voice.speak("Back", "en", key="nav.back", rate=120)
    assert [(s.text, s.locale, s.rate, s.volume, s.key, s.pinyin) for s in voice.spoken] == [
        ("请到银行办理", "zh_CN", 150, 70, None, "qing3 dao4 yin2 hang2 ban4 li3"),
        ("Back", "en", 120, 70, "nav.back", ""),
    ]
    assert voice.prepare([Prompt("nav.back", "Back", "en")]) == 1
    assert voice.synthesize_to(tmp_path / "x.wav", "你好", "zh_CN") == 0.5


def test_none_voice_is_silent(tmp_path):
    voice = create_voice("none", VoiceSettings())
    assert voice.speak("你好", "zh_CN").done
    with pytest.raises(VoiceError, match="switched off"):
        voice.synthesize_to(tmp_path / "x.wav", "你好", "zh_CN")
