"""``kiosk diag test-voice``: the technician's check of the speaker and the voice. Qt-free."""

from __future__ import annotations

import argparse
import json
import re
import sys
import tempfile
from pathlib import Path

from kiosk.cli.commands import CliError

HOME_PROMPT_KEY = "home.subtitle"  # what the home screen asks: 请点一下您要办的事
_HAN = re.compile(r"[\u3400-\u9fff]")


def add_parser(dsub, common: argparse.ArgumentParser, json_opt: argparse.ArgumentParser) -> None:
    tv = dsub.add_parser(
        "test-voice", parents=[common, json_opt],
        help="speak a text with the configured voice, or write it to a WAV file",
        description="Speaks T (default: the home screen's prompt) with the [voice] settings. "
                    "Text with Chinese characters is read in Mandarin, other text in English. "
                    "Exit status 1 when it could not be played (e.g. no sound device).")
    tv.add_argument("--text", metavar="T", help="what to say")
    tv.add_argument("--out", metavar="FILE", help="write a WAV file instead of playing")


def diag_test_voice(config_path: str | None, text: str | None, out: str | None,
                    as_json: bool) -> int:
    from drivers.voice import VoiceError, VoiceSettings, create_voice
    from kiosk.cli.technician import CliAudit
    from kiosk.config import load_config

    config = load_config(config_path)
    audit = CliAudit(config)
    key = None
    if text is None:
        from kiosk.i18n import tr

        locale, key = config.kiosk.locale, HOME_PROMPT_KEY
        text = tr(locale, key)
    else:
        locale = "zh_CN" if _HAN.search(text) else "en"
    v = config.voice
    settings = VoiceSettings(volume=v.volume, rate=v.rate, device=v.device)
    result = {"engine": v.engine, "enabled": v.enabled, "text": text, "locale": locale}
    if locale == "zh_CN":
        from drivers.voice.pinyin import to_pinyin

        result["pinyin"] = to_pinyin(text)
    with audit.failures("test-voice", engine=v.engine):
        voice = create_voice(v.engine, settings, data_dir=config.kiosk.data_dir)
        try:
            result.update(_say(voice, text, locale, key, out, v.device))
        except VoiceError as exc:
            raise CliError(str(exc)) from None
        finally:
            voice.close()
    audit.record("test-voice", "ok", engine=v.engine, seconds=result["seconds"],
                 out=result.get("out"))
    if as_json:
        print(json.dumps(result, ensure_ascii=False))
    else:
        where = f"written to {result['out']}" if out else f"played on {v.device!r}"
        print(f"{v.engine}: {result['seconds']:.2f} s of speech {where}")
        if "pinyin" in result:
            print(f"pinyin: {result['pinyin']}")
    if not v.enabled:
        print("kiosk: note: [voice] enabled = false, the kiosk itself does not speak",
              file=sys.stderr)
    return 0


def _say(voice, text: str, locale: str, key: str | None, out: str | None, device: str) -> dict:
    if out:
        path = Path(out).expanduser().absolute()
        try:
            seconds = voice.synthesize_to(path, text, locale, key=key)
        except OSError as exc:
            raise CliError(f"{path}: cannot be written ({exc.strerror})") from None
        return {"seconds": round(seconds, 3), "out": str(path)}
    with tempfile.TemporaryDirectory(prefix="kiosk-voice-") as scratch:
        seconds = voice.synthesize_to(Path(scratch) / "test.wav", text, locale, key=key)
    playback = voice.speak(text, locale, key=key)
    try:
        playback.wait()
    except KeyboardInterrupt:
        playback.stop()
        raise
    return {"seconds": round(seconds, 3), "device": device, "played": True}
