"""``central.draft_ops``: editor operations addressed by ids, copying only the edited path."""

from __future__ import annotations

import copy
import json

import pytest
from central_helpers import ROOT

from central.draft_ops import EditError, apply_ops

MENU = json.loads((ROOT / "config" / "menu.default.json").read_text("utf-8"))


def test_set_add_remove_move_by_ids_leave_the_original_as_it_was():
    before = copy.deepcopy(MENU)
    label = ["services", "hpf-withdraw", "fields", "phone", "label", "en"]
    doc, summary = apply_ops(MENU, [
        {"op": "set", "path": label, "value": "Mobile"},
        {"op": "add", "path": ["services", "hpf-withdraw", "fields"], "index": 0,
         "item": {"id": "note", "type": "text", "label": {"zh_CN": "备注", "en": "Note"}}},
        {"op": "move", "path": ["services", "hpf-withdraw", "fields", "phone"], "to": 0},
        {"op": "remove", "path": ["services", "hpf-withdraw", "fields", "amount"]},
        {"op": "set", "path": ["services", "hpf-withdraw", "description"], "value": None},
    ])
    assert MENU == before  # nothing shared was changed
    svc = doc["services"][0]
    assert [f["id"] for f in svc["fields"]] == ["phone", "note", "reason"]
    assert svc["fields"][0]["label"]["en"] == "Mobile" and "description" not in svc
    assert doc["services"][1] is MENU["services"][1]  # untouched services are shared
    assert summary[0] == "set services › hpf-withdraw › fields › phone › label › en"


@pytest.mark.parametrize("ops, says", [
    ([{"op": "set", "path": ["services", "nope", "title"], "value": {}}], "no item 'nope'"),
    ([{"op": "set", "path": ["version"], "value": 9}], "set by the central"),
    ([{"op": "jump", "path": ["services", "hpf-withdraw"]}], "unknown operation"),
    ([{"op": "add", "path": ["services", "hpf-withdraw", "title"], "item": {}}], "not a list"),
    ([{"op": "set", "path": [3], "value": 1}], "keys and ids"),
    ([], "1 to 50"),
])
def test_an_operation_that_cannot_apply_is_an_edit_error(ops, says):
    with pytest.raises(EditError, match=says):
        apply_ops(MENU, ops)


def test_an_item_whose_id_is_being_typed_is_reached_by_position():
    doc, _ = apply_ops(MENU, [{"op": "set", "path": ["categories", "#0", "id"], "value": ""}])
    assert doc["categories"][0]["id"] == ""
    doc, _ = apply_ops(doc, [{"op": "set", "path": ["categories", "#0", "id"], "value": "x"}])
    assert doc["categories"][0]["id"] == "x"
