"""A receipt sent over TCP matches the committed reference image (fixed data, fixed time).

Regenerate the reference after an intended change to the receipt layout with
``python tests/drivers/test_escpos_reference.py`` and look at the PNG before committing it.
"""

from __future__ import annotations

import sys
from pathlib import Path

from PIL import Image, ImageChops

REFERENCE = Path(__file__).parent / "data" / "receipt_reference.png"
# Share of pixels allowed to differ: a FreeType or font package update may move a few glyph
# edges; a layout change moves whole lines and fails.
TOLERANCE = 0.005


def differing_share(a: Image.Image, b: Image.Image) -> float:
    diff = ImageChops.difference(a.convert("L"), b.convert("L"))
    changed = sum(diff.histogram()[1:])
    return changed / (a.width * a.height)


def test_printed_receipt_matches_the_reference(tmp_path):
    from escpos_receipts import TX_ID, qr_texts, zh_receipt
    from escpos_receiver import TcpReceiver

    from drivers.escpos.printer import EscposPrinter
    from kiosk.receipts.render import render_receipt

    with TcpReceiver() as receiver, EscposPrinter(receiver.uri, timeout=1.0) as printer:
        printer.print_image(render_receipt(zh_receipt(), 384), name="reference")
        assert receiver.wait_for(lambda r: r.parser.cuts, timeout=2)
    (printed,) = receiver.images
    with Image.open(REFERENCE) as reference:
        reference.load()
    assert printed.size == reference.size, (
        f"receipt is {printed.size}, reference {reference.size}: layout changed? "
        f"see {__doc__.splitlines()[2].strip()}"
    )
    share = differing_share(printed, reference)
    if share > TOLERANCE:
        printed.save(tmp_path / "printed.png")
    assert share <= TOLERANCE, f"{share:.2%} of pixels differ; see {tmp_path / 'printed.png'}"
    assert qr_texts(printed) == [TX_ID]


def regenerate() -> None:
    here = Path(__file__).resolve().parent
    sys.path[:0] = [str(here), str(here.parent), str(here.parents[1])]
    from escpos_receipts import zh_receipt

    from kiosk.receipts.render import render_receipt

    REFERENCE.parent.mkdir(exist_ok=True)
    render_receipt(zh_receipt(), 384).save(REFERENCE, optimize=True)
    print(f"wrote {REFERENCE}")


if __name__ == "__main__":
    regenerate()
