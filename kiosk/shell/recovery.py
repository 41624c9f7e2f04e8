"""After a crash: the receipts of transactions stored in the last minutes but never printed.

Qt-free. A transaction is stored before its receipt prints; a crash in between leaves the
resident without reference or receipt, and a second try would make a duplicate application.
At start-up the kiosk reads the queue's newest transactions and prints, at once, the receipt
of each one stored within ``WINDOW_S`` whose receipt has no printed marker, with a line
saying it was printed after a restart.
"""

from __future__ import annotations

import datetime as dt
import logging

from contract.menu import Menu
from drivers.base import Identity
from kiosk.i18n import tr
from kiosk.receipts.printed import PrintedLedger
from kiosk.receipts.render import ReceiptData
from kiosk.visit.session import Visit, short_reference
from kiosk.visit.summary import receipt_data

log = logging.getLogger(__name__)

WINDOW_S = 600


def owed_receipts(queue, ledger: PrintedLedger, menu: Menu, locale: str, kiosk_id: str,
                  service_point: str, now: float) -> list[ReceiptData]:
    """Masked receipts owed after a restart, oldest first."""
    owed = []
    for tx in [*queue.latest("pending", 50), *queue.latest("sent", 50)]:
        try:
            created = dt.datetime.fromisoformat(tx.created_at.replace("Z", "+00:00"))
        except ValueError:
            continue
        if not 0 <= now - created.timestamp() <= WINDOW_S or ledger.printed(tx.id):
            continue
        service = menu.service(tx.service_id)
        if service is None:
            log.warning("transaction %s: service not in the running menu; no receipt", tx.id)
            continue
        ident = tx.identity or None
        visit = Visit(menu=menu, service=service, values=dict(tx.fields),
                      identity=None if ident is None else Identity(
                          method=str(ident.get("method", "")),
                          id_number=str(ident.get("id_number", "")),
                          name=str(ident.get("name", "")),
                          card_uid=str(ident.get("card_uid", ""))),
                      transaction_id=tx.id, reference=short_reference(tx.id))
        data = receipt_data(visit, locale, kiosk_id, service_point, created_at=created)
        owed.append((created, _with_banner(data, tr(locale, "receipt.after_restart"))))
    return [data for _, data in sorted(owed, key=lambda item: item[0])]


def _with_banner(data: ReceiptData, banner: str) -> ReceiptData:
    import dataclasses

    return dataclasses.replace(data, banner=banner)
