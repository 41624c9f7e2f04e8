"""The menu editor's edits: small operations on a menu document, addressed by ids.

An edit is a list of operations, each a JSON object:

- ``{"op": "set", "path": [...], "value": V}``: set a key (``null`` removes it);
- ``{"op": "add", "path": [...a list], "item": {...}, "index": N}``: insert an item (at the
  end without ``index``);
- ``{"op": "remove", "path": [...an item]}``;
- ``{"op": "move", "path": [...an item], "to": N}``: move an item to position ``N``.

A path walks the document by key in objects and by **id** in lists (``["services",
"dibao", "fields", "phone", "label", "en"]``), so an edit still lands where the admin meant
after another admin reordered a list; ``"#3"`` addresses a list item by position (an item
whose id is being typed). The result is checked afterwards by the contract's rules, not here.
"""

from __future__ import annotations

from typing import Any

from .errors import CentralError

MAX_OPS = 50
_FIXED_KEYS = frozenset({"version", "published_at"})  # the central sets them on approval


class EditError(CentralError):
    """An edit that cannot be applied: a path to nothing, an unknown operation."""


def apply_ops(doc: dict[str, Any], ops: Any) -> tuple[dict[str, Any], list[str]]:
    """``doc`` with ``ops`` applied, and a short summary line of each. ``doc`` itself is
    left as it was: only the objects and lists on an edited path are copied (a 500-service
    menu is not copied whole for one label)."""
    if not isinstance(ops, list) or not 1 <= len(ops) <= MAX_OPS:
        raise EditError(f"ops must be a list of 1 to {MAX_OPS} operations")
    summaries = []
    for op in ops:
        doc, summary = _apply(doc, op)
        summaries.append(summary)
    return doc, summaries


def _apply(doc: dict[str, Any], op: Any) -> tuple[dict[str, Any], str]:
    if not isinstance(op, dict) or not isinstance(op.get("path"), list) or not op["path"]:
        raise EditError("each operation is an object with op and a non-empty path")
    kind, path = op.get("op"), op["path"]
    if not all(isinstance(p, str) and p for p in path):
        raise EditError("a path is a list of keys and ids (strings)")
    if path[0] in _FIXED_KEYS:
        raise EditError(f"{path[0]} is set by the central when the draft is approved")
    doc, parent = _copy_path(doc, path[:-1])
    last, where = path[-1], " › ".join(path)
    if kind == "set":
        _set(parent, last, op.get("value"))
        return doc, f"set {where}"
    if kind == "add":
        target = _child(parent, last)
        item = op.get("item")
        index = op.get("index", len(target) if isinstance(target, list) else 0)
        if not isinstance(target, list):
            raise EditError(f"{where} is not a list")
        if not isinstance(item, dict) or not isinstance(index, int):
            raise EditError("add takes an item object and an optional integer index")
        target = list(target)
        target.insert(max(0, min(index, len(target))), item)
        _replace(parent, last, target)
        return doc, f"add {where} › {item.get('id', '?')}"
    if not isinstance(parent, list):
        raise EditError(f"{where} is not an item of a list")
    position = _index(parent, last)
    if kind == "remove":
        del parent[position]
        return doc, f"remove {where}"
    if kind == "move":
        to = op.get("to")
        if not isinstance(to, int):
            raise EditError("move takes an integer position to")
        parent.insert(max(0, min(to, len(parent) - 1)), parent.pop(position))
        return doc, f"move {where} to {to + 1}"
    raise EditError(f"unknown operation {kind!r} (set, add, remove, move)")


def _copy_path(doc: dict[str, Any], path: list[str]) -> tuple[dict[str, Any], Any]:
    """A copy of ``doc`` sharing everything but the containers along ``path``; the copy
    and its (copied) container at the end of ``path``."""
    root = dict(doc)
    node: Any = root
    for step in path:
        child = _shallow(_child(node, step))
        _replace(node, step, child)
        node = child
    return root, node


def _shallow(value: Any) -> Any:
    if isinstance(value, dict):
        return dict(value)
    if isinstance(value, list):
        return list(value)
    return value


def _replace(node: Any, step: str, value: Any) -> None:
    if isinstance(node, dict):
        node[step] = value
    else:
        node[_index(node, step)] = value


def _child(node: Any, step: str) -> Any:
    if isinstance(node, dict):
        if step not in node:
            raise EditError(f"no {step!r} here")
        return node[step]
    if isinstance(node, list):
        return node[_index(node, step)]
    raise EditError(f"{step!r}: nothing to look into")


def _index(items: list[Any], step: str) -> int:
    if step.startswith("#") and step[1:].isdigit() and int(step[1:]) < len(items):
        return int(step[1:])
    for i, item in enumerate(items):
        if isinstance(item, dict) and item.get("id") == step:
            return i
    raise EditError(f"no item {step!r} in this list (another admin may have removed it)")


def _set(parent: Any, key: str, value: Any) -> None:
    if isinstance(parent, list):
        raise EditError("set takes a key of an object; use add, remove or move on lists")
    if not isinstance(parent, dict):
        raise EditError(f"{key!r}: nothing to set it in")
    if value is None:
        parent.pop(key, None)
    else:
        parent[key] = value
