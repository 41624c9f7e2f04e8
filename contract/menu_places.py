"""Menu problems in words an admin understands: the place and the trouble, in both languages.

``contract.menu.validate`` says what is wrong as ``"$.services[3].fields[1].label: missing
text for locale 'en'"``; the menu editor shows it as "服务「低保申请」的字段「手机号」的标签：
缺少英文" / "Service 'Subsistence allowance', field 'Mobile phone', label: the English text
is missing", and gives the place as ids (``["services", "dibao", "fields", "phone",
"label"]``) so that the editor can mark the input. The rules are the contract's; this module
only words them.
"""

from __future__ import annotations

import re
from typing import Any

_STEP = re.compile(r"\.([A-Za-z_]+)|\[(\d+)\]")
_LISTS = {"categories": ("分类", "Category"), "services": ("服务", "Service"),
          "fields": ("字段", "field"), "choices": ("选项", "choice")}
_KEYS = {"title": ("标题", "title"), "label": ("标签", "label"),
         "description": ("说明", "description"), "receipt": ("回执", "receipt"),
         "note": ("说明", "note"), "icon": ("图标", "icon"), "category": ("所属分类", "category"),
         "id": ("编号", "id"), "type": ("类型", "type"), "min": ("最小值", "minimum"),
         "max": ("最大值", "maximum"), "max_length": ("最大长度", "maximum length"),
         "version": ("版本", "version"), "locales": ("语言", "languages"),
         "default_locale": ("默认语言", "default language"), "enabled": ("启用", "enabled"),
         "required": ("必填", "required"), "sensitive": ("敏感", "sensitive")}
_LOCALES = {"zh_CN": ("中文", "Chinese"), "en": ("英文", "English")}
_MESSAGES: list[tuple[re.Pattern[str], Any]] = [
    (re.compile(r"missing text for locale '([^']+)'"),
     lambda m: (f"缺少{_LOCALES.get(m[1], (m[1],))[0]}文字",
                f"the {_LOCALES.get(m[1], (m[1], m[1]))[1]} text is missing")),
    (re.compile(r"'(.*)' is not a valid id"),
     lambda m: (f"编号「{m[1]}」不可用：只能用小写字母、数字和连字符，以字母或数字开头，最多48个",
                f"id '{m[1]}' cannot be used: lower-case letters, digits and '-', starting "
                "with a letter or digit, at most 48")),
    (re.compile(r"duplicate id '(.*)'"),
     lambda m: (f"编号「{m[1]}」重复了", f"id '{m[1]}' is used twice")),
    (re.compile(r"'(.*)' names no category"),
     lambda m: (f"分类「{m[1]}」不存在", f"there is no category '{m[1]}'")),
    (re.compile(r"'(.*)' is not in the built-in icon set"),
     lambda m: (f"图标「{m[1]}」不在图标集中", f"icon '{m[1]}' is not in the icon set")),
    (re.compile(r"min is greater than max"),
     lambda m: ("最小值大于最大值", "the minimum is greater than the maximum")),
    (re.compile(r"must not be blank"), lambda m: ("不能为空", "must not be empty")),
    (re.compile(r"'(\w+)' is a required property"),
     lambda m: (f"缺少「{_KEYS.get(m[1], (m[1],))[0]}」",
                f"{_KEYS.get(m[1], (m[1], m[1]))[1]} is missing")),
    (re.compile(r"should be non-empty"), lambda m: ("不能为空", "must not be empty")),
    (re.compile(r"'(.*)' does not match '\^\[a-z0-9\]"),
     lambda m: (f"编号「{m[1]}」不可用：只能用小写字母、数字和连字符，以字母或数字开头，最多48个",
                f"id '{m[1]}' cannot be used: lower-case letters, digits and '-', starting "
                "with a letter or digit, at most 48")),
    (re.compile(r"unknown key \('(\w+)' was unexpected\)"),
     lambda m: (f"这里不能有「{_KEYS.get(m[1], (m[1],))[0]}」",
                f"{_KEYS.get(m[1], (m[1], m[1]))[1]} does not belong here")),
]


def describe(problem: str, doc: Any) -> dict[str, Any]:
    """One problem line of ``contract.menu.validate`` as ``{"path": [...ids],
    "where": {"zh_CN", "en"}, "message": {"zh_CN", "en"}, "text": {"zh_CN", "en"},
    "problem": the line}``; ``text`` is place and message in one sentence."""
    location, _, message = problem.partition(": ")
    path, where_zh, where_en = _place(location, doc)
    msg_zh, msg_en = _message(message)
    return {"path": path, "where": {"zh_CN": where_zh, "en": where_en},
            "message": {"zh_CN": msg_zh, "en": msg_en},
            "text": {"zh_CN": f"{where_zh}：{msg_zh}" if where_zh else msg_zh,
                     "en": f"{where_en}: {msg_en}" if where_en else msg_en},
            "problem": problem}


def describe_all(problems: list[str], doc: Any) -> list[dict[str, Any]]:
    """Every problem described once (the schema may say one thing twice in two ways)."""
    out: dict[str, dict[str, Any]] = {}
    for problem in problems:
        described = describe(problem, doc)
        out.setdefault(described["text"]["en"], described)
    return list(out.values())


def _place(location: str, doc: Any) -> tuple[list[str], str, str]:
    """Ids path and the place in words for a ``$.a[1].b`` location."""
    steps = [m[1] if m[1] else int(m[2]) for m in _STEP.finditer(location)]
    path: list[str] = []
    zh: list[str] = []
    en: list[str] = []
    node: Any = doc
    for i, step in enumerate(steps):
        if isinstance(step, int):
            item = node[step] if isinstance(node, list) and step < len(node) else None
            item_id = item.get("id") if isinstance(item, dict) else None
            path.append(str(item_id) if isinstance(item_id, str) else f"#{step}")
            list_name = steps[i - 1] if i else ""
            names = _LISTS.get(str(list_name), ("第", "item"))
            zh.append(f"{names[0]}「{_name(item, 'zh_CN', step)}」")
            en.append(f"{names[1]} '{_name(item, 'en', step)}'")
            node = item
            continue
        path.append(step)
        node = node.get(step) if isinstance(node, dict) else None
        nxt = steps[i + 1] if i + 1 < len(steps) else None
        if isinstance(nxt, int):
            continue  # a list: the item names it
        if step in _LOCALES and zh:  # a text's language: "label (English)"
            zh[-1] += f"（{_LOCALES[step][0]}）"
            en[-1] += f" ({_LOCALES[step][1]})"
            continue
        key = _KEYS.get(step) or (step, step)
        zh.append(f"的{key[0]}" if zh else key[0])
        en.append(key[1])
    where_zh = "".join(p if p.startswith("的") or not j else f"的{p}" for j, p in
                       enumerate(zh))
    where_en = ", ".join(en)
    return path, where_zh, where_en[:1].upper() + where_en[1:]


def _name(item: Any, locale: str, index: int) -> str:
    """An item's title (or label) in ``locale``, else its id, else its position."""
    if isinstance(item, dict):
        for key in ("title", "label"):
            text = item.get(key)
            if isinstance(text, dict):
                value = text.get(locale) or text.get("zh_CN") or text.get("en")
                if isinstance(value, str) and value.strip():
                    return value.strip()
        if isinstance(item.get("id"), str) and item["id"]:
            return item["id"]
    return f"#{index + 1}"


def _message(message: str) -> tuple[str, str]:
    for pattern, words in _MESSAGES:
        m = pattern.search(message)
        if m:
            return words(m)
    return f"不符合格式：{message}", message
