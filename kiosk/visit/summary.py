"""What a visit looks like to a person: confirm-screen rows and receipt data, masked."""

from __future__ import annotations

import datetime as dt

from contract.menu import text
from contract.personal import mask_field, mask_id_number, mask_name
from contract.times import DEFAULT_ZONE, is_plausible
from kiosk.i18n import tr
from kiosk.receipts.render import ReceiptData
from kiosk.visit.session import Visit

RECEIPT_LABELS = ("service", "name", "id_number", "time", "reference", "kiosk", "scan", "footer")


def answer_rows(visit: Visit, locale: str) -> list[tuple[str, str]]:
    """(label, display value) per form field, choices by label; every sensitive value
    (menu.md's flag, id_number and phone fields) masked by ``mask_field``. The confirm
    screen, the receipt and so the reprint store all show these rows."""
    rows = []
    for fld in visit.service.fields:
        value = visit.values.get(fld.id)
        if value is None:
            shown = ""
        elif fld.type == "choice":
            choice = next((c for c in fld.choices if c.id == value), None)
            shown = text(choice.label, locale) if choice else str(value)
        else:
            shown = str(value)
        if shown:
            shown = mask_field(fld.type, shown, fld.sensitive)  # a flagged choice too
        rows.append((text(fld.label, locale), shown))
    return rows


def identity_rows(visit: Visit, locale: str) -> list[tuple[str, str]]:
    ident = visit.identity
    if ident is None:
        return []
    if ident.card_uid and not ident.id_number:
        return [(tr(locale, "confirm.card"), ident.card_uid)]
    return [
        (tr(locale, "confirm.name"), mask_name(ident.name)),
        (tr(locale, "confirm.id_number"), mask_id_number(ident.id_number)),
    ]


def summary_rows(visit: Visit, locale: str) -> list[tuple[str, str]]:
    service = (tr(locale, "confirm.service"), text(visit.service.title, locale))
    return [service, *identity_rows(visit, locale), *answer_rows(visit, locale)]


def receipt_data(visit: Visit, locale: str, kiosk_id: str, service_point: str,
                 created_at: dt.datetime | None = None,
                 time_zone: str = DEFAULT_ZONE) -> ReceiptData:
    """The receipt of a completed visit; holds masked data only. A kiosk clock that was never
    set (a date before the software existed) gives no time: the receipt says so instead."""
    created_at = created_at or dt.datetime.now(dt.UTC)
    ident = visit.identity
    svc = visit.service
    return ReceiptData(
        title=text(svc.receipt_title, locale),
        service_title=text(svc.title, locale),
        service_point=service_point or tr(locale, "app.name"),
        kiosk_id=kiosk_id,
        transaction_id=visit.transaction_id,
        reference=visit.reference,
        created_at=created_at if is_plausible(created_at) else None,
        resident_name=mask_name(ident.name) if ident else "",
        id_number=mask_id_number(ident.id_number) if ident and ident.id_number else "",
        answers=tuple((k, v) for k, v in answer_rows(visit, locale) if v),
        note=text(svc.receipt_note, locale),
        labels={k: tr(locale, f"receipt.{k}") for k in RECEIPT_LABELS},
        time_zone=time_zone,
    )
