"""Spoken guidance in the real window, through the recording ``sim`` voice: what each screen
says on entry, a touch silencing it, repeat, volume and mute, masking, the cache's prepare."""

from __future__ import annotations

import dataclasses
import re
import textwrap
import threading

import pytest
from diag_helpers import audit_entries, close_window, diag_toml, enter, make_window
from kiosk_helpers import find, touch, type_keys, wait_screen, write_config
from PySide6.QtCore import QPoint, Qt
from PySide6.QtWidgets import QLabel

from kiosk.app import create_window
from kiosk.demo.simulators import add_simulator_controls

ID_NUMBER, PHONE = "330106195503120016", "13912345678"


@pytest.fixture
def window(qtbot, tmp_path):
    win = _window(qtbot, write_config(tmp_path))
    yield win
    win.locked = False
    win.close()


def _window(qtbot, config, prepare=None):
    win = create_window(str(config))
    if prepare is not None:
        prepare(win)
    add_simulator_controls(win)
    qtbot.addWidget(win)
    win.resize(1920, 1080)
    win.show()
    qtbot.waitUntil(lambda: win.started, timeout=15000)
    return win


def said(window) -> list[str]:
    return [s.text for s in window.speaker.voice.spoken]


def wait_said(qtbot, window, *texts: str) -> None:
    """Wait until each of ``texts`` is part of something the voice was asked to say."""
    qtbot.waitUntil(lambda: all(any(t in s for s in said(window)) for t in texts),
                    timeout=5000)


def _first_choice(window, service_id: str, field_id: str):
    service = window.ctl.session.menu.service(service_id)
    return next(f for f in service.fields if f.id == field_id).choices[0]


def _visit_to_confirm(qtbot, window) -> None:
    touch(qtbot, window, "category:housing-fund")
    wait_said(qtbot, window, "住房公积金", "请点一下要办理的业务")
    touch(qtbot, window, "tile:hpf-withdraw")
    wait_said(qtbot, window, "请把身份证放到读卡器上")
    touch(qtbot, window, "sim:card:0")  # 张建国 330106195503120016
    wait_screen(qtbot, window, "form")
    choice = _first_choice(window, "hpf-withdraw", "reason")
    wait_said(qtbot, window, choice.label["zh_CN"])
    touch(qtbot, window, f"choice:reason:{choice.id}")
    touch(qtbot, window, "btn:next")
    type_keys(qtbot, window, "12000")
    touch(qtbot, window, "btn:next")
    type_keys(qtbot, window, PHONE)
    touch(qtbot, window, "btn:next")
    wait_screen(qtbot, window, "confirm")


def test_every_screen_speaks_on_entry_and_the_confirm_summary_is_masked(qtbot, window):
    wait_said(qtbot, window, "请点一下您要办的事")  # home
    _visit_to_confirm(qtbot, window)
    service = window.ctl.session.visit.service
    wait_said(qtbot, window, service.title["zh_CN"], "请核对您的信息", "尾号 0 0 1 6",
              "尾号 7 8", "张")  # menu.md: an 11-digit phone keeps its last 2
    for field in service.fields:  # each form question
        assert any(field.label["zh_CN"] in s for s in said(window)), field.id
    for spoken in window.speaker.voice.spoken:
        digits = re.sub(r"\D", "", spoken.text)
        assert ID_NUMBER not in digits and PHONE not in digits, spoken.text
        assert "张建国" not in spoken.text and "330106" not in digits, spoken.text
        assert "*" not in spoken.text
    touch(qtbot, window, "btn:confirm")
    wait_screen(qtbot, window, "done")
    reference = find(window, "label:reference", QLabel).text()
    spelled = " ".join(reference.replace("-", ""))
    wait_said(qtbot, window, "办好了", f"您的业务编号: {spelled}", "请取走下方出纸口的回执")
    done = next(s for s in window.speaker.voice.spoken if spelled in s.text)
    assert len(done.pinyin.split()) >= 8 + 4  # "nin2 de5 ye4 wu4 ..." then one a character


def test_field_errors_and_card_refusals_are_spoken(qtbot, window):
    touch(qtbot, window, "category:housing-fund")
    touch(qtbot, window, "tile:hpf-balance")
    touch(qtbot, window, "sim:card:3")  # the expired sample card
    wait_said(qtbot, window, "这张身份证已经过期")
    touch(qtbot, window, "btn:home")
    touch(qtbot, window, "category:housing-fund")
    touch(qtbot, window, "tile:hpf-withdraw")
    touch(qtbot, window, "sim:card:1")
    wait_screen(qtbot, window, "form")
    touch(qtbot, window, "btn:next")  # nothing chosen
    wait_said(qtbot, window, "这一项必须填写。")


def test_a_touch_stops_speech_at_once(qtbot, window):
    wait_said(qtbot, window, "请点一下您要办的事")
    voice = window.speaker.voice
    qtbot.waitUntil(lambda: voice.playbacks and not voice.playbacks[-1].done, timeout=3000)
    playing = voice.playbacks[-1]
    qtbot.mousePress(window.router.current, Qt.MouseButton.LeftButton, pos=QPoint(5, 5))
    assert playing.stopped
    qtbot.mouseRelease(window.router.current, Qt.MouseButton.LeftButton, pos=QPoint(5, 5))


def test_repeat_speaks_the_screen_again(qtbot, window):
    wait_said(qtbot, window, "请点一下您要办的事")
    before = said(window).count("请点一下您要办的事")
    touch(qtbot, window, "btn:repeat")
    qtbot.waitUntil(lambda: said(window).count("请点一下您要办的事") == before + 1)


def test_volume_steps_down_mutes_and_resets_after_the_visit(qtbot, window):
    wait_said(qtbot, window, "请点一下您要办的事")
    speaker, volume = window.speaker, find(window, "btn:volume")
    assert speaker.volume == 80 and volume.text() == "80"
    levels = []
    for _ in range(3):
        touch(qtbot, window, "btn:volume")
        levels.append(speaker.volume)
        if speaker.volume:  # the new level is said at that level
            qtbot.waitUntil(lambda: any(s.text == f"音量 {speaker.volume}"
                                        and s.volume == speaker.volume
                                        for s in speaker.voice.spoken))
    assert levels == [60, 40, 0]
    assert volume.text() == "" and volume.accessibleName() == "静音"
    count = len(said(window))
    touch(qtbot, window, "btn:repeat")  # muted: nothing is said
    touch(qtbot, window, "category:housing-fund")
    assert len(said(window)) == count
    touch(qtbot, window, "btn:volume")  # from mute to the loudest
    assert speaker.volume == 100
    touch(qtbot, window, "btn:home")  # the visit ends: back to the configured level
    assert speaker.volume == 80 and volume.text() == "80"
    # the home screen speaks again, now at the configured level (wait for the new utterance,
    # not the one from the start of the test)
    prompt = "请点一下您要办的事"
    qtbot.waitUntil(lambda: any(s.text == prompt for s in speaker.voice.spoken[count:]))
    home = [s for s in speaker.voice.spoken[count:] if s.text == prompt]
    assert home[-1].volume == 80


def test_the_idle_prompt_is_spoken(qtbot, window):
    touch(qtbot, window, "category:housing-fund")
    window.idle.went_idle()
    wait_said(qtbot, window, "您还在吗？")


def test_prepare_runs_off_the_gui_thread_at_start_and_for_a_new_menu(qtbot, tmp_path):
    calls = []

    def record_prepare(win):
        voice = win.speaker.voice
        original = voice.prepare

        def prepare(prompts):
            calls.append((threading.current_thread(), list(prompts)))
            return original(prompts)

        voice.prepare = prepare

    win = _window(qtbot, write_config(tmp_path), prepare=record_prepare)
    try:
        qtbot.waitUntil(lambda: len(calls) == 1, timeout=5000)
        thread, prompts = calls[0]
        assert thread is not threading.main_thread()
        keys = {(p.key, p.locale) for p in prompts}
        assert {("home.subtitle", "zh_CN"), ("home.subtitle", "en"),
                ("menu.service.hpf-withdraw", "zh_CN")} <= keys
        menu = win.ctl.session.menu
        svc = dataclasses.replace(menu.services[0], title={"zh_CN": "新的业务名称",
                                                           "en": "A new title"})
        newer = dataclasses.replace(menu, version=menu.version + 1,
                                    services=(svc, *menu.services[1:]))
        with qtbot.waitSignal(win.speaker.prepared, timeout=5000):
            win.uplink.menuArrived.emit(newer)
        thread, prompts = calls[-1]
        assert thread is not threading.main_thread()
        assert "新的业务名称" in {p.text for p in prompts}
    finally:
        win.close()


def test_muted_by_default_speaks_in_elder_mode_only_and_slower(qtbot, tmp_path):
    config = tmp_path / "kiosk.toml"
    config.write_text(textwrap.dedent("""\
        [kiosk]
        data_dir = "data"
        [voice]
        enabled = false
        engine = "sim"
        rate = 160
        """), encoding="utf-8")
    win = _window(qtbot, config)
    try:
        touch(qtbot, win, "category:housing-fund")
        assert said(win) == []
        win.ctl.session.elder = True  # what btn:elder sets for the visit
        touch(qtbot, win, "btn:repeat")
        touch(qtbot, win, "tile:hpf-withdraw")
        wait_said(qtbot, win, "请把身份证放到读卡器上")
        assert {s.rate for s in win.speaker.voice.spoken} == {120}
    finally:
        win.close()


def test_technician_tests_the_speaker_from_diagnostics(qtbot, tmp_path):
    win = make_window(qtbot, diag_toml(tmp_path))
    try:
        enter(qtbot, win)
        touch(qtbot, win, "btn:diag-test-speaker")
        qtbot.waitUntil(lambda: win.router.current.feedback.property("level") == "ok",
                        timeout=5000)
        assert "sim" in find(win, "label:diag-feedback", QLabel).text()
        assert said(win)[-1] == "请点一下您要办的事"
        qtbot.waitUntil(lambda: any(e["event"] == "test-voice" for e in audit_entries(win)),
                        timeout=5000)
        entry = [e for e in audit_entries(win) if e["event"] == "test-voice"][-1]
        assert entry["outcome"] == "ok" and entry["detail"]["engine"] == "sim"
    finally:
        close_window(win)
