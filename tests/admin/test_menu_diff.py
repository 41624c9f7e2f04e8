"""``admin.menu_diff``: what an admin checks before publishing, matched by id."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest

from admin.menu_diff import Change, diff_menus, format_diff

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def base() -> dict:
    return json.loads((ROOT / "config" / "menu.default.json").read_text("utf-8"))


def test_same_menu_has_no_differences(base):
    diff = diff_menus(base, copy.deepcopy(base))
    assert not diff and format_diff(diff) == "no differences\n"
    assert diff.as_dict()["same"] is True


def test_defaults_spelled_out_are_not_changes(base):
    new = copy.deepcopy(base)
    for svc in new["services"]:
        if svc.get("enabled") is True:
            del svc["enabled"]
        for f in svc.get("fields", []):
            if f.get("required") is False:
                del f["required"]
    assert new != base
    assert not diff_menus(base, new) and not diff_menus(new, base)


def test_services_added_removed_changed(base):
    new = copy.deepcopy(base)
    new["version"] = base["version"] + 1
    gone = new["services"].pop(2)
    added = {**copy.deepcopy(new["services"][3]), "id": "winter-subsidy",
             "title": {"zh_CN": "冬季补贴", "en": "Winter subsidy"}}
    new["services"].append(added)
    svc = new["services"][0]
    svc["enabled"] = False
    svc["requires_identity"] = not svc["requires_identity"]
    svc["receipt"]["note"]["en"] = "Come back tomorrow."
    amount = next(f for f in svc["fields"] if f["id"] == "amount")
    amount["max"] = 600000
    reason = next(f for f in svc["fields"] if f["id"] == "reason")
    reason["choices"].append({"id": "study", "label": {"zh_CN": "上学", "en": "Study"}})
    reason["choices"][0]["label"]["en"] = "Buying a house"
    svc["fields"] = [f for f in svc["fields"] if f["id"] != "phone"]
    svc["fields"].append({"id": "note", "type": "text", "max_length": 40,
                          "label": {"zh_CN": "备注", "en": "Note"}})

    diff = diff_menus(base, new)
    assert diff.top == [Change("version", base["version"], base["version"] + 1)]
    assert [s["id"] for s in diff.services.added] == ["winter-subsidy"]
    assert [s["id"] for s in diff.services.removed] == [gone["id"]]
    (changed,) = diff.services.changed
    assert changed.id == svc["id"]
    assert Change("enabled", True, False) in changed.changes
    assert Change("receipt.note.en", base["services"][0]["receipt"]["note"]["en"],
                  "Come back tomorrow.") in changed.changes
    assert Change("requires_identity", not svc["requires_identity"],
                  svc["requires_identity"]) in changed.changes
    assert [f["id"] for f in changed.fields.added] == ["note"]
    assert [f["id"] for f in changed.fields.removed] == ["phone"]
    by_field = {f.id: f.changes for f in changed.fields.changed}
    assert by_field["amount"] == [Change("max", 500000, 600000)]
    assert Change("choice study", None, "上学 / Study") in by_field["reason"]
    assert Change("choice purchase label.en", "Buying a home",
                  "Buying a house") in by_field["reason"]
    assert not diff.services.reordered and not diff.categories

    text = format_diff(diff)
    assert "services: 1 added, 1 removed, 1 changed" in text
    assert "  + winter-subsidy  冬季补贴 / Winter subsidy" in text
    assert "      enabled: true -> false" in text
    assert "      field amount: max: 500000 -> 600000" in text
    assert "      field + note (text, optional)  备注 / Note" in text
    assert "      field - phone (phone)" in text
    json.dumps(diff.as_dict(), ensure_ascii=False)  # the --json form is plain JSON


def test_field_type_and_order_changes(base):
    new = copy.deepcopy(base)
    svc = new["services"][0]
    svc["fields"].reverse()
    amount = next(f for f in svc["fields"] if f["id"] == "amount")
    amount.update(type="text", max_length=10)
    del amount["min"], amount["max"]
    new["categories"].reverse()
    diff = diff_menus(base, new)
    (changed,) = diff.services.changed
    assert changed.fields.reordered and diff.categories.reordered
    (amount_diff,) = changed.fields.changed
    assert amount_diff.changes == [Change("type", "number", "text"), Change("min", 1, None),
                                   Change("max", 500000, None), Change("max_length", None, 10)]
    assert "order of categories changed" in format_diff(diff)


def test_category_title_change(base):
    new = copy.deepcopy(base)
    new["categories"][0]["title"]["en"] = "Housing"
    diff = diff_menus(base, new)
    (cat,) = diff.categories.changed
    assert cat.changes == [Change("title.en", base["categories"][0]["title"]["en"], "Housing")]
