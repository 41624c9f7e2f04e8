"""The simulated printer saves PNGs and reports the faults a test configures."""

from __future__ import annotations

import pytest
from PIL import Image

from drivers.base import DeviceConfigError, DeviceState, DeviceStatus, Paper, PrinterError
from drivers.sim.printer import SimPrinter


def receipt_image(width: int = 384) -> Image.Image:
    return Image.new("1", (width, 200), 1)


def test_saves_png_and_records_it(tmp_path):
    out = tmp_path / "receipts"
    with SimPrinter("sim:", out_dir=out) as printer:
        assert printer.status() == DeviceStatus(DeviceState.ONLINE, "simulated printer", Paper.FULL)
        printer.print_image(receipt_image(), name="3F1C-7A52")
        printer.print_image(receipt_image())
    assert printer.last_path is not None and printer.last_path.parent == out
    assert [name for name, _ in printer.printed] == ["3F1C-7A52", ""]
    first = printer.printed[0][1]
    assert first.name == "3F1C-7A52.png"
    with Image.open(first) as saved:
        assert saved.size == (384, 200)


def test_same_name_does_not_overwrite(tmp_path):
    with SimPrinter(out_dir=tmp_path) as printer:
        printer.print_image(receipt_image(), name="r")
        printer.print_image(receipt_image(), name="r")
    assert len({path for _, path in printer.printed}) == 2


def test_name_cannot_escape_out_dir(tmp_path):
    with SimPrinter(out_dir=tmp_path / "out") as printer:
        printer.print_image(receipt_image(), name="../../etc/passwd")
    assert printer.last_path.parent == tmp_path / "out"


def test_fault_is_reported_and_raised(tmp_path):
    out_of_paper = DeviceStatus(DeviceState.USERERROR, "paper end", Paper.OUT)
    with SimPrinter(out_dir=tmp_path) as printer:
        printer.fault = out_of_paper
        assert printer.status() == out_of_paper
        with pytest.raises(PrinterError) as caught:
            printer.print_image(receipt_image(), name="x")
    assert caught.value.status == out_of_paper
    assert printer.printed == []
    assert not any(tmp_path.iterdir())


def test_too_wide_image_is_refused(tmp_path):
    with SimPrinter(out_dir=tmp_path, width_dots=384) as printer:
        with pytest.raises(PrinterError, match="576"):
            printer.print_image(receipt_image(576))


def test_print_before_open_fails(tmp_path):
    printer = SimPrinter(out_dir=tmp_path)
    with pytest.raises(PrinterError, match="not open"):
        printer.print_image(receipt_image())


def test_rejects_other_uris():
    with pytest.raises(DeviceConfigError):
        SimPrinter("socket://127.0.0.1:9100")
