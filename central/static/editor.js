// The kiosk-central menu editor. Plain JavaScript, no build step.
// The draft lives on the central; every change is a small edit (set, add, remove, move
// addressed by ids) sent with the revision it starts from. The central checks it with the
// kiosk's own rules and answers the new revision and every problem in words; a stale edit
// is answered 409 with the current draft, and the admin can apply the change again.
"use strict";

const DATA = JSON.parse(document.getElementById("editor-data").textContent);
const LOCALES = ["zh_CN", "en"];
const ALWAYS_SENSITIVE = ["phone", "id_number"];  // menu.md: masked whatever the flag says
const T = {
  zh_CN: {title: "菜单编辑器", fleet: "终端状态", token: "管理员令牌", sign_in: "登录",
    draft: "草稿", from: "来源", new_draft: "新建草稿", problems: "问题", categories: "分类",
    services: "服务", add_category: "添加分类", add_service: "添加服务", review: "审核与发布",
    diff: "查看改动", preview: "预览终端画面", approve: "批准", history: "修改记录",
    zh_CN: "中文", en: "英文", id: "编号", icon: "图标", category: "所属分类",
    enabled: "启用", requires_identity: "需要刷身份证", svc_title: "服务名称",
    description: "说明", receipt_title: "回执标题", receipt_note: "回执说明", fields: "填写项",
    add_field: "添加填写项", type: "类型", required: "必填", sensitive: "敏感（遮盖显示）",
    label: "标签", max_length: "最多字数", min: "最小值", max: "最大值", choices: "选项",
    add_choice: "添加选项", up: "上移", down: "下移", remove: "删除", cat_title: "分类名称",
    none: "（无）", published_now: "终端现用菜单", no_problems: "没有问题，可以批准。",
    saved: "已保存", saving: "保存中…", not_saved: "有修改未保存", state_editing: "编辑中", state_approved: "已批准",
    state_published: "已发布", revision: "版本号", by: "修改人", reapply: "重新应用我的修改",
    conflict: "草稿刚被 {who} 修改（第 {rev} 版），您的修改没有保存。已显示最新草稿。",
    pull: "已批准。请在自己的电脑上下载、离线签名并发布：", rendering: "正在生成预览…",
    type_text: "文字", type_number: "数字", type_phone: "手机号", type_date: "日期",
    type_choice: "单选", type_id_number: "身份证号", problems_left: "还有 {n} 个问题",
    all_sizes: "全部尺寸", always_sensitive: "手机号和身份证号总是遮盖显示", lang_button: "English", select_service: "请选择左侧的服务。"},
  en: {title: "Menu editor", fleet: "Fleet", token: "Admin token", sign_in: "Sign in",
    draft: "Draft", from: "From", new_draft: "New draft", problems: "Problems",
    categories: "Categories", services: "Services", add_category: "Add category",
    add_service: "Add service", review: "Review and publish", diff: "Show changes",
    preview: "Preview kiosk screens", approve: "Approve", history: "History",
    zh_CN: "Chinese", en: "English", id: "Id", icon: "Icon", category: "Category",
    enabled: "Enabled", requires_identity: "Needs an ID card", svc_title: "Service name",
    description: "Description", receipt_title: "Receipt title", receipt_note: "Receipt note",
    fields: "Fields", add_field: "Add field", type: "Type", required: "Required",
    sensitive: "Sensitive (masked)", label: "Label", max_length: "Max. length", min: "Minimum",
    max: "Maximum", choices: "Choices", add_choice: "Add choice", up: "Up", down: "Down",
    remove: "Remove", cat_title: "Category name", none: "(none)",
    published_now: "What kiosks get now", no_problems: "No problems: ready to approve.",
    saved: "Saved", saving: "Saving…", not_saved: "A change is not saved", state_editing: "editing", state_approved: "approved",
    state_published: "published", revision: "revision", by: "by",
    reapply: "Apply my change again",
    conflict: "{who} changed the draft just now (revision {rev}); your change was not saved. " +
      "The newest draft is shown.",
    pull: "Approved. On your own computer, pull, sign offline and publish:",
    rendering: "Rendering the preview…", type_text: "Text", type_number: "Number",
    type_phone: "Mobile phone", type_date: "Date", type_choice: "Choice",
    type_id_number: "ID number", problems_left: "Problems left: {n}", all_sizes: "All sizes",
    always_sensitive: "Phone numbers and ID numbers are always masked",
    lang_button: "中文", select_service: "Choose a service on the left."},
};

const S = {lang: localStorage.getItem("editor-lang") || "zh_CN",
  token: sessionStorage.getItem("editor-token") || "", draft: null, category: null,
  service: null, queue: Promise.resolve(), failed: null, pending: 0};

const $ = (sel) => document.querySelector(sel);
const t = (key, vars) => (T[S.lang][key] || key).replace(/\{(\w+)\}/g, (_, k) => vars[k]);

function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === null || v === undefined || v === false) continue;
    if (k.startsWith("on")) node.addEventListener(k.slice(2), v);
    else if (k === "text") node.textContent = v;
    else node.setAttribute(k, v === true ? "" : v);
  }
  for (const c of children.flat()) if (c) node.append(c);
  return node;
}

// -- talking to the central -------------------------------------------------------------

async function api(method, path, body) {
  const headers = {Authorization: `Bearer ${S.token}`};
  if (body !== undefined) headers["Content-Type"] = "application/json";
  // The origin, not the page's URL: that may hold Basic credentials fetch refuses.
  const res = await fetch(window.location.origin + path, {method, headers, credentials: "omit",
    body: body === undefined ? undefined : JSON.stringify(body)});
  const type = res.headers.get("Content-Type") || "";
  const data = type.includes("json") ? await res.json() : await res.blob();
  if (res.status === 401) signOut();
  return {status: res.status, data};
}

function draftPath(suffix) { return `/api/v1/admin/drafts/${S.draft.id}${suffix || ""}`; }

// Edits go one after another: each starts from the revision the previous one made.
function edit(ops) {
  applyLocally(S.draft.menu, ops);
  // After the event: a Tab that sent this change moves the focus first, and the new page
  // gives it back to the same input.
  setTimeout(render, 0);
  S.pending += 1;
  setState(t("saving"));
  S.queue = S.queue.then(() => send(ops)).finally(() => {
    S.pending -= 1;
    if (!S.pending) setState(S.failed ? t("not_saved") : t("saved"));
  });
  return S.queue;
}

async function send(ops) {
  const {status, data} = await api("POST", draftPath("/edits"),
    {revision: S.draft.revision, ops});
  if (status === 200) {
    Object.assign(S.draft, data);
    showProblems();
    renderState();
    return;
  }
  if (status === 409 && data.draft) {
    S.draft = data.draft;
    S.failed = ops;
    notice(t("conflict", {who: data.draft.updated_by, rev: data.draft.revision}), true);
  } else {
    notice(data.error || String(status), false);
    await loadDraft(S.draft.id);
  }
  render();
}

// The same operations as central/draft_ops.py, so that the screen follows at once.
function applyLocally(doc, ops) {
  for (const op of ops) {
    const path = op.path.slice(0, -1);
    let node = doc;
    for (const step of path) node = child(node, step);
    const last = op.path[op.path.length - 1];
    if (op.op === "set") {
      if (op.value === null) delete node[last]; else node[last] = op.value;
    } else if (op.op === "add") {
      const list = child(node, last);
      list.splice(op.index === undefined ? list.length : op.index, 0, op.item);
    } else if (op.op === "remove") {
      node.splice(indexOf(node, last), 1);
    } else if (op.op === "move") {
      const [item] = node.splice(indexOf(node, last), 1);
      node.splice(Math.max(0, Math.min(op.to, node.length)), 0, item);
    }
  }
}

function child(node, step) { return Array.isArray(node) ? node[indexOf(node, step)] : node[step]; }

function indexOf(list, step) {
  if (/^#\d+$/.test(step)) return Number(step.slice(1));
  return list.findIndex((item) => item && item.id === step);
}

// -- drafts ----------------------------------------------------------------------------

async function loadDrafts(select) {
  const [{data: drafts}, {data: menus}] = await Promise.all([
    api("GET", "/api/v1/admin/drafts"), api("GET", "/api/v1/admin/menus")]);
  const box = $("#draft-select");
  box.replaceChildren(el("option", {value: "", text: "—"}),
    ...drafts.drafts.map((d) => el("option", {value: d.id,
      text: `#${d.id} · ${t("from")} v${d.base_version} · ${t("state_" + d.state)} · ` +
        d.updated_by})));
  const from = $("#from-menu");
  from.replaceChildren(el("option", {value: "", text: t("published_now")}),
    ...(menus.menus || []).map((m) => el("option", {value: m.id,
      text: `v${m.version} · ${m.target.kind} ${m.target.value || ""} · ${m.admin}`})));
  const id = select || (drafts.drafts[0] && drafts.drafts[0].id);
  if (id) { box.value = id; await loadDraft(id); }
}

async function loadDraft(id) {
  const {status, data} = await api("GET", `/api/v1/admin/drafts/${id}`);
  if (status !== 200) { notice(data.error || String(status), false); return; }
  S.draft = data;
  if (!S.category || !data.menu.categories.some((c) => c.id === S.category)) {
    S.category = data.menu.categories.length ? data.menu.categories[0].id : null;
  }
  $("#editor").hidden = false;
  $("#review").hidden = false;
  render();
}

async function newDraft() {
  const from = $("#from-menu").value;
  const {status, data} = await api("POST", "/api/v1/admin/drafts",
    {from: from ? Number(from) : null});
  if (status !== 201) { notice(data.error || String(status), false); return; }
  await loadDrafts(data.id);
}

// -- rendering ---------------------------------------------------------------------------

function render() {
  if (!S.draft) return;
  const focused = document.activeElement && document.activeElement.dataset.key;
  renderCategories();
  renderServices();
  renderService();
  showProblems();
  renderState();
  if (focused) {
    const again = document.querySelector(`[data-key="${CSS.escape(focused)}"]`);
    if (again) again.focus();
  }
}

function renderState() {
  const d = S.draft;
  $("#draft-state").textContent = `#${d.id} · ${t("state_" + d.state)} · ` +
    `${t("revision")} ${d.revision} · ${t("by")} ${d.updated_by}`;
  $("#approve").disabled = d.state !== "editing";
  const history = $("#history ol");
  history.replaceChildren(...(d.changes || []).map((c) =>
    el("li", {text: `${c.at} · ${c.admin} · r${c.revision} · ${c.summary}`})));
}

function moveButtons(key, up, down, remove) {
  return el("span", {class: "moves"},
    el("button", {type: "button", "data-key": `${key}/up`, title: t("up"),
      "aria-label": t("up"), onclick: up, text: "↑"}),
    el("button", {type: "button", "data-key": `${key}/down`, title: t("down"),
      "aria-label": t("down"), onclick: down, text: "↓"}),
    remove && el("button", {type: "button", "data-key": `${key}/remove`, class: "remove",
      title: t("remove"), "aria-label": t("remove"), onclick: remove, text: "✕"}));
}

function name(item, key) {
  const text = (item && item[key || "title"]) || {};
  return text[S.lang] || text.zh_CN || text.en || item.id;
}

function renderCategories() {
  const menu = S.draft.menu;
  $("#categories").replaceChildren(...menu.categories.map((c, i) => el("li",
    {class: c.id === S.category ? "selected" : null},
    el("button", {type: "button", class: "pick", id: `cat:${c.id}`, "data-key": `cat:${c.id}`,
      "aria-pressed": String(c.id === S.category),
      onclick: () => { S.category = c.id; S.service = null; render(); }},
      el("img", {src: `/admin/static/icons/${c.icon || "document"}.svg`, alt: ""}), name(c)),
    moveButtons(`cat:${c.id}`, () => edit([{op: "move", path: ["categories", c.id], to: i - 1}]),
      () => edit([{op: "move", path: ["categories", c.id], to: i + 1}]),
      () => edit([{op: "remove", path: ["categories", c.id]}])))));
  const cat = menu.categories.find((c) => c.id === S.category);
  $("#category-form").replaceChildren(cat ? el("div", {class: "card"},
    idInput(["categories", cat.id], cat.id, () => { S.category = null; }),
    texts(t("cat_title"), ["categories", cat.id, "title"], cat.title),
    iconPicker(["categories", cat.id], cat.icon)) : "");
}

function renderServices() {
  const menu = S.draft.menu;
  const inCat = menu.services.filter((s) => s.category === S.category);
  $("#services").replaceChildren(...inCat.map((s, i) => el("li",
    {class: s.id === S.service ? "selected" : null},
    el("input", {type: "checkbox", title: t("enabled"), "aria-label": `${t("enabled")}: ${name(s)}`,
      "data-key": `svc:${s.id}/enabled`, checked: s.enabled !== false,
      onchange: (e) => edit([{op: "set", path: ["services", s.id, "enabled"],
        value: e.target.checked}])}),
    el("button", {type: "button", class: "pick" + (hasProblem(["services", s.id]) ? " bad" : ""),
      "data-scope": `services/${s.id}`, id: `svc:${s.id}`, "data-key": `svc:${s.id}`, "aria-pressed": String(s.id === S.service),
      onclick: () => { S.service = s.id; render(); }}, name(s)),
    moveButtons(`svc:${s.id}`,
      () => i > 0 && edit([{op: "move", path: ["services", s.id],
        to: menu.services.indexOf(inCat[i - 1])}]),
      () => i < inCat.length - 1 && edit([{op: "move", path: ["services", s.id],
        to: menu.services.indexOf(inCat[i + 1])}])))));
}

function renderService() {
  const box = $("#service-editor");
  const svc = S.draft.menu.services.find((s) => s.id === S.service);
  if (!svc) { box.replaceChildren(el("p", {class: "muted", text: t("select_service")})); return; }
  const base = ["services", svc.id];
  const cats = S.draft.menu.categories.map((c) => el("option",
    {value: c.id, selected: c.id === svc.category, text: name(c)}));
  box.replaceChildren(el("h2", {text: name(svc)}),
    el("div", {class: "row"}, idInput(base, svc.id, (v) => { S.service = v; }),
      el("label", {}, t("category"), el("select", {"data-path": path(base, "category"),
        "data-key": path(base, "category"), onchange: (e) => { S.category = e.target.value;
          edit([{op: "set", path: [...base, "category"], value: e.target.value}]); }}, cats)),
      check(t("enabled"), [...base, "enabled"], svc.enabled !== false),
      check(t("requires_identity"), [...base, "requires_identity"], !!svc.requires_identity)),
    iconPicker(base, svc.icon),
    texts(t("svc_title"), [...base, "title"], svc.title),
    texts(t("description"), [...base, "description"], svc.description, true),
    texts(t("receipt_title"), [...base, "receipt", "title"], svc.receipt.title),
    texts(t("receipt_note"), [...base, "receipt", "note"], svc.receipt.note),
    el("h3", {text: t("fields")}),
    el("ol", {class: "fields"}, (svc.fields || []).map((f, i) => fieldEditor(svc, f, i))),
    el("button", {type: "button", id: "add-field", "data-key": "add-field", text: t("add_field"),
      onclick: () => addField(svc)}));
}

function path(base, ...more) { return [...base, ...more].join("/"); }

function idInput(base, value, renamed) {
  return el("label", {}, t("id"), el("input", {value, "data-path": path(base, "id"),
    "data-key": path(base, "id"), size: 18, onchange: (e) => {
      renamed(e.target.value); edit([{op: "set", path: [...base, "id"], value: e.target.value}]);
    }}));
}

function check(label, at, value) {
  return el("label", {class: "check"}, el("input", {type: "checkbox", checked: value,
    "data-path": at.join("/"), "data-key": at.join("/"),
    onchange: (e) => edit([{op: "set", path: at, value: e.target.checked}])}), label);
}

// A localized text: both languages side by side.
function texts(label, at, value, optional) {
  return el("fieldset", {class: "texts"}, el("legend", {text: label}), LOCALES.map((loc) =>
    el("label", {}, el("span", {class: "loc", text: t(loc)}), el("input", {
      value: (value || {})[loc] || "", "data-path": path(at, loc), "data-key": path(at, loc),
      lang: loc === "en" ? "en" : "zh-CN", onchange: (e) => setText(at, loc, value,
        e.target.value, optional)}))));
}

function setText(at, loc, value, text, optional) {
  if (value === undefined) {  // an optional text not there yet: add it whole
    const whole = Object.fromEntries(LOCALES.map((l) => [l, l === loc ? text : ""]));
    return edit([{op: "set", path: at, value: whole}]);
  }
  const empty = LOCALES.every((l) => !(l === loc ? text : value[l] || "").trim());
  if (optional && empty) return edit([{op: "set", path: at, value: null}]);
  return edit([{op: "set", path: [...at, loc], value: text}]);
}

function iconPicker(base, current) {
  const icon = current || "document";
  return el("details", {class: "icons"}, el("summary", {"data-key": path(base, "icon")},
    `${t("icon")}: `, el("img", {src: `/admin/static/icons/${icon}.svg`, alt: ""}), ` ${icon}`),
  el("div", {class: "grid"}, DATA.icons.map((n) => el("button", {type: "button", title: n,
    "aria-label": n, "aria-pressed": String(n === icon), "data-key": path(base, "icon", n),
    onclick: () => edit([{op: "set", path: [...base, "icon"], value: n}])},
  el("img", {src: `/admin/static/icons/${n}.svg`, alt: ""})))));
}

function fieldEditor(svc, f, i) {
  const at = ["services", svc.id, "fields", f.id];
  const key = `f${i}`;
  const types = DATA.field_types.map((ty) => el("option",
    {value: ty, selected: ty === f.type, text: t("type_" + ty)}));
  return el("li", {class: "field card" + (hasProblem(at) ? " bad" : ""),
    "data-scope": at.join("/")},
    el("div", {class: "row"}, idInput(at, f.id, () => {}),
      el("label", {}, t("type"), el("select", {"data-path": path(at, "type"),
        "data-key": `${key}/type`, onchange: (e) => changeType(at, e.target.value)}, types)),
      check(t("required"), [...at, "required"], !!f.required),
      ALWAYS_SENSITIVE.includes(f.type) ?
        el("label", {class: "check", title: t("always_sensitive")}, el("input",
          {type: "checkbox", checked: true, disabled: true}), t("sensitive")) :
        check(t("sensitive"), [...at, "sensitive"], !!f.sensitive),
      moveButtons(key, () => edit([{op: "move", path: at, to: i - 1}]),
        () => edit([{op: "move", path: at, to: i + 1}]),
        () => edit([{op: "remove", path: at}]))),
    texts(t("label"), [...at, "label"], f.label),
    typeOptions(at, f));
}

function numberInput(label, at, value) {
  return el("label", {}, label, el("input", {type: "number", value: value ?? "",
    "data-path": at.join("/"), "data-key": at.join("/"), onchange: (e) => edit([{op: "set",
      path: at, value: e.target.value === "" ? null : Number(e.target.value)}])}));
}

function typeOptions(at, f) {
  if (f.type === "text") return el("div", {class: "row"},
    numberInput(t("max_length"), [...at, "max_length"], f.max_length));
  if (f.type === "number") return el("div", {class: "row"},
    numberInput(t("min"), [...at, "min"], f.min), numberInput(t("max"), [...at, "max"], f.max));
  if (f.type !== "choice") return "";
  const choices = f.choices || [];
  return el("div", {class: "choices"}, el("h4", {text: t("choices")}),
    el("ol", {}, choices.map((c, k) => el("li", {},
      el("div", {class: "row"}, idInput([...at, "choices", c.id], c.id, () => {}),
        moveButtons(`${path(at)}/c${k}`,
          () => edit([{op: "move", path: [...at, "choices", c.id], to: k - 1}]),
          () => edit([{op: "move", path: [...at, "choices", c.id], to: k + 1}]),
          () => edit([{op: "remove", path: [...at, "choices", c.id]}]))),
      texts(t("label"), [...at, "choices", c.id, "label"], c.label)))),
    el("button", {type: "button", "data-key": `${path(at)}/add-choice`, text: t("add_choice"),
      onclick: () => edit([{op: "add", path: [...at, "choices"],
        item: {id: freeId(choices, "option"), label: {zh_CN: "", en: ""}}}])}));
}

function changeType(at, type) {
  const ops = ["max_length", "min", "max", "choices"].map((k) =>
    ({op: "set", path: [...at, k], value: null}));
  ops.unshift({op: "set", path: [...at, "type"], value: type});
  if (type === "choice") ops.push({op: "set", path: [...at, "choices"],
    value: [{id: "option-1", label: {zh_CN: "", en: ""}}]});
  edit(ops);
}

function addField(svc) {
  const fields = svc.fields || [];
  const item = {id: freeId(fields, "field"), type: "text", required: false,
    label: {zh_CN: "", en: ""}};
  if (!svc.fields) edit([{op: "set", path: ["services", svc.id, "fields"], value: [item]}]);
  else edit([{op: "add", path: ["services", svc.id, "fields"], item}]);
}

function freeId(items, stem) {
  for (let n = items.length + 1; ; n++) {
    if (!items.some((x) => x.id === `${stem}-${n}`)) return `${stem}-${n}`;
  }
}

// -- problems, notices -------------------------------------------------------------------

function hasProblem(prefix) {
  return (S.draft.problems || []).some((p) => prefix.every((step, i) => p.path[i] === step));
}

function showProblems() {
  const problems = S.draft.problems || [];
  const box = $("#problems");
  box.hidden = false;
  box.classList.toggle("ok", problems.length === 0);
  box.querySelector("h2").textContent = problems.length ?
    t("problems_left", {n: problems.length}) : t("no_problems");
  box.querySelector("ul").replaceChildren(...problems.map((p) => el("li", {},
    el("button", {type: "button", class: "problem", onclick: () => goTo(p.path),
      text: p.text[S.lang]}))));
  document.querySelectorAll("[data-scope]").forEach((n) =>
    n.classList.toggle("bad", hasProblem(n.dataset.scope.split("/"))));
  document.querySelectorAll("[data-path].invalid").forEach((n) => {
    n.classList.remove("invalid");
    n.removeAttribute("aria-invalid");
  });
  for (const p of problems) {
    const at = p.path.join("/");
    document.querySelectorAll("[data-path]").forEach((n) => {
      if (n.dataset.path === at || n.dataset.path.startsWith(at + "/")) {
        n.classList.add("invalid");
        n.setAttribute("aria-invalid", "true");
      }
    });
  }
}

function goTo(at) {
  if (at[0] === "services") {
    const svc = S.draft.menu.services.find((s) => s.id === at[1]);
    if (svc) { S.category = svc.category; S.service = svc.id; }
  } else if (at[0] === "categories") { S.category = at[1]; }
  render();
  const target = document.querySelector(`[data-path^="${CSS.escape(at.join("/"))}"]`);
  if (target) target.focus();
}

function notice(text, withRetry) {
  const box = $("#notice");
  box.hidden = false;
  box.replaceChildren(el("span", {text}), withRetry && S.failed ? el("button",
    {type: "button", id: "reapply", text: t("reapply"), onclick: () => {
      const ops = S.failed; S.failed = null; box.hidden = true; edit(ops); }}) : "",
  el("button", {type: "button", class: "close", "aria-label": "×", text: "×",
    onclick: () => { box.hidden = true; }}));
}

function setState(text) { $("#draft-state").dataset.saving = text; }

// -- review: diff, preview, approve --------------------------------------------------------

async function showDiff() {
  const {data} = await api("GET", draftPath("/diff"));
  const box = $("#diff");
  box.hidden = false;
  box.textContent = data.text || data.error;
}

async function approve() {
  await S.queue;
  const {status, data} = await api("POST", draftPath("/approve"), {revision: S.draft.revision});
  if (status !== 200) {
    if (data.draft) S.draft = data.draft;
    notice(data.error || String(status), false);
    return;
  }
  await loadDraft(S.draft.id);
  const origin = window.location.origin;
  const pull = $("#pull");
  pull.hidden = false;
  pull.replaceChildren(el("p", {text: t("pull")}), el("pre", {text:
    `kiosk-admin menu pull --central ${origin} --token-file TOKEN --draft ${S.draft.id} ` +
    `--out menu.json\nkiosk-admin menu sign menu.json --key KEY.key --out bundle.json\n` +
    `kiosk-admin menu publish bundle.json --central ${origin} --token-file TOKEN ` +
    `[--group G]`}));
}

async function preview() {
  await S.queue;
  const box = $("#preview-box");
  box.hidden = false;
  box.querySelector(".shots").replaceChildren(el("p", {text: t("rendering")}));
  let {data} = await api("POST", draftPath("/preview"), {});
  while (data.state === "running") {
    await new Promise((r) => setTimeout(r, 1000));
    ({data} = await api("GET", draftPath("/preview")));
  }
  if (data.state !== "done") { box.querySelector(".shots").textContent = data.error; return; }
  const sizes = [...new Set(data.images.map((i) => i.size))];
  const filter = el("select", {id: "preview-size", onchange: () => showShots(data, filter.value)},
    el("option", {value: "", text: t("all_sizes")}), sizes.map((s) => el("option",
      {value: s, selected: s === "small", text: s})));
  box.querySelector(".filters").replaceChildren(filter);
  showShots(data, "small");
}

async function showShots(data, size) {
  const shots = $("#preview-box .shots");
  shots.replaceChildren();
  for (const image of data.images.filter((i) => !size || i.size === size)) {
    const {data: blob} = await api("GET", draftPath(`/preview/${image.file}`));
    shots.append(el("figure", {}, el("img", {src: URL.createObjectURL(blob), alt: image.file,
      "data-file": image.file}), el("figcaption",
      {text: `${image.screen} ${image.service} · ${t(image.locale)} · ${image.size}`})));
  }
}

// -- start --------------------------------------------------------------------------------

function translate() {
  document.documentElement.lang = S.lang === "en" ? "en" : "zh-CN";
  document.querySelectorAll("[data-t]").forEach((n) => { n.textContent = t(n.dataset.t); });
  $("#lang").textContent = t("lang_button");
}

function signOut() {
  sessionStorage.removeItem("editor-token");
  S.token = "";
  $("#login").hidden = false;
}

async function start() {
  translate();
  $("#lang").addEventListener("click", () => {
    S.lang = S.lang === "en" ? "zh_CN" : "en";
    localStorage.setItem("editor-lang", S.lang);
    translate();
    render();
  });
  $("#login-form").addEventListener("submit", async (e) => {
    e.preventDefault();
    S.token = $("#token").value.trim();
    sessionStorage.setItem("editor-token", S.token);
    $("#login").hidden = true;
    $("#bar").hidden = false;
    await loadDrafts();
  });
  $("#draft-select").addEventListener("change", (e) => e.target.value && loadDraft(e.target.value));
  $("#new-draft").addEventListener("click", newDraft);
  $("#show-diff").addEventListener("click", showDiff);
  $("#approve").addEventListener("click", approve);
  $("#preview").addEventListener("click", preview);
  $("#add-category").addEventListener("submit", (e) => {
    e.preventDefault();
    const id = $("#new-category-id").value.trim();
    edit([{op: "add", path: ["categories"], item: {id, title: {zh_CN: "", en: ""},
      icon: "document"}}]);
    S.category = id;
    S.service = null;
    render();
    e.target.reset();
  });
  $("#add-service").addEventListener("submit", (e) => {
    e.preventDefault();
    const id = $("#new-service-id").value.trim();
    edit([{op: "add", path: ["services"], item: {id, category: S.category,
      title: {zh_CN: "", en: ""}, icon: "document", enabled: true, requires_identity: false,
      fields: [], receipt: {title: {zh_CN: "", en: ""}, note: {zh_CN: "", en: ""}}}}]);
    S.service = id;
    render();
    e.target.reset();
  });
  if (!S.token) { $("#login").hidden = false; return; }
  $("#bar").hidden = false;
  await loadDrafts();
}

start();
