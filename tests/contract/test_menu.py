"""The service menu document (shared/spec/menu.md): the shipped menu, validation, loading."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from pathlib import Path

import pytest

from contract import menu, resources
from contract.menu import (
    FIELD_TYPES,
    MAX_MENU_BYTES,
    MenuError,
    load,
    load_default,
    parse,
    validate,
)

LOCALES = ("zh_CN", "en")

_DEFAULT_DOC = json.loads(resources.default_menu_path().read_text(encoding="utf-8"))


@pytest.fixture
def doc() -> dict:
    """A fresh deep copy of the shipped default menu, free to mutate."""
    return copy.deepcopy(_DEFAULT_DOC)


def find_field(doc: dict, type_: str, min_fields: int = 1) -> tuple[int, int]:
    """(service index, field index) of the first field of ``type_``."""
    for i, svc in enumerate(doc["services"]):
        fields = svc.get("fields", [])
        if len(fields) < min_fields:
            continue
        for j, fld in enumerate(fields):
            if fld["type"] == type_:
                return i, j
    raise AssertionError(f"the default menu has no {type_} field")


def texts(doc: dict):
    """Every localized text of a menu document, with its JSON path."""
    for i, cat in enumerate(doc["categories"]):
        yield f"$.categories[{i}].title", cat["title"]
    for i, svc in enumerate(doc["services"]):
        base = f"$.services[{i}]"
        yield f"{base}.title", svc["title"]
        if "description" in svc:
            yield f"{base}.description", svc["description"]
        yield f"{base}.receipt.title", svc["receipt"]["title"]
        yield f"{base}.receipt.note", svc["receipt"]["note"]
        for j, fld in enumerate(svc.get("fields", [])):
            yield f"{base}.fields[{j}].label", fld["label"]
            for k, ch in enumerate(fld.get("choices", [])):
                yield f"{base}.fields[{j}].choices[{k}].label", ch["label"]


def tr(zh: str, en: str) -> dict:
    return {"zh_CN": zh, "en": en}


# --- the shipped default menu ----------------------------------------------------------

def test_default_menu_is_valid():
    assert validate(copy.deepcopy(_DEFAULT_DOC)) == []
    m = load_default()
    assert isinstance(m, menu.Menu)
    assert m.version >= 1
    assert m.default_locale in m.locales
    assert set(m.locales) >= set(LOCALES)


def test_default_menu_size():
    m = load_default()
    enabled = [s for s in m.services if s.enabled]
    assert len(enabled) >= 24
    assert len({s.category for s in enabled}) >= 6
    assert len(m.visible_categories()) >= 6
    for cat in m.visible_categories():
        assert m.services_in(cat.id), cat.id


def test_default_menu_uses_every_field_type():
    used = {f["type"] for s in _DEFAULT_DOC["services"] for f in s.get("fields", [])}
    assert used == set(FIELD_TYPES)
    assert set(FIELD_TYPES) == {"text", "number", "phone", "date", "choice", "id_number"}


def test_default_menu_services_have_at_most_four_fields():
    for svc in load_default().services:
        assert 0 <= len(svc.fields) <= 4, svc.id
    counts = {len(s.fields) for s in load_default().services}
    assert 0 in counts  # some services go straight to confirmation


def test_default_menu_has_both_identity_kinds():
    kinds = {s.requires_identity for s in load_default().services if s.enabled}
    assert kinds == {True, False}


def test_default_menu_texts_are_in_chinese_and_english():
    count = 0
    for path, value in texts(_DEFAULT_DOC):
        for loc in LOCALES:
            assert isinstance(value.get(loc), str) and value[loc].strip(), f"{path}.{loc}"
        count += 1
    assert count > 100


def test_default_menu_icons_exist():
    icons = menu.icon_names()
    assert "document" in icons  # the fallback icon of _build
    for item in [*_DEFAULT_DOC["categories"], *_DEFAULT_DOC["services"]]:
        if "icon" in item:
            assert item["icon"] in icons
            assert resources.icon_path(item["icon"]).is_file()


def test_default_menu_read_model_matches_document():
    m = load_default()
    first = _DEFAULT_DOC["services"][0]
    svc = m.service(first["id"])
    assert svc is not None
    assert svc.category == first["category"]
    assert svc.title == first["title"]
    assert [f.id for f in svc.fields] == [f["id"] for f in first.get("fields", [])]
    assert svc.receipt_title == first["receipt"]["title"]
    assert m.service("no-such-service") is None


def test_schema_is_a_valid_draft_2020_12_schema():
    import jsonschema

    schema = json.loads(resources.menu_schema_path().read_text(encoding="utf-8"))
    jsonschema.Draft202012Validator.check_schema(schema)


# --- validate(): problems name the JSON path --------------------------------------------

def _set(*keys, value):
    """A mutator setting doc[k1][k2]... = value; an int key may be negative."""
    def mutate(d):
        target = d
        for k in keys[:-1]:
            target = target[k]
        target[keys[-1]] = value
    return mutate


def _del(*keys):
    def mutate(d):
        target = d
        for k in keys[:-1]:
            target = target[k]
        del target[keys[-1]]
    return mutate


def _field_mutation(type_: str, change: Callable[[dict], None], suffix: str = ""):
    """Change the first field of ``type_``; the problem is expected at field path + suffix."""
    def mutate(d):
        i, j = find_field(d, type_)
        change(d["services"][i]["fields"][j])
        mutate.path = f"$.services[{i}].fields[{j}]{suffix}"
    return mutate


def _dup_field_id(d):
    i = next(i for i, s in enumerate(d["services"]) if len(s.get("fields", [])) >= 2)
    fields = d["services"][i]["fields"]
    fields[1]["id"] = fields[0]["id"]
    _dup_field_id.path = f"$.services[{i}].fields[1].id"


def _dup_choice_id(d):
    i, j = next((i, j) for i, s in enumerate(d["services"])
                for j, f in enumerate(s.get("fields", []))
                if f["type"] == "choice" and len(f["choices"]) >= 2)
    choices = d["services"][i]["fields"][j]["choices"]
    choices[1]["id"] = choices[0]["id"]
    _dup_choice_id.path = f"$.services[{i}].fields[{j}].choices[1].id"


def _dup_service_id(d):
    d["services"][1]["id"] = d["services"][0]["id"]


def _dup_category_id(d):
    d["categories"][1]["id"] = d["categories"][0]["id"]


def _min_over_max(d):
    i, j = find_field(d, "number")
    d["services"][i]["fields"][j].update({"min": 10, "max": 1})
    _min_over_max.path = f"$.services[{i}].fields[{j}]"


def _bad_field_type(d):
    i, j = find_field(d, "number")
    d["services"][i]["fields"][j]["type"] = "email"
    _bad_field_type.path = f"$.services[{i}].fields[{j}].type"


PROBLEMS = [
    # (id, mutator, expected path (str or callable path attr), fragment of the message)
    ("unknown-top-key", _set("colour", value="red"), "$", "unknown key ('colour'"),
    ("unknown-service-key", _set("services", 0, "enable", value=True), "$.services[0]",
     "unknown key ('enable'"),
    ("unknown-category-key", _set("categories", 0, "order", value=1), "$.categories[0]",
     "unknown key ('order'"),
    ("unknown-receipt-key", _set("services", 0, "receipt", "footer", value=tr("脚", "Foot")),
     "$.services[0].receipt", "unknown key ('footer'"),
    ("unknown-field-key", _field_mutation("phone", lambda f: f.update(requird=True)), None,
     "unknown key ('requird'"),
    ("unknown-choice-key", _field_mutation("choice", lambda f: f["choices"][0].update(x=1),
                     ".choices[0]"), None, "unknown key ('x'"),
    ("bad-service-id", _set("services", 0, "id", value="Bad_ID"), "$.services[0].id",
     "does not match"),
    ("service-id-leading-dash", _set("services", 0, "id", value="-x"), "$.services[0].id",
     "does not match"),
    ("service-id-too-long", _set("services", 0, "id", value="a" * 49), "$.services[0].id",
     "does not match"),
    ("bad-category-id", _set("categories", 0, "id", value="住房"), "$.categories[0].id",
     "does not match"),
    ("bad-field-id", _field_mutation("text", lambda f: f.update(id="Note"), ".id"), None,
     "does not match"),
    ("bad-choice-id", _field_mutation("choice", lambda f: f["choices"][0].update(id="a b"),
                                      ".choices[0].id"), None, "does not match"),
    ("duplicate-service-id", _dup_service_id, "$.services[1].id", "duplicate id"),
    ("duplicate-category-id", _dup_category_id, "$.categories[1].id", "duplicate id"),
    ("duplicate-field-id", _dup_field_id, None, "duplicate id"),
    ("duplicate-choice-id", _dup_choice_id, None, "duplicate id"),
    ("category-names-nothing", _set("services", 0, "category", value="nowhere"),
     "$.services[0].category", "'nowhere' names no category"),
    ("missing-en-title", _del("services", 0, "title", "en"), "$.services[0].title",
     "missing text for locale 'en'"),
    ("missing-en-category", _del("categories", 0, "title", "en"), "$.categories[0].title",
     "missing text for locale 'en'"),
    ("missing-en-receipt-note", _del("services", 0, "receipt", "note", "en"),
     "$.services[0].receipt.note", "missing text for locale 'en'"),
    ("missing-en-description", _del("services", 0, "description", "en"),
     "$.services[0].description", "missing text for locale 'en'"),
    ("missing-en-field-label", _field_mutation("date", lambda f: f["label"].pop("en"), ".label"),
     None,
     "missing text for locale 'en'"),
    ("missing-en-choice-label",
     _field_mutation("choice", lambda f: f["choices"][0]["label"].pop("en"),
                     ".choices[0].label"), None,
     "missing text for locale 'en'"),
    ("empty-text", _set("services", 0, "title", "en", value=""), "$.services[0].title.en",
     "should be non-empty"),
    ("blank-text", _set("services", 0, "title", "zh_CN", value="   "),
     "$.services[0].title.zh_CN", "must not be blank"),
    ("empty-text-object", _set("categories", 0, "title", value={}), "$.categories[0].title",
     "should be non-empty"),
    ("text-not-string", _set("services", 0, "title", "en", value=5), "$.services[0].title.en",
     "is not of type 'string'"),
    ("unknown-service-icon", _set("services", 0, "icon", value="unicorn"),
     "$.services[0].icon", "not in the built-in icon set"),
    ("unknown-category-icon", _set("categories", 0, "icon", value="unicorn"),
     "$.categories[0].icon", "not in the built-in icon set"),
    ("remote-icon", _set("services", 0, "icon", value="https://x.example/i.png"),
     "$.services[0].icon", "does not match"),
    ("default-locale-not-in-locales", _set("default_locale", value="fr"), "$.default_locale",
     "not one of locales"),
    ("version-0", _set("version", value=0), "$.version", "minimum of 1"),
    ("version-negative", _set("version", value=-3), "$.version", "minimum of 1"),
    ("version-string", _set("version", value="12"), "$.version", "not of type 'integer'"),
    ("version-float", _set("version", value=1.5), "$.version", "not of type 'integer'"),
    ("missing-version", _del("version"), "$", "'version' is a required property"),
    ("bad-published-at", _set("published_at", value="2026-11-20"), "$.published_at",
     "does not match"),
    ("locales-empty", _set("locales", value=[]), "$.locales", "should be non-empty"),
    ("max-length-on-phone", _field_mutation("phone", lambda f: f.update(max_length=11)), None,
     "unknown key ('max_length'"),
    ("min-on-date", _field_mutation("date", lambda f: f.update(min=1)), None,
     "unknown key ('min'"),
    ("choices-on-text", _field_mutation("text", lambda f: f.update(choices=[])), None,
     "unknown key ('choices'"),
    ("choice-without-choices", _field_mutation("choice", lambda f: f.pop("choices")), None,
     "'choices' is a required property"),
    ("choice-with-no-choices",
     _field_mutation("choice", lambda f: f.update(choices=[]), ".choices"), None,
     "should be non-empty"),
    ("min-over-max", _min_over_max, None, "min is greater than max"),
    ("text-max-length-0", _field_mutation("text", lambda f: f.update(max_length=0), ".max_length"),
     None,
     "minimum of 1"),
    ("number-min-string", _field_mutation("number", lambda f: f.update(min="1"), ".min"), None,
     "not of type 'number'"),
    ("unknown-field-type", _bad_field_type, None, "'email' is not one of"),
    ("required-not-bool", _field_mutation("phone", lambda f: f.update(required="yes"), ".required"),
     None,
     "not of type 'boolean'"),
    ("enabled-not-bool", _set("services", 0, "enabled", value="false"), "$.services[0].enabled",
     "not of type 'boolean'"),
    ("missing-receipt", _del("services", 0, "receipt"), "$.services[0]",
     "'receipt' is a required property"),
    ("missing-requires-identity", _del("services", 0, "requires_identity"), "$.services[0]",
     "'requires_identity' is a required property"),
]


@pytest.mark.parametrize(("mutate", "path", "fragment"), [p[1:] for p in PROBLEMS],
                         ids=[p[0] for p in PROBLEMS])
def test_validate_names_the_json_path(doc, mutate, path, fragment):
    mutate(doc)
    path = path or mutate.path
    problems = validate(doc)
    assert problems, "the broken document was accepted"
    expected_prefix = f"{path}: "
    matching = [p for p in problems if p.startswith(expected_prefix) and fragment in p]
    assert matching, f"no problem {expected_prefix}...{fragment}... in {problems}"
    for p in problems:
        assert "\n" not in p
        assert p.startswith("$")


def test_unknown_field_type_names_type_path(doc):
    # The example from the brief: the path names the exact key.
    i, j = find_field(doc, "number")
    doc["services"][i]["fields"][j]["type"] = "email"
    assert any(p.startswith(f"$.services[{i}].fields[{j}].type: ") for p in validate(doc))


def test_validate_reports_every_rule_problem_at_once(doc):
    doc["services"][0]["category"] = "nowhere"
    doc["services"][1]["icon"] = "unicorn"
    del doc["categories"][0]["title"]["en"]
    problems = validate(doc)
    assert len(problems) == 3
    assert any(p.startswith("$.services[0].category") for p in problems)
    assert any(p.startswith("$.services[1].icon") for p in problems)
    assert any(p.startswith("$.categories[0].title") for p in problems)


@pytest.mark.parametrize("value", [None, [], "menu", 12])
def test_validate_non_object(value):
    assert validate(value) == [f"$: {value!r} is not of type 'object'"]


def test_parse_raises_with_every_problem(doc):
    doc["version"] = 0
    doc["colour"] = "red"
    with pytest.raises(MenuError) as err:
        parse(doc, "central menu 13")
    assert len(err.value.problems) == 2
    assert err.value.source == "central menu 13"
    msg = str(err.value)
    assert msg.startswith("central menu 13: $")
    assert "(and 1 more)" in msg
    assert "\n" not in msg


def test_min_equal_max_is_fine(doc):
    i, j = find_field(doc, "number")
    doc["services"][i]["fields"][j].update({"min": 5, "max": 5})
    assert validate(doc) == []


def test_extra_locale_text_and_english_default(doc):
    doc["default_locale"] = "en"
    doc["services"][0]["title"]["bo"] = "ཞིང་ཁང"  # an extra language is tolerated
    assert validate(doc) == []
    assert parse(doc).default_locale == "en"


def test_more_locales_need_texts_in_each(doc):
    doc["locales"] = ["zh_CN", "en", "ug"]
    problems = validate(doc)
    assert problems
    assert all("missing text for locale 'ug'" in p for p in problems)


def test_optional_keys_get_defaults():
    minimal = {
        "version": 3,
        "published_at": "2026-11-20T08:00:00Z",
        "default_locale": "zh_CN",
        "locales": ["zh_CN", "en"],
        "categories": [{"id": "c1", "title": tr("类", "Cat")}],
        "services": [{
            "id": "s1", "category": "c1", "title": tr("事", "Svc"), "requires_identity": False,
            "receipt": {"title": tr("回执", "Receipt"), "note": tr("注", "Note")},
            "fields": [{"id": "f1", "type": "text", "label": tr("字", "Text")}],
        }],
    }
    assert validate(minimal) == []
    m = parse(minimal)
    assert m.categories[0].icon == "document"
    s = m.services[0]
    assert (s.icon, s.enabled, s.description) == ("document", True, {})
    f = s.fields[0]
    assert (f.required, f.max_length, f.min, f.max, f.choices) == (False, None, None, None, ())
    del minimal["services"][0]["fields"]
    assert parse(minimal).services[0].fields == ()


def test_text_helper_falls_back():
    assert menu.text(tr("中", "En"), "en") == "En"
    assert menu.text(tr("中", "En"), "ug") == "中"
    assert menu.text({"en": "En"}, "ug") == "En"
    assert menu.text({}, "en") == ""


# --- load() ----------------------------------------------------------------------------

def test_load_a_valid_file(tmp_path):
    path = tmp_path / "menu.json"
    path.write_text(json.dumps(_DEFAULT_DOC, ensure_ascii=False), encoding="utf-8")
    m = load(path)
    assert m.version == _DEFAULT_DOC["version"]
    assert len(m.services) == len(_DEFAULT_DOC["services"])


def _load_error(path: Path) -> MenuError:
    with pytest.raises(MenuError) as err:
        load(path)
    msg = str(err.value)
    assert msg.startswith(f"{path}: $"), msg
    assert "\n" not in msg
    assert err.value.source == str(path)
    return err.value


def test_load_not_json(tmp_path):
    path = tmp_path / "menu.json"
    path.write_text('{"version": 1, services: []}', encoding="utf-8")
    err = _load_error(path)
    assert "not valid JSON" in str(err)
    assert "line 1" in str(err)


def test_load_not_utf8(tmp_path):
    path = tmp_path / "menu.json"
    text = json.dumps(_DEFAULT_DOC, ensure_ascii=False)
    path.write_bytes(text.encode("gbk", errors="replace"))
    err = _load_error(path)
    assert "utf-8" in str(err).lower()


def test_load_empty_file(tmp_path):
    path = tmp_path / "menu.json"
    path.write_bytes(b"")
    assert "not valid JSON" in str(_load_error(path))


def test_load_over_2_mib(tmp_path):
    # A valid document padded with white space: only the size is wrong.
    body = json.dumps(_DEFAULT_DOC).encode()
    path = tmp_path / "big.json"
    path.write_bytes(body + b" " * (MAX_MENU_BYTES + 1 - len(body)))
    assert path.stat().st_size == MAX_MENU_BYTES + 1
    err = _load_error(path)
    assert "2 MiB" in str(err)
    assert str(MAX_MENU_BYTES + 1) in str(err)


def test_load_exactly_2_mib_is_allowed(tmp_path):
    assert MAX_MENU_BYTES == 2 * 1024 * 1024
    body = json.dumps(_DEFAULT_DOC).encode()
    path = tmp_path / "edge.json"
    path.write_bytes(body + b" " * (MAX_MENU_BYTES - len(body)))
    assert load(path).version == _DEFAULT_DOC["version"]


def test_load_missing_file(tmp_path):
    err = _load_error(tmp_path / "missing.json")
    assert "cannot be read" in str(err)


def test_load_invalid_document_names_file_and_path(tmp_path, doc):
    doc["services"][0]["category"] = "nowhere"
    path = tmp_path / "menu.json"
    path.write_text(json.dumps(doc), encoding="utf-8")
    err = _load_error(path)
    assert "$.services[0].category" in str(err)


# --- read model: enabled / visible ----------------------------------------------------

def test_disabled_service_is_hidden_but_kept(doc):
    target = doc["services"][0]
    target["enabled"] = False
    m = parse(doc)
    assert target["id"] not in [s.id for s in m.services_in(target["category"])]
    kept = m.service(target["id"])  # hidden, not deleted
    assert kept is not None and kept.enabled is False


def test_category_with_only_disabled_services_is_hidden(doc):
    cat = doc["categories"][0]["id"]
    for svc in doc["services"]:
        if svc["category"] == cat:
            svc["enabled"] = False
    m = parse(doc)
    visible = [c.id for c in m.visible_categories()]
    assert cat not in visible
    assert m.services_in(cat) == []
    # every other category stays, in document order
    others = [c["id"] for c in doc["categories"][1:]
              if any(s["category"] == c["id"] and s.get("enabled", True)
                     for s in doc["services"])]
    assert visible == others


def test_category_without_services_is_hidden(doc):
    doc["categories"].append({"id": "empty-cat", "title": tr("空", "Empty"), "icon": "document"})
    m = parse(doc)
    assert "empty-cat" not in [c.id for c in m.visible_categories()]


def test_services_in_keeps_document_order(doc):
    m = parse(doc)
    cat = doc["categories"][0]["id"]
    expected = [s["id"] for s in doc["services"]
                if s["category"] == cat and s.get("enabled", True)]
    assert [s.id for s in m.services_in(cat)] == expected
    assert m.services_in("no-such-category") == []


def test_shipped_disabled_services_are_not_listed():
    m = load_default()
    for svc in m.services:
        if not svc.enabled:
            assert svc not in m.services_in(svc.category)


# --- a big menu ------------------------------------------------------------------------

def big_menu(n_categories: int = 20, per_category: int = 10) -> dict:
    icons = sorted(menu.icon_names())
    types = list(FIELD_TYPES)
    categories, services = [], []
    for c in range(n_categories):
        cid = f"cat-{c:02d}"
        categories.append({"id": cid, "title": tr(f"类别{c}", f"Category {c}"),
                           "icon": icons[c % len(icons)]})
        for s in range(per_category):
            n = c * per_category + s
            fields = []
            for f in range(n % 5):  # 0..4 fields
                ftype = types[(n + f) % len(types)]
                fld = {"id": f"f{f}", "type": ftype, "required": f % 2 == 0,
                       "label": tr(f"字段{f}", f"Field {f}")}
                if ftype == "choice":
                    fld["choices"] = [{"id": f"o{k}", "label": tr(f"选项{k}", f"Option {k}")}
                                      for k in range(3)]
                elif ftype == "number":
                    fld.update(min=0, max=1000)
                elif ftype == "text":
                    fld["max_length"] = 50
                fields.append(fld)
            services.append({
                "id": f"svc-{n:03d}", "category": cid,
                "title": tr(f"事项{n}", f"Service {n}"),
                "description": tr(f"说明{n}", f"About service {n}"),
                "icon": icons[n % len(icons)], "enabled": True,
                "requires_identity": n % 3 != 0, "fields": fields,
                "receipt": {"title": tr("回执", "Receipt"), "note": tr("请保管", "Keep it")},
            })
    return {"version": 99, "published_at": "2026-11-20T08:00:00.123Z",
            "default_locale": "zh_CN", "locales": list(LOCALES),
            "categories": categories, "services": services}


def test_menu_of_200_services_in_20_categories(tmp_path):
    doc = big_menu()
    assert len(doc["services"]) == 200
    assert validate(doc) == []
    path = tmp_path / "big-menu.json"
    path.write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")
    m = load(path)
    assert len(m.services) == 200
    assert len(m.visible_categories()) == 20
    for cat in m.visible_categories():
        assert len(m.services_in(cat.id)) == 10
    assert {f.type for s in m.services for f in s.fields} == set(FIELD_TYPES)


def test_a_menu_file_with_a_bom_loads(tmp_path):
    path = tmp_path / "menu.json"
    path.write_bytes(b"\xef\xbb\xbf" + resources.default_menu_path().read_bytes())
    assert menu.load(path).version >= 1


def test_a_field_without_type_is_one_problem():
    doc = json.loads(resources.default_menu_path().read_text("utf-8"))
    del doc["services"][0]["fields"][0]["type"]
    problems = menu.validate(doc)
    assert len(problems) == 1 and "'type' is a required property" in problems[0]


def test_load_default_builds_what_a_full_load_builds():
    assert load_default() == load(resources.default_menu_path())


# --- the sensitive flag (menu.md) ------------------------------------------------------

@pytest.mark.parametrize("type_", FIELD_TYPES)
def test_every_field_type_may_carry_the_sensitive_flag(doc, type_):
    i, j = find_field(doc, type_)
    doc["services"][i]["fields"][j]["sensitive"] = True
    assert validate(doc) == []
    assert parse(doc).services[i].fields[j].sensitive is True


def test_the_sensitive_flag_is_a_boolean(doc):
    i, j = find_field(doc, "text")
    doc["services"][i]["fields"][j]["sensitive"] = "yes"
    problems = validate(doc)
    assert problems and problems[0].startswith(f"$.services[{i}].fields[{j}].sensitive")


def test_a_menu_without_the_flag_stays_valid_and_id_phone_are_sensitive_anyway(doc):
    for svc in doc["services"]:
        for fld in svc.get("fields", []):
            fld.pop("sensitive", None)
    built = parse(doc)
    for svc in built.services:
        for fld in svc.fields:
            assert fld.sensitive is (fld.type in ("id_number", "phone")), (svc.id, fld.id)
    assert menu.Field("x", "phone", {}).sensitive and menu.Field("y", "id_number", {}).sensitive
    assert menu.Field("z", "phone", {}, sensitive=False).sensitive  # whatever the flag says


def test_the_default_menu_marks_every_field_holding_personal_data():
    """Identifiers of a person or of what a person owns: ID and phone numbers, certificate,
    contract, licence and house numbers. Every id_number/phone field says so explicitly too."""
    personal = {"card-no", "house-no", "contract-no", "cert-no", "credit-code"}
    seen = set()
    for svc in _DEFAULT_DOC["services"]:
        for fld in svc.get("fields", []):
            if fld["type"] in ("id_number", "phone") or fld["id"] in personal:
                assert fld.get("sensitive") is True, (svc["id"], fld["id"])
                seen.add(fld["id"])
            if fld["type"] == "text":  # every free-text field is one of those identifiers
                assert fld.get("sensitive") is True, (svc["id"], fld["id"])
    assert personal <= seen
    card = next(f for s in load_default().services for f in s.fields if f.id == "card-no")
    assert card.sensitive and card.max_length == 20
