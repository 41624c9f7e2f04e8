"""The service menu: the one reader of menu files, validation against the schema and the
rules of menu.md, and a read model.

Screens render a ``Menu``; they never hard-code a service. The kiosk, the central and the
admin tool read menu and bundle files with ``read_json`` and its one size limit,
``MAX_MENU_BYTES``: the most a kiosk takes, as a file or as a fetched bundle.
"""

from __future__ import annotations

import functools
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from contract import resources
from contract.errors import ContractError
from contract.personal import is_sensitive

MAX_MENU_BYTES = 2 * 1024 * 1024
MAX_MENU_TEXT = "2 MiB"
FIELD_TYPES = ("text", "number", "phone", "date", "choice", "id_number")
# menu.md; checked here too: the schema's "$" lets a final newline through in jsonschema.
ID_PATTERN = re.compile(r"[a-z0-9][a-z0-9-]{0,47}")


class MenuError(ContractError):
    """A menu document that cannot be used. ``problems`` lists "path: message" lines."""

    def __init__(self, source: str, problems: list[str]):
        self.source = source
        self.problems = problems
        first = problems[0] if problems else "invalid"
        more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
        super().__init__(f"{source}: {first}{more}")


class MenuUnreadable(MenuError):
    """The file cannot be read at all (missing, no permission): there is no document to
    judge. ``reason`` is the system's word for why."""

    def __init__(self, source: str, reason: str):
        self.reason = reason
        super().__init__(source, [f"$: cannot be read ({reason})"])


@dataclass(frozen=True)
class Choice:
    id: str
    label: dict[str, str]


@dataclass(frozen=True)
class Field:
    id: str
    type: str
    label: dict[str, str]
    required: bool = False
    max_length: int | None = None
    min: float | None = None
    max: float | None = None
    choices: tuple[Choice, ...] = ()
    # Personal data: masked on screen, paper, reprint store, logs and speech (menu.md).
    # Always True for id_number and phone fields, whatever the menu's flag says.
    sensitive: bool = False

    def __post_init__(self) -> None:
        if is_sensitive(self.type, self.sensitive) and not self.sensitive:
            object.__setattr__(self, "sensitive", True)


@dataclass(frozen=True)
class Service:
    id: str
    category: str
    title: dict[str, str]
    description: dict[str, str]
    icon: str
    enabled: bool
    requires_identity: bool
    fields: tuple[Field, ...]
    receipt_title: dict[str, str]
    receipt_note: dict[str, str]


@dataclass(frozen=True)
class Category:
    id: str
    title: dict[str, str]
    icon: str


@dataclass(frozen=True)
class Menu:
    version: int
    published_at: str
    default_locale: str
    locales: tuple[str, ...]
    categories: tuple[Category, ...]
    services: tuple[Service, ...]

    def visible_categories(self) -> list[Category]:
        """Categories with at least one enabled service, in document order."""
        used = {s.category for s in self.services if s.enabled}
        return [c for c in self.categories if c.id in used]

    def services_in(self, category_id: str) -> list[Service]:
        return [s for s in self.services if s.enabled and s.category == category_id]

    def service(self, service_id: str) -> Service | None:
        return next((s for s in self.services if s.id == service_id), None)


def text(value: dict[str, str], locale: str, fallback: str = "zh_CN") -> str:
    """A localized text in ``locale``, else the fallback, else any."""
    return value.get(locale) or value.get(fallback) or next(iter(value.values()), "")


@functools.cache
def _validator():
    import jsonschema  # imported on first validation, not at start-up

    schema = json.loads(resources.menu_schema_path().read_text("utf-8"))
    return jsonschema.Draft202012Validator(schema)


@functools.cache
def icon_names() -> frozenset[str]:
    folder = resources.config_dir() / "icons"
    return frozenset(p.stem for p in folder.glob("*.svg"))


@functools.cache
def _fast_validator():
    """jsonschema-rs, compiled: it says whether a document is valid in ~2 ms where jsonschema
    takes ~350 ms for 500 services (docs/BENCHMARKS.md). None when it is not installed."""
    try:
        import jsonschema_rs
    except ImportError:
        return None
    return jsonschema_rs.validator_for(json.loads(resources.menu_schema_path().read_text("utf-8")))


def _schema_valid(doc: Any) -> bool:
    fast = _fast_validator()
    if fast is None:
        return False
    try:
        return fast.is_valid(doc)
    except (ValueError, TypeError, OverflowError):  # e.g. nested too deeply for it
        return False


def validate(doc: Any) -> list[str]:
    """All problems of a menu document as "json.path: message" lines; empty when valid.

    A document the fast validator accepts goes straight to the rules; anything else is
    checked by jsonschema, which has the last word and explains what is wrong."""
    if not _schema_valid(doc):
        problems = []
        for err in sorted(_validator().iter_errors(doc), key=lambda e: list(e.absolute_path)):
            problems.append(f"{_json_path(err.absolute_path)}: {_plain(err)}")
        if problems:
            return problems
    return _rules(doc)


def _json_path(parts) -> str:
    out = "$"
    for p in parts:
        out += f"[{p}]" if isinstance(p, int) else f".{p}"
    return out


def _plain(err) -> str:
    if err.validator == "additionalProperties" and isinstance(err.instance, dict):
        return err.message.replace("Additional properties are not allowed", "unknown key")
    if err.validator == "pattern" and err.validator_value == "\\S":
        return "must not be blank"
    return err.message


def _rules(doc: dict) -> list[str]:
    problems: list[str] = []
    locales = doc["locales"]
    if doc["default_locale"] not in locales:
        problems.append(f"$.default_locale: {doc['default_locale']!r} is not one of locales")
    icons = icon_names()

    def unique(items: list[dict], path: str) -> None:
        seen: set[str] = set()
        for i, item in enumerate(items):
            if not ID_PATTERN.fullmatch(item["id"]):
                problems.append(f"{path}[{i}].id: {item['id']!r} is not a valid id")
            if item["id"] in seen:
                problems.append(f"{path}[{i}].id: duplicate id {item['id']!r}")
            seen.add(item["id"])

    def localized(value: dict, path: str) -> None:
        for loc in locales:
            if not value.get(loc, "").strip():
                problems.append(f"{path}: missing text for locale {loc!r}")

    def icon(item: dict, path: str) -> None:
        if "icon" in item and item["icon"] not in icons:
            problems.append(f"{path}.icon: {item['icon']!r} is not in the built-in icon set")

    unique(doc["categories"], "$.categories")
    unique(doc["services"], "$.services")
    category_ids = {c["id"] for c in doc["categories"]}
    for i, cat in enumerate(doc["categories"]):
        localized(cat["title"], f"$.categories[{i}].title")
        icon(cat, f"$.categories[{i}]")
    for i, svc in enumerate(doc["services"]):
        base = f"$.services[{i}]"
        if svc["category"] not in category_ids:
            problems.append(f"{base}.category: {svc['category']!r} names no category")
        icon(svc, base)
        localized(svc["title"], f"{base}.title")
        if "description" in svc:
            localized(svc["description"], f"{base}.description")
        localized(svc["receipt"]["title"], f"{base}.receipt.title")
        localized(svc["receipt"]["note"], f"{base}.receipt.note")
        fields = svc.get("fields", [])
        unique(fields, f"{base}.fields")
        for j, fld in enumerate(fields):
            fpath = f"{base}.fields[{j}]"
            localized(fld["label"], f"{fpath}.label")
            low, high = fld.get("min"), fld.get("max")
            if fld["type"] == "number" and low is not None and high is not None and low > high:
                problems.append(f"{fpath}: min is greater than max")
            if fld["type"] == "choice":
                unique(fld["choices"], f"{fpath}.choices")
                for k, ch in enumerate(fld["choices"]):
                    localized(ch["label"], f"{fpath}.choices[{k}].label")
    return problems


def parse(doc: Any, source: str = "menu") -> Menu:
    """Validate ``doc`` and build the read model; raises MenuError listing every problem."""
    problems = validate(doc)
    if problems:
        raise MenuError(source, problems)
    return _build(doc)


def read_json(path: str | Path, *, object_pairs_hook: Any = None) -> Any:
    """The JSON document in a menu or bundle file of at most ``MAX_MENU_BYTES``, not yet
    validated. Raises ``MenuUnreadable`` when the file cannot be read and ``MenuError`` when
    it is too big or not JSON; a BOM from a Windows editor is harmless."""
    source = str(path)
    try:
        size = Path(path).stat().st_size
        if size > MAX_MENU_BYTES:
            raise MenuError(source, [f"$: the file is {size} bytes, over the {MAX_MENU_TEXT} "
                                     f"limit ({MAX_MENU_BYTES} bytes)"])
        raw = Path(path).read_bytes()
    except OSError as exc:
        raise MenuUnreadable(source, exc.strerror or type(exc).__name__) from None
    return decode_json(raw, source, object_pairs_hook=object_pairs_hook)


def decode_json(raw: bytes, source: str = "menu", *, object_pairs_hook: Any = None) -> Any:
    """The JSON document in ``raw`` (a menu or a bundle), at most ``MAX_MENU_BYTES``; raises
    ``MenuError`` saying why it is not one."""
    if len(raw) > MAX_MENU_BYTES:
        raise MenuError(source, [f"$: {len(raw)} bytes, over the {MAX_MENU_TEXT} limit "
                                 f"({MAX_MENU_BYTES} bytes)"])
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise MenuError(source, [f"$: not UTF-8 text ({exc.reason} at byte {exc.start})"]
                        ) from None
    try:
        return json.loads(text, object_pairs_hook=object_pairs_hook)
    except json.JSONDecodeError as exc:
        raise MenuError(source, [f"$: not valid JSON ({exc.msg} at line {exc.lineno} column "
                                 f"{exc.colno})"]) from None
    except RecursionError:
        raise MenuError(source, ["$: not valid JSON (nested too deeply)"]) from None


def load(path: Path) -> Menu:
    """Read and validate a menu file."""
    return parse(read_json(path), str(path))


def load_default() -> Menu:
    """The menu shipped with the kiosk. CI validates it against the schema
    (tests/contract/test_menu.py); start-up only checks the rules, which is fast, and skips
    loading jsonschema."""
    path = resources.default_menu_path()
    return parse_schema_checked(json.loads(path.read_text("utf-8")), str(path))


def parse_schema_checked(doc: Any, source: str = "menu") -> Menu:
    """Like ``parse`` for a document this schema has already validated (the shipped menu in
    CI, a stored bundle when it arrived): only the rules run, without loading jsonschema.
    A document that is not the schema's shape still raises MenuError, never KeyError."""
    try:
        problems = _rules(doc)
        if problems:
            raise MenuError(source, problems)
        return _build(doc)
    except (KeyError, TypeError, AttributeError, IndexError) as exc:
        raise MenuError(source, [f"$: not a menu document ({type(exc).__name__}: {exc})"]
                        ) from None


def _build(doc: dict) -> Menu:
    def field(f: dict) -> Field:
        return Field(
            id=f["id"], type=f["type"], label=f["label"], required=f.get("required", False),
            max_length=f.get("max_length"), min=f.get("min"), max=f.get("max"),
            choices=tuple(Choice(c["id"], c["label"]) for c in f.get("choices", ())),
            sensitive=f.get("sensitive", False),
        )

    return Menu(
        version=doc["version"],
        published_at=doc["published_at"],
        default_locale=doc["default_locale"],
        locales=tuple(doc["locales"]),
        categories=tuple(Category(c["id"], c["title"], c.get("icon", "document"))
                         for c in doc["categories"]),
        services=tuple(
            Service(
                id=s["id"], category=s["category"], title=s["title"],
                description=s.get("description", {}), icon=s.get("icon", "document"),
                enabled=s.get("enabled", True), requires_identity=s["requires_identity"],
                fields=tuple(field(f) for f in s.get("fields", ())),
                receipt_title=s["receipt"]["title"], receipt_note=s["receipt"]["note"],
            )
            for s in doc["services"]
        ),
    )
