"""What the screens say aloud, built from the same translations and masked values they show.

A ``Phrase`` with a ``key`` is a fixed prompt: the voice synthesises it once into its cache
(or plays a recording a deployment dropped in for that key), so it starts at once. Phrases
without a key name the resident's own answers and are never cached. Qt-free.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass

from contract.menu import Menu, text

# The translation keys the screens and the idle prompt speak as fixed prompts.
FIXED_KEYS = (
    "home.title", "home.subtitle", "services.hint",
    "identify.title", "identify.hint", "identify.unreadable", "identify.expired",
    "identify.bad_check", "identify.reader_fault",
    "form.required", "form.optional",
    "confirm.title", "confirm.hint", "confirm.submitting", "confirm.empty",
    "done.title", "done.reference", "done.printing", "done.take_receipt", "done.no_receipt",
    "error.title", "error.save_failed", "error.generic",
    "idle.title",
)


@dataclass(frozen=True)
class Phrase:
    """One thing to say; ``key`` names a fixed prompt (see the module's docstring)."""

    text: str
    key: str | None = None


def fixed(tr: Callable[..., str], key: str) -> Phrase:
    return Phrase(tr(key), key)


def spell(value: str) -> str:
    """Each letter and digit on its own, so the voice reads ``3F1C-7A52`` or ``12345678``
    character by character rather than as one number."""
    return " ".join(ch for ch in value if ch.isalnum())


def masked_for_speech(tr: Callable[..., str], value: str) -> str:
    """A value as it may be said aloud in a public hall. Anything masked on screen (``*``)
    is said by its visible tail only (``尾号 1 2 3 4``), or its visible head (a name's
    first character); never the masked string's digits as one long number."""
    if "*" not in value:
        return value
    tail = value.rsplit("*", 1)[1]
    if tail:
        return tr("speech.ending", tail=spell(tail))
    return value.split("*", 1)[0]


def service_key(service_id: str) -> str:
    return f"menu.service.{service_id}"


def category_key(category_id: str) -> str:
    return f"menu.category.{category_id}"


def field_key(service_id: str, field_id: str) -> str:
    return f"menu.field.{service_id}.{field_id}"


def choice_key(service_id: str, field_id: str, choice_id: str) -> str:
    return f"menu.choice.{service_id}.{field_id}.{choice_id}"


def menu_phrases(menu: Menu, locale: str) -> Iterator[Phrase]:
    """The menu's texts the screens speak: category and service titles, form questions
    and their choices."""
    for cat in menu.visible_categories():
        yield Phrase(text(cat.title, locale), category_key(cat.id))
        for svc in menu.services_in(cat.id):
            yield Phrase(text(svc.title, locale), service_key(svc.id))
            for fld in svc.fields:
                yield Phrase(text(fld.label, locale), field_key(svc.id, fld.id))
                for ch in fld.choices or ():
                    yield Phrase(text(ch.label, locale), choice_key(svc.id, fld.id, ch.id))


def fixed_phrases(tr: Callable[..., str]) -> list[Phrase]:
    return [fixed(tr, key) for key in FIXED_KEYS]
