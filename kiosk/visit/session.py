"""The resident's visit as a state machine, free of Qt.

home -> services -> [identify] -> [form, one field a step] -> confirm -> done | error.
``go_home`` ends the visit and drops every reference to the resident's data.
"""

from __future__ import annotations

import datetime as dt
import enum
from dataclasses import dataclass, field
from typing import Any

from contract.menu import Menu, Service
from contract.personal import id_number_valid
from drivers.base import Identity
from kiosk.errors import KioskError
from kiosk.logs import VISIT_VALUES, VisitValues
from kiosk.visit import fields as field_checks


class Step(enum.StrEnum):
    HOME = "home"
    SERVICES = "services"
    IDENTIFY = "identify"
    FORM = "form"
    CONFIRM = "confirm"
    DONE = "done"
    ERROR = "error"


class SessionError(KioskError):
    """A transition that is not allowed from the current step (a programming error)."""


@dataclass
class Visit:
    """Everything about one resident's visit. Dropped whole when the visit ends."""

    menu: Menu  # the menu the visit started under; a newer one waits for home
    category_id: str = ""
    service: Service | None = None
    identity: Identity | None = None
    values: dict[str, Any] = field(default_factory=dict)
    drafts: dict[str, str] = field(default_factory=dict)  # raw text as typed, per field
    field_index: int = 0
    transaction_id: str = ""
    reference: str = ""
    printed: bool | None = None
    error_key: str = ""


@dataclass(frozen=True)
class Submission:
    """What is written to the offline queue when the resident confirms."""

    service_id: str
    fields: dict[str, Any]
    identity: dict | None
    menu_version: int


def short_reference(transaction_id: str) -> str:
    """``3f1c7a52-...`` -> ``3F1C-7A52``: what a resident reads out at the counter."""
    hexpart = transaction_id.replace("-", "").upper()[:8]
    return f"{hexpart[:4]}-{hexpart[4:]}"


def identity_problem(identity: Identity, today: dt.date | None = None) -> str:
    """A translation key when the card must be refused, else ""."""
    if identity.id_number and not id_number_valid(identity.id_number):
        return "identify.bad_check"  # GB 11643, whichever reader read the number
    if identity.valid_to and identity.valid_to != "长期":
        try:
            valid_to = dt.datetime.strptime(identity.valid_to, "%Y%m%d").date()
        except ValueError:
            return "identify.unreadable"
        if valid_to < (today or dt.date.today()):
            return "identify.expired"
    return ""


class Session:
    def __init__(self, menu: Menu, visit_values: VisitValues | None = None):
        self._menu = menu
        # What the log filter masks during a visit: fed here, emptied by go_home.
        self._visit_values = VISIT_VALUES if visit_values is None else visit_values
        self.step = Step.HOME
        self.visit: Visit | None = None
        # 长辈版: larger text, fewer tiles, slower speech, more time. Chosen on the home
        # screen before a visit starts; it ends with the visit (go_home).
        self.elder = False

    # -- menu -------------------------------------------------------------------------
    @property
    def menu(self) -> Menu:
        """The menu on screen: the visit's own during a visit, else the newest."""
        return self.visit.menu if self.visit else self._menu

    def offer_menu(self, menu: Menu) -> None:
        """A newer menu; it shows from the next visit on, never in the middle of one."""
        self._menu = menu

    @property
    def in_visit(self) -> bool:
        return self.step not in (Step.HOME,)

    # -- transitions ------------------------------------------------------------------
    def choose_category(self, category_id: str) -> Step:
        self._expect(Step.HOME, Step.SERVICES)
        if self.visit is None:
            self.visit = Visit(menu=self._menu)
        self.visit.category_id = category_id
        self.step = Step.SERVICES
        return self.step

    def choose_service(self, service_id: str) -> Step:
        self._expect(Step.SERVICES)
        service = self.visit.menu.service(service_id)
        if service is None or not service.enabled:
            raise SessionError(f"no enabled service {service_id!r}")
        self.visit.service = service
        self.visit.values.clear()
        self.visit.drafts.clear()
        self.visit.field_index = 0
        self.step = Step.IDENTIFY if service.requires_identity else self._after_identify()
        return self.step

    def identified(self, identity: Identity) -> str:
        """Take a read identity; returns a refusal key, or "" and moves on."""
        self._expect(Step.IDENTIFY)
        problem = identity_problem(identity)
        if problem:
            return problem
        self.visit.identity = identity
        self._visit_values.remember_identity(identity.name or "", identity.id_number or "")
        self.step = self._after_identify()
        return ""

    def current_field(self):
        self._expect(Step.FORM)
        return self.visit.service.fields[self.visit.field_index]

    def submit_field(self, raw: str) -> field_checks.FieldError | None:
        """Check the current field's text; on success go to the next field or confirm."""
        fld = self.current_field()
        self.visit.drafts[fld.id] = raw
        value, error = field_checks.check(fld, raw)
        if fld.sensitive:
            self._visit_values.remember(raw)
            if value is not None:
                self._visit_values.remember(str(value))
        if error:
            return error
        if value is None:
            self.visit.values.pop(fld.id, None)
        else:
            self.visit.values[fld.id] = value
        if self.visit.field_index + 1 < len(self.visit.service.fields):
            self.visit.field_index += 1
        else:
            self.step = Step.CONFIRM
        return None

    def submission(self) -> Submission:
        self._expect(Step.CONFIRM)
        v = self.visit
        return Submission(
            service_id=v.service.id,
            fields=dict(v.values),
            identity=v.identity.to_wire() if v.identity else None,
            menu_version=v.menu.version,
        )

    def completed(self, transaction_id: str, printed: bool) -> Step:
        self._expect(Step.CONFIRM)
        self.visit.transaction_id = transaction_id
        self.visit.reference = short_reference(transaction_id)
        self.visit.printed = printed
        self.step = Step.DONE
        return self.step

    def failed(self, error_key: str) -> Step:
        if self.visit is None:
            self.visit = Visit(menu=self._menu)
        self.visit.error_key = error_key
        self.step = Step.ERROR
        return self.step

    def back(self) -> Step:
        v = self.visit
        if self.step == Step.SERVICES:
            return self.go_home()
        if self.step == Step.IDENTIFY:
            self.step = Step.SERVICES
        elif self.step == Step.FORM:
            if v.field_index > 0:
                v.field_index -= 1
            else:
                self.step = Step.IDENTIFY if v.service.requires_identity else Step.SERVICES
        elif self.step == Step.CONFIRM:
            if v.service.fields:
                v.field_index = len(v.service.fields) - 1
                self.step = Step.FORM
            else:
                self.step = Step.IDENTIFY if v.service.requires_identity else Step.SERVICES
        else:
            return self.go_home()
        if self.step in (Step.SERVICES, Step.IDENTIFY):
            v.identity = None  # stepping back past the card means showing it again
        return self.step

    def go_home(self) -> Step:
        """End the visit: forget the resident entirely."""
        if self.visit is not None:
            self.visit.values.clear()
            self.visit.drafts.clear()
            self.visit.identity = None
        self.visit = None
        self._visit_values.forget()
        self.elder = False
        self.step = Step.HOME
        return self.step

    # -- helpers ----------------------------------------------------------------------
    def _after_identify(self) -> Step:
        return Step.FORM if self.visit.service.fields else Step.CONFIRM

    def _expect(self, *steps: Step) -> None:
        if self.step not in steps:
            raise SessionError(f"not allowed in step {self.step}")
