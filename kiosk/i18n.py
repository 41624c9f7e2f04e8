"""UI texts in Chinese (first) and English, from config/translations/<locale>.json."""

from __future__ import annotations

import functools
import json
import logging

from contract import resources

log = logging.getLogger(__name__)

LOCALES = ("zh_CN", "en")


@functools.cache
def _catalog(locale: str) -> dict[str, str]:
    path = resources.translations_dir() / f"{locale}.json"
    return json.loads(path.read_text("utf-8"))


def tr(locale: str, key: str, **params) -> str:
    """The text for ``key`` in ``locale``; falls back to Chinese, then to the key itself."""
    template = _catalog(locale).get(key)
    if template is None:
        template = _catalog("zh_CN").get(key)
        if template is None:
            log.warning("missing translation %s", key)
            return key
    return template.format(**params) if params else template


def other_locale(locale: str) -> str:
    return "en" if locale == "zh_CN" else "zh_CN"
