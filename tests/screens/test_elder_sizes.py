"""长辈版 and sizes measured on the real widgets at the three panels villages buy."""

from __future__ import annotations

import pytest
from PySide6.QtWidgets import QPushButton

from kiosk.demo.measure import walk
from kiosk.shell import idle
from screens import theme


@pytest.mark.parametrize("panel", theme.PANELS, ids=str)
def test_measured_sizes_and_contrast_on_every_panel(window, panel):
    for elder in (False, True):
        for name, (m, _spoken) in walk(window, panel, elder).items():
            where = f"{name} on {panel}{' elder' if elder else ''}"
            assert m.text_mm >= (6.0 if elder else 4.8), f"{where}: {m.smallest_text}"
            assert m.target_mm >= 15.0, f"{where}: {m.smallest_target}"
            assert m.contrast_enabled >= 7.0, where
            assert m.contrast >= 4.5, where


def test_elder_text_is_1_3_times_larger_measured(window):
    normal = walk(window, theme.PANELS[0], False)
    elder = walk(window, theme.PANELS[0], True)
    for name in normal:
        assert elder[name][0].text_mm >= 1.3 * normal[name][0].text_mm - 0.05, name


def test_elder_mode_ends_with_the_visit_and_doubles_the_time(window, qtbot):
    ctl = window.ctl
    base = window.idle.timeout_ms
    with qtbot.waitSignal(ctl.elderChanged) as on:
        window.findChild(QPushButton, "btn:elder").click()
    assert on.args == [True] and ctl.session.elder
    assert window.idle.timeout_ms == 2 * base
    service = next(s for s in ctl.session.menu.services if s.enabled)
    ctl.choose_category(service.category)
    assert ctl.session.elder  # it lasts the whole visit
    with qtbot.waitSignal(ctl.elderChanged) as off:
        ctl.go_home()
    assert off.args == [False] and not ctl.session.elder
    assert window.idle.timeout_ms == base


def test_elder_chosen_at_home_is_prompted_when_idle(window):
    ctl = window.ctl
    ctl.set_elder(True)
    window.idle.went_idle()
    assert window.overlay.stay.isVisible()  # "still there?", not the attract screen
    window.idle.wake()
    assert ctl.session.elder


def test_idle_prompt_gives_20_s_and_extends_again_and_again(window):
    assert idle.PROMPT_S >= 20
    ctl = window.ctl
    ctl.choose_category(ctl.session.menu.visible_categories()[0].id)
    for _ in range(12):  # a touch on "I'm still here" wakes the kiosk, every time
        window.idle.went_idle()
        assert window.idle.asleep and window.overlay.stay.isVisible()
        assert str(idle.PROMPT_S) in window.overlay.body.text()
        window.idle.wake()
        assert not window.idle.asleep
    assert window.ctl.session.step.value == "services"
