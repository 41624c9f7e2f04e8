"""The theme's colours and millimetre sizes (issue #16 item 5)."""

from __future__ import annotations

import re

import pytest

from screens import theme


def test_contrast_ratio_follows_wcag():
    assert theme.contrast_ratio("#000000", "#ffffff") == pytest.approx(21.0)
    assert theme.contrast_ratio("#ffffff", "#ffffff") == pytest.approx(1.0)
    assert theme.contrast_ratio("#767676", "#ffffff") == pytest.approx(4.54, abs=0.01)


@pytest.mark.parametrize("where,fg,bg,need", theme.PAIRS)
def test_every_colour_pair_has_its_contrast(where, fg, bg, need):
    assert theme.contrast_ratio(fg, bg) >= need, where


def test_text_pairs_are_at_least_4_5_and_body_text_7():
    for where, fg, bg, need in theme.PAIRS:
        if "border" not in where:
            assert need >= 4.5, where
            assert theme.contrast_ratio(fg, bg) >= 4.5, where


@pytest.mark.parametrize("elder", [False, True])
def test_every_stylesheet_colour_is_in_a_checked_pair(elder):
    sheet = theme.stylesheet(theme.Metrics(elder=elder))
    used = {c.lower() for c in re.findall(r"#[0-9a-fA-F]{6}\b", sheet)}
    paired = {c.lower() for _, fg, bg, _ in theme.PAIRS for c in (fg, bg)}
    assert used <= paired, used - paired


@pytest.mark.parametrize("panel", theme.PANELS, ids=str)
def test_sizes_in_millimetres_on_every_panel(panel):
    normal, elder = theme.Metrics(panel.px_per_mm), theme.Metrics(panel.px_per_mm, True)
    for base in (26, 28, 30, 48):
        assert normal.mm(normal.text(base)) >= 4.8
        assert elder.mm(elder.text(base)) >= 6.0
        assert elder.text(base) >= 1.3 * normal.text(base)
    for base in (theme.KEY_MIN, theme.TOUCH_MIN):
        assert normal.mm(normal.target(base)) >= 15.0


def test_panel_density():
    assert theme.PANELS[0].px_per_mm == pytest.approx(5.88, abs=0.01)  # 28 px = 4.8 mm
    assert theme.REFERENCE.px_per_mm == pytest.approx(4.03, abs=0.01)
