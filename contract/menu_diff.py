"""What changed between two menu documents, as an admin checks it before publishing
(``kiosk-admin menu diff`` and the central's menu editor).

Services, categories, fields and choices are matched by id; everything else a kiosk shows
(titles, descriptions, icons, receipt texts, field types and limits) is compared key by key,
localized texts locale by locale. Absent keys count as their defaults (``enabled`` true,
``required`` false), so spelling a default out is not a change.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

_TOP_KEYS = ("version", "published_at", "default_locale", "locales")
_SERVICE_DEFAULTS = {"enabled": True, "fields": [], "icon": "document", "description": {}}
_FIELD_DEFAULTS = {"required": False}
_CATEGORY_DEFAULTS = {"icon": "document"}
_MISSING = object()


@dataclass(frozen=True)
class Change:
    """One value that differs; ``old`` or ``new`` is None when the key is absent."""

    what: str
    old: Any = None
    new: Any = None

    def as_dict(self) -> dict[str, Any]:
        return {"what": self.what, "old": self.old, "new": self.new}


@dataclass
class ItemDiff:
    """A category, service or field present in both menus whose content changed."""

    id: str
    title: str
    changes: list[Change] = field(default_factory=list)
    fields: ListDiff | None = None  # services only

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"id": self.id, "title": self.title,
                               "changes": [c.as_dict() for c in self.changes]}
        if self.fields is not None:
            out["fields"] = self.fields.as_dict()
        return out


@dataclass
class ListDiff:
    """Items of one list matched by id: added, removed, changed, and whether the order of
    the items in both changed."""

    added: list[dict[str, Any]] = field(default_factory=list)
    removed: list[dict[str, Any]] = field(default_factory=list)
    changed: list[ItemDiff] = field(default_factory=list)
    reordered: bool = False

    def __bool__(self) -> bool:
        return bool(self.added or self.removed or self.changed or self.reordered)

    def as_dict(self) -> dict[str, Any]:
        return {"added": self.added, "removed": self.removed,
                "changed": [c.as_dict() for c in self.changed], "reordered": self.reordered}


@dataclass
class MenuDiff:
    top: list[Change]
    categories: ListDiff
    services: ListDiff

    def __bool__(self) -> bool:
        return bool(self.top or self.categories or self.services)

    def as_dict(self) -> dict[str, Any]:
        return {"same": not self, "menu": [c.as_dict() for c in self.top],
                "categories": self.categories.as_dict(), "services": self.services.as_dict()}


def diff_menus(old: dict[str, Any], new: dict[str, Any]) -> MenuDiff:
    """The differences between two valid menu documents."""
    top = [Change(k, old.get(k), new.get(k)) for k in _TOP_KEYS if old.get(k) != new.get(k)]
    categories = _list_diff(old.get("categories", []), new.get("categories", []),
                            _CATEGORY_DEFAULTS, _summary_category, _category_changes)
    services = _list_diff(old.get("services", []), new.get("services", []),
                          _SERVICE_DEFAULTS, _summary_service, _service_changes)
    return MenuDiff(top, categories, services)


def _list_diff(old: list[dict], new: list[dict], defaults: dict[str, Any], summary,
               compare) -> ListDiff:
    old_by_id = {item["id"]: item for item in old}
    new_by_id = {item["id"]: item for item in new}
    out = ListDiff()
    out.added = [summary(item) for item in new if item["id"] not in old_by_id]
    out.removed = [summary(item) for item in old if item["id"] not in new_by_id]
    for item in new:
        before = old_by_id.get(item["id"])
        if before is not None:
            changed = compare({**defaults, **before}, {**defaults, **item})
            if changed is not None:
                out.changed.append(changed)
    kept_old = [i["id"] for i in old if i["id"] in new_by_id]
    kept_new = [i["id"] for i in new if i["id"] in old_by_id]
    out.reordered = kept_old != kept_new
    return out


def _category_changes(old: dict, new: dict) -> ItemDiff | None:
    changes = _flat_changes(old, new, skip=("id",))
    return ItemDiff(new["id"], _title(new), changes) if changes else None


def _service_changes(old: dict, new: dict) -> ItemDiff | None:
    changes = _flat_changes(old, new, skip=("id", "fields"))
    fields = _list_diff(old["fields"], new["fields"], _FIELD_DEFAULTS, _summary_field,
                        _field_changes)
    if not changes and not fields:
        return None
    return ItemDiff(new["id"], _title(new), changes, fields)


def _field_changes(old: dict, new: dict) -> ItemDiff | None:
    changes = _flat_changes(old, new, skip=("id", "choices"))
    choices = _list_diff(old.get("choices", []), new.get("choices", []), {},
                         _summary_choice, _choice_changes)
    for added in choices.added:
        changes.append(Change(f"choice {added['id']}", None, added["label"]))
    for removed in choices.removed:
        changes.append(Change(f"choice {removed['id']}", removed["label"], None))
    for item in choices.changed:
        changes += [Change(f"choice {item.id} {c.what}", c.old, c.new) for c in item.changes]
    if choices.reordered:
        changes.append(Change("choices order", [c["id"] for c in old.get("choices", [])],
                              [c["id"] for c in new.get("choices", [])]))
    return ItemDiff(new["id"], _title(new, "label"), changes) if changes else None


def _choice_changes(old: dict, new: dict) -> ItemDiff | None:
    changes = _flat_changes(old, new, skip=("id",))
    return ItemDiff(new["id"], _title(new, "label"), changes) if changes else None


def _flat_changes(old: dict, new: dict, skip: tuple[str, ...]) -> list[Change]:
    """Changed leaves of two objects, nested objects flattened to ``a.b`` names."""
    flat_old, flat_new = _flatten(old, skip), _flatten(new, skip)
    changes = []
    for key in sorted(flat_old.keys() | flat_new.keys(), key=_key_order(flat_old, flat_new)):
        a, b = flat_old.get(key, _MISSING), flat_new.get(key, _MISSING)
        if a != b:  # 1 and 1.0 are the same limit; the schema keeps booleans apart
            changes.append(Change(key, None if a is _MISSING else a, None if b is _MISSING else b))
    return changes


def _flatten(value: dict, skip: tuple[str, ...] = (), prefix: str = "") -> dict[str, Any]:
    flat: dict[str, Any] = {}
    for key, item in value.items():
        if key in skip:
            continue
        name = f"{prefix}{key}"
        if isinstance(item, dict):
            flat.update(_flatten(item, (), name + "."))
        else:
            flat[name] = item
    return flat


def _key_order(old: dict, new: dict):
    order = {k: i for i, k in enumerate([*old, *(k for k in new if k not in old)])}
    return order.__getitem__


def _title(item: dict, key: str = "title") -> str:
    text = item.get(key) or {}
    parts = [text[loc] for loc in ("zh_CN", "en") if isinstance(text.get(loc), str)]
    if not parts:
        parts = [v for v in text.values() if isinstance(v, str)][:2]
    return " / ".join(parts)


def _summary_category(item: dict) -> dict[str, Any]:
    return {"id": item["id"], "title": _title(item)}


def _summary_service(item: dict) -> dict[str, Any]:
    return {"id": item["id"], "title": _title(item), "category": item.get("category"),
            "enabled": item.get("enabled", True),
            "requires_identity": item.get("requires_identity"),
            "fields": len(item.get("fields", []))}


def _summary_field(item: dict) -> dict[str, Any]:
    return {"id": item["id"], "title": _title(item, "label"), "type": item.get("type"),
            "required": item.get("required", False)}


def _summary_choice(item: dict) -> dict[str, Any]:
    return {"id": item["id"], "label": _title(item, "label")}


# -- text --------------------------------------------------------------------------------


def format_diff(diff: MenuDiff) -> str:
    """The diff as lines an admin reads: ``+`` added, ``-`` removed, ``~`` changed."""
    if not diff:
        return "no differences\n"
    lines = [f"{c.what}: {_show(c.old)} -> {_show(c.new)}" for c in diff.top]
    for name, part in (("categories", diff.categories), ("services", diff.services)):
        if not part:
            continue
        if lines:
            lines.append("")
        lines.append(f"{name}: {len(part.added)} added, {len(part.removed)} removed, "
                     f"{len(part.changed)} changed")
        lines += [f"  + {s['id']}  {s['title']}{_service_note(s)}" for s in part.added]
        lines += [f"  - {s['id']}  {s['title']}" for s in part.removed]
        for item in part.changed:
            lines.append(f"  ~ {item.id}  {item.title}")
            lines += [f"      {c.what}: {_show(c.old)} -> {_show(c.new)}" for c in item.changes]
            if item.fields:
                lines += _field_lines(item.fields)
        if part.reordered:
            lines.append(f"  order of {name} changed")
    return "\n".join(lines) + "\n"


def _field_lines(fields: ListDiff) -> list[str]:
    lines = []
    for f in fields.added:
        need = "required" if f["required"] else "optional"
        lines.append(f"      field + {f['id']} ({f['type']}, {need})  {f['title']}")
    for f in fields.removed:
        lines.append(f"      field - {f['id']} ({f['type']})  {f['title']}")
    for item in fields.changed:
        lines += [f"      field {item.id}: {c.what}: {_show(c.old)} -> {_show(c.new)}"
                  for c in item.changes]
    if fields.reordered:
        lines.append("      order of fields changed")
    return lines


def _service_note(summary: dict[str, Any]) -> str:
    if "fields" not in summary:
        return ""
    notes = [f"category {summary['category']}", f"{summary['fields']} fields"]
    if summary["requires_identity"]:
        notes.append("needs an ID card")
    if not summary["enabled"]:
        notes.append("disabled")
    return f"  ({', '.join(notes)})"


def _show(value: Any, limit: int = 80) -> str:
    if value is None:
        return "(none)"
    text = json.dumps(value, ensure_ascii=False)
    return text if len(text) <= limit else text[: limit - 1] + "…"
