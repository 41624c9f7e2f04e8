"""``contract.menu_places``: the contract's menu problems worded by place, in both languages."""

from __future__ import annotations

import copy
import json

from contract.menu import validate
from contract.menu_places import describe_all
from contract.resources import default_menu_path

MENU = json.loads(default_menu_path().read_text("utf-8"))


def problems(change) -> list[dict]:
    doc = copy.deepcopy(MENU)
    change(doc)
    return describe_all(validate(doc), doc)


def test_an_empty_english_label_names_the_service_and_the_field():
    def change(doc):
        doc["services"][0]["fields"][2]["label"]["en"] = ""

    found, = problems(change)  # the schema's two complaints are said once
    assert found["path"] == ["services", "hpf-withdraw", "fields", "phone", "label", "en"]
    assert found["text"]["zh_CN"] == "服务「公积金提取」的字段「手机号码」的标签（英文）：不能为空"
    assert found["text"]["en"] == ("Service 'Withdraw housing fund', field '手机号码', "
                                   "label (English): must not be empty")


def test_rule_failures_are_worded_in_both_languages():
    def change(doc):
        doc["services"][1]["category"] = "nope"
        doc["services"][2]["icon"] = "rocket"
        doc["services"][3]["id"] = doc["services"][4]["id"]
        doc["services"][0]["fields"][1]["min"] = 10
        doc["services"][0]["fields"][1]["max"] = 5

    texts = {p["text"]["en"]: p["text"]["zh_CN"] for p in problems(change)}
    assert texts["Service 'Housing fund statement', category: there is no category 'nope'"] \
        == "服务「公积金缴存证明」的所属分类：分类「nope」不存在"
    assert "Service 'Housing loan progress', icon: icon 'rocket' is not in the icon set" in texts
    assert any("is used twice" in t for t in texts)
    assert any(t.endswith("the minimum is greater than the maximum") for t in texts)


def test_a_bad_id_and_a_missing_label_are_explained():
    def change(doc):
        doc["categories"][0]["id"] = "Housing"
        doc["services"][0]["fields"].append({"id": "x", "type": "text"})

    texts = [p["text"]["en"] for p in problems(change)]
    assert any("id 'Housing' cannot be used: lower-case letters" in t for t in texts)
    assert any(t.endswith("field 'x': label is missing") for t in texts)
