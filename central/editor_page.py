"""The menu editor page: server-rendered HTML around a small script (``static/editor.js``).

The page holds no menu: the script reads the draft through the draft API with the admin's
bearer token (typed once per browser tab, kept in the tab's session storage) and sends each
change as a small edit. No build step and no library: plain HTML, CSS and JavaScript.
"""

from __future__ import annotations

import functools
import json
from html import escape
from pathlib import Path

from contract.menu import FIELD_TYPES, icon_names
from contract.resources import icon_path

STATIC = Path(__file__).with_name("static")
_TYPES = {"editor.js": "text/javascript; charset=utf-8", "editor.css": "text/css; charset=utf-8"}


def render_editor(admin: str, require_approval: bool) -> str:
    """The page; its data (icons, field types, who is signed in) as a JSON block."""
    data = {"admin": admin, "icons": sorted(icon_names()), "field_types": list(FIELD_TYPES),
            "require_approval": require_approval}
    payload = escape(json.dumps(data, ensure_ascii=False), quote=False)
    return f"""<!doctype html>
<html lang="zh-CN"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>菜单编辑器 Menu editor · kiosk-central</title>
<link rel="stylesheet" href="/admin/static/editor.css">
<script type="application/json" id="editor-data">{payload}</script>
<script src="/admin/static/editor.js" defer></script>
</head><body>
<header><h1 data-t="title">菜单编辑器</h1>
<span class="who">{escape(admin)}</span>
<a href="/admin/fleet" data-t="fleet">终端状态</a>
<button type="button" id="lang" aria-label="English / 中文">English</button></header>
<section id="login" hidden><form id="login-form">
<label><span data-t="token">管理员令牌</span>
<input id="token" type="password" autocomplete="current-password" required></label>
<button type="submit" data-t="sign_in">登录</button></form></section>
<section id="bar" hidden>
<label><span data-t="draft">草稿</span> <select id="draft-select"></select></label>
<label><span data-t="from">来源</span> <select id="from-menu"></select></label>
<button type="button" id="new-draft" data-t="new_draft">新建草稿</button>
<span id="draft-state" role="status"></span>
</section>
<div id="notice" role="alert" hidden></div>
<section id="problems" aria-live="polite" hidden><h2 data-t="problems">问题</h2><ul></ul></section>
<main id="editor" hidden>
<section class="col" id="categories-col"><h2 data-t="categories">分类</h2>
<ul id="categories" class="list"></ul><div id="category-form"></div>
<form id="add-category" class="add"><input id="new-category-id" aria-label="id"
 placeholder="new-category-id" pattern="[a-z0-9][a-z0-9-]{{0,47}}" required>
<button type="submit" data-t="add_category">添加分类</button></form></section>
<section class="col" id="services-col"><h2 data-t="services">服务</h2>
<ul id="services" class="list"></ul>
<form id="add-service" class="add"><input id="new-service-id" aria-label="id"
 placeholder="new-service-id" pattern="[a-z0-9][a-z0-9-]{{0,47}}" required>
<button type="submit" data-t="add_service">添加服务</button></form></section>
<section class="col wide" id="service-editor"></section>
</main>
<section id="review" hidden><h2 data-t="review">审核与发布</h2>
<div class="buttons"><button type="button" id="show-diff" data-t="diff">查看改动</button>
<button type="button" id="preview" data-t="preview">预览终端画面</button>
<button type="button" id="approve" data-t="approve">批准</button></div>
<pre id="diff" hidden></pre><div id="pull" hidden></div>
<div id="preview-box" hidden><div class="filters"></div><div class="shots"></div></div>
<details id="history"><summary data-t="history">修改记录</summary><ol></ol></details>
</section>
</body></html>
"""


@functools.cache
def _icon(name: str) -> bytes | None:
    if name not in icon_names():
        return None
    return icon_path(name).read_bytes()


def static_file(name: str) -> tuple[bytes, str] | None:
    """``(body, content type)`` of ``editor.js``, ``editor.css`` or ``icons/<name>.svg``."""
    if name in _TYPES:
        return (STATIC / name).read_bytes(), _TYPES[name]
    if name.startswith("icons/") and name.endswith(".svg"):
        body = _icon(name[len("icons/"):-len(".svg")])
        return None if body is None else (body, "image/svg+xml")
    return None
