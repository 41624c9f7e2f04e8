"""Test-only plugin for tests/e2e/test_crash_recovery.py, on PYTHONPATH of a `kiosk run`
subprocess; the product never reads these variables.

CRASH_TEST_VISIT=1: once the window is built, walk a visit through the controller and make
the step after storing (``Controller._stored``) raise, with an ID number in the message.
CRASH_TEST_TEXTS=FILE: append the text lines of every receipt rendered to FILE (JSON lines).
"""

import json
import os

if os.environ.get("CRASH_TEST_VISIT") or os.environ.get("CRASH_TEST_TEXTS"):
    from PySide6.QtCore import QTimer

    import kiosk.app
    import kiosk.receipts.render as render
    from drivers.base import CardEvent, CardEventKind
    from drivers.sim.reader import SAMPLE_RESIDENTS
    from kiosk.shell.controller import Controller

    if os.environ.get("CRASH_TEST_TEXTS"):
        original_render = render.render_receipt

        def recording_render(data, width_dots=384):
            with open(os.environ["CRASH_TEST_TEXTS"], "a", encoding="utf-8") as f:
                f.write(json.dumps({"id": data.transaction_id,
                                    "texts": render.layout_receipt(data, width_dots).texts()},
                                   ensure_ascii=False) + "\n")
            return original_render(data, width_dots)

        render.render_receipt = recording_render

    if os.environ.get("CRASH_TEST_VISIT"):
        def crash(self, transaction_id):
            with open(os.environ["CRASH_TEST_VISIT"], "w") as f:
                f.write(transaction_id)
            raise RuntimeError("injected crash after storing, resident 330106195503120016")

        Controller._stored = crash
        original_build = kiosk.app._build_window

        def build(config, menu):
            window = original_build(config, menu)
            ctl = window.ctl

            def visit():
                ctl.choose_category("housing-fund")
                ctl.choose_service("hpf-withdraw")
                ctl.on_card_event(CardEvent(CardEventKind.READ, SAMPLE_RESIDENTS[0]))
                service = ctl.session.menu.service("hpf-withdraw")
                ctl.submit_field(next(f for f in service.fields if f.id == "reason")
                                 .choices[0].id)
                ctl.submit_field("86420")
                ctl.submit_field("13987654321")
                ctl.confirm()

            QTimer.singleShot(500, visit)
            return window

        kiosk.app._build_window = build
