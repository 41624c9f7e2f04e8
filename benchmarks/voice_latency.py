"""Voice latency (issue #16): from a request to speak to the first audio bytes at the player.

    python benchmarks/voice_latency.py [--runs 30] [--json]

Aims: a fixed prompt from the cache within 100 ms, dynamic text within 200 ms.

The voice is the kiosk's own ``EspeakVoice`` (``drivers/voice/espeak.py``) with the default
``[voice]`` settings and a prompt cache in a temporary folder, warmed by ``prepare`` with every
fixed text of the shipped translations and menu in both locales (texts with ``{...}``
placeholders are dynamic and left out). The player is a stand-in for ``aplay`` (this machine
has no sound card): a shell script that execs ``head -c 4096`` on what aplay would be given
(the cached WAV file, or ``-`` for the pipe from ``espeak-ng --stdout``) into a FIFO. The
benchmark reads the FIFO and stops the clock at its first bytes: the audio is ready for the
sound card. Timed with ``perf_counter`` from the call of ``Voice.speak`` on the benchmark's
thread (what a screen change would do), which includes stopping the previous utterance.

* cached prompt: ``speak(<home.subtitle text>, key="home.subtitle")``: one process (the player).
* dynamic text: ``speak("您的业务编号是 K7Q2，金额 1234.50 元，请拨打 12345 查询。")``: the
  text to pinyin in the caller's thread, then ``espeak-ng --stdout | player``.
* dynamic English: the same sentence in English through espeak-ng's ``en`` voice.
* of which: ``to_pinyin`` of the Chinese dynamic text alone (numbers to words, pypinyin).
* baseline: ``espeak-ng --version`` started with ``subprocess.Popen``, clock stopped at its
  first bytes on stdout: the cost of starting a process here.

The kinds alternate, one untimed warm-up of each first. Reported besides: the process's first
text-to-pinyin (pypinyin loads its dictionaries), and the time ``prepare`` takes to synthesise
every fixed prompt into an empty cache (what a kiosk does at start or when its menu changes).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench_common import cpu_model

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

AIMS_MS = {"cached prompt": 100.0, "dynamic text (zh)": 200.0, "dynamic text (en)": 200.0}
DYNAMIC_ZH = "您的业务编号是 K7Q2，金额 1234.50 元，请拨打 12345 查询。"
DYNAMIC_EN = "Your reference is K7Q2, amount 1234.50 yuan; call 12345 to ask."
PLAYER = """#!/bin/sh
exec head -c 4096 "$4" > "{fifo}"
"""


def fixed_prompts():
    """Every fixed text of the shipped translations and menu, in both locales."""
    from contract import resources
    from drivers.voice import Prompt

    prompts = []
    for locale in ("zh_CN", "en"):
        catalog = json.loads((resources.translations_dir() / f"{locale}.json").read_text("utf-8"))
        prompts += [Prompt(k, t, locale) for k, t in catalog.items() if "{" not in t]
    menu = json.loads(resources.default_menu_path().read_text("utf-8"))
    texts: list[tuple[str, str]] = []

    def walk(node):
        if isinstance(node, dict):
            if set(node) == {"zh_CN", "en"}:
                texts.extend(node.items())
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(menu)
    prompts += [Prompt(f"menu.{i}", text, locale) for i, (locale, text) in enumerate(texts)]
    return prompts


def first_bytes_ms(fifo: Path, start) -> float:
    """Start something that writes into ``fifo``; ms until its first bytes can be read."""
    t0 = time.perf_counter()
    handle = start()
    with open(fifo, "rb", buffering=0) as f:
        if not f.read(1):
            raise RuntimeError("the player got no audio")
        ms = (time.perf_counter() - t0) * 1000
        while f.read(65536):
            pass
    return ms, handle


def baseline_ms() -> float:
    t0 = time.perf_counter()
    proc = subprocess.Popen(["espeak-ng", "--version"], stdout=subprocess.PIPE)
    proc.stdout.read(1)
    ms = (time.perf_counter() - t0) * 1000
    proc.communicate()
    return ms


def run(runs: int) -> dict:
    from drivers.voice import VoiceSettings
    from drivers.voice.cache import VoiceCache
    from drivers.voice.espeak import EspeakVoice
    from drivers.voice.pinyin import to_pinyin

    t0 = time.perf_counter()
    to_pinyin("请点一下您要办的事")
    first_pinyin_ms = (time.perf_counter() - t0) * 1000
    with tempfile.TemporaryDirectory(prefix="voice-bench-") as tmp:
        folder = Path(tmp)
        fifo = folder / "audio.fifo"
        os.mkfifo(fifo)
        player = folder / "player"
        player.write_text(PLAYER.format(fifo=fifo))
        player.chmod(0o755)
        voice = EspeakVoice(VoiceSettings(), cache=VoiceCache(folder / "data"),
                            player=str(player))
        prompts = fixed_prompts()
        t0 = time.perf_counter()
        made = voice.prepare(prompts)
        prepare_s = time.perf_counter() - t0
        cache_bytes = sum(p.stat().st_size for p in voice.cache.folder.glob("*.wav"))
        home = next(p for p in prompts if p.key == "home.subtitle" and p.locale == "zh_CN")
        kinds = {
            "cached prompt": lambda: voice.speak(home.text, "zh_CN", key=home.key),
            "dynamic text (zh)": lambda: voice.speak(DYNAMIC_ZH, "zh_CN"),
            "dynamic text (en)": lambda: voice.speak(DYNAMIC_EN, "en"),
        }
        names = [*kinds, "of which: the zh text to pinyin", "baseline: espeak-ng --version"]
        times: dict[str, list[float]] = {k: [] for k in names}
        for i in range(runs + 1):
            for name, start in kinds.items():
                ms, playback = first_bytes_ms(fifo, start)
                playback.wait(30)
                if i:
                    times[name].append(ms)
            ms = baseline_ms()
            t0 = time.perf_counter()
            to_pinyin(DYNAMIC_ZH)
            pinyin_ms = (time.perf_counter() - t0) * 1000
            if i:
                times["baseline: espeak-ng --version"].append(ms)
                times["of which: the zh text to pinyin"].append(pinyin_ms)
        voice.close()
    return {"runs": runs, "prompts": len(prompts), "synthesised": made,
            "prepare_s": prepare_s, "cache_bytes": cache_bytes,
            "first_pinyin_ms": first_pinyin_ms,
            "times_ms": {k: _stats(v) for k, v in times.items()}}


def _stats(values: list[float]) -> dict:
    s = sorted(values)
    return {"median": statistics.median(s), "p95": s[min(len(s) - 1, round(0.95 * (len(s) - 1)))],
            "min": s[0], "max": s[-1], "n": len(s)}


def report(result: dict) -> str:
    espeak = subprocess.run(["espeak-ng", "--version"], capture_output=True, text=True)
    version = re.sub(r"\s+Data at:.*", "", espeak.stdout.strip())
    lines = [f"Voice latency (issue #16): {result['runs']} runs each",
             f"{os.cpu_count()} x {cpu_model()}, Python {platform.python_version()}, {version}",
             "", f"{'request -> first audio bytes at the player':<42}  {'median':>8}  "
             f"{'p95':>8}  {'max':>8}", f"{'-' * 42}  {'-' * 8}  {'-' * 8}  {'-' * 8}"]
    for name, s in result["times_ms"].items():
        lines.append(f"{name:<42}  {s['median']:6.1f} ms  {s['p95']:6.1f} ms  {s['max']:6.1f} ms")
    lines.append("")
    for name, aim in AIMS_MS.items():
        median = result["times_ms"][name]["median"]
        verdict = "PASS" if result["times_ms"][name]["p95"] < aim else "FAIL"
        lines.append(f"aim: {name} under {aim:.0f} ms: {median:.1f} ms median, p95 "
                     f"{result['times_ms'][name]['p95']:.1f} ms -> {verdict}")
    lines += ["", f"first text-to-pinyin of the process (pypinyin loads): "
              f"{result['first_pinyin_ms']:.0f} ms",
              f"prepare: {result['prompts']} fixed prompts synthesised into an empty cache in "
              f"{result['prepare_s']:.1f} s ({result['cache_bytes'] / 1e6:.1f} MB)"]
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    if shutil.which("espeak-ng") is None:
        print("espeak-ng is not installed (./dev.sh setup installs it)", file=sys.stderr)
        return 1
    result = run(args.runs)
    print(json.dumps(result) if args.json else report(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
