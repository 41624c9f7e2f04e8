"""Menu drafts on the central: made from a published menu, edited, reviewed, approved.

The central keeps drafts and who changed what when (``central.storage.drafts``), checks every
edit with the kiosk's own rules (``contract.menu``) and words each problem for an admin
(``contract.menu_places``). It never signs: an admin pulls the approved draft's canonical
bytes (``kiosk-admin menu pull``), signs them offline and publishes the bundle, and the
central checks that the published menu is exactly an approved draft (``check_publication``).
With ``require_approval`` a draft needs the approval of an admin who did not edit it.
"""

from __future__ import annotations

import hashlib
import json
import logging
import threading
from typing import TYPE_CHECKING, Any

from contract import menu as menu_rules
from contract.menu_diff import diff_menus, format_diff
from contract.menu_places import describe_all
from contract.resources import default_menu_path
from contract.signing import canonical_bytes
from contract.times import rfc3339

from .catalog import ALL
from .draft_ops import apply_ops
from .errors import CentralError

if TYPE_CHECKING:
    from .server import CentralServer

log = logging.getLogger(__name__)

EDITING, APPROVED, PUBLISHED = "editing", "approved", "published"
_CACHE_SIZE = 8


class DraftRefused(CentralError):
    """A draft request the central refuses; ``status`` is the HTTP answer, ``details`` extra
    JSON keys (the current draft for a stale save)."""

    def __init__(self, status: int, message: str, **details: Any) -> None:
        super().__init__(message)
        self.status = status
        self.details = details


def digest_of(menu: Any) -> str:
    return hashlib.sha256(canonical_bytes(menu)).hexdigest()


def _canonical(menu: Any) -> tuple[str, str]:
    """The menu's canonical text (what is signed) and its SHA-256."""
    data = canonical_bytes(menu)
    return data.decode("utf-8"), hashlib.sha256(data).hexdigest()


def _working(menu: Any) -> tuple[str, str]:
    """A draft being edited, stored without the canonical form's sorting (faster at 500
    services); its digest is made when it is approved, which stores the canonical text."""
    return json.dumps(menu, ensure_ascii=False, separators=(",", ":"),
                      check_circular=False), ""


class DraftBook:
    """The drafts of one central, over its store. Thread-safe; several processes may share
    the store (a save names the revision it started from)."""

    def __init__(self, central: CentralServer, require_approval: bool = False) -> None:
        self.central = central
        self.require_approval = require_approval
        self._cache: dict[tuple[int, int], dict[str, Any]] = {}  # (id, revision) -> menu
        self._lock = threading.Lock()

    # -- reading ---------------------------------------------------------------------------

    def list(self) -> list[dict[str, Any]]:
        return [_public(r) for r in self.central.store.drafts()]

    def view(self, draft_id: int, *, changes: bool = True) -> dict[str, Any]:
        """The draft as the editor reads it: record, menu, problems in words, history."""
        record, menu = self._load(draft_id)
        out = {**_public(record), "menu": menu,
               "problems": describe_all(menu_rules.validate(menu), menu),
               "require_approval": self.require_approval}
        if changes:
            out["changes"] = [{**c, "at": rfc3339(c["at"])}
                              for c in self.central.store.draft_changes(draft_id)]
        return out

    def diff(self, draft_id: int) -> dict[str, Any]:
        """What the draft changes against the menu all kiosks get now, as ``kiosk-admin
        menu diff`` reads."""
        _, menu = self._load(draft_id)
        published = self._published_menu() or _default_menu()  # what kiosks run then
        result = diff_menus(published, menu)
        return {"against": published.get("version"), "text": format_diff(result),
                "diff": result.as_dict()}

    def canonical(self, draft_id: int) -> bytes:
        """The bytes an admin signs (as stored); only of a draft ready to publish."""
        record, menu = self._load(draft_id)
        if record["state"] == EDITING and self.require_approval:
            raise DraftRefused(409, f"draft {draft_id} is not approved yet")
        problems = menu_rules.validate(menu)
        if problems:
            raise DraftRefused(409, f"draft {draft_id} is not a valid menu yet: "
                               f"{problems[0]}", problems=describe_all(problems, menu))
        return canonical_bytes(menu)

    # -- changing --------------------------------------------------------------------------

    def create(self, admin: str, from_seq: int | None = None) -> dict[str, Any]:
        """A new draft from published bundle ``from_seq``, else from what all kiosks get
        now, else from the project's default menu; its version is the next free one."""
        if from_seq is not None:
            body = self.central.store.menu_body(from_seq)
            if body is None:
                raise DraftRefused(404, f"no published menu {from_seq}")
            menu, source = json.loads(body)["menu"], f"made from published menu {from_seq}"
        else:
            menu = self._published_menu()
            source = "made from the menu all kiosks get"
            if menu is None:
                menu = _default_menu()
                source = "made from the default menu"
        base_version = menu.get("version", 0) if isinstance(menu.get("version"), int) else 0
        menu["version"] = self._next_version(base_version)
        text, digest = _canonical(menu)
        record = self.central.store.create_draft(
            menu_json=text, digest=digest, base_version=base_version, admin=admin,
            summary=source)
        log.info("admin %s made menu draft %d (%s)", admin, record["id"], source)
        return self.view(record["id"])

    def edit(self, draft_id: int, revision: Any, ops: Any, admin: str) -> dict[str, Any]:
        """Apply ``ops`` to the draft at ``revision``; 409 with the current draft when
        another save came first. The answer holds the new revision and every problem."""
        record, menu = self._load(draft_id)
        self._check_revision(record, revision)
        if record["state"] == PUBLISHED:
            raise DraftRefused(409, f"draft {draft_id} is published; make a new draft")
        menu, summaries = apply_ops(menu, ops)  # the cached menu itself stays as it was
        summary = "; ".join(summaries)[:500]
        saved = self._save(record, menu, EDITING, admin, summary)
        problems = menu_rules.validate(menu)
        return {**_public(saved), "problems": describe_all(problems, menu)}

    def approve(self, draft_id: int, revision: Any, admin: str) -> dict[str, Any]:
        """Approve the draft as it is at ``revision``: valid, and with ``require_approval``
        by an admin who did not edit it. Its version and time are fixed now."""
        record, menu = self._load(draft_id)
        self._check_revision(record, revision)
        if record["state"] != EDITING:
            raise DraftRefused(409, f"draft {draft_id} is already {record['state']}")
        problems = menu_rules.validate(menu)
        if problems:
            raise DraftRefused(409, "a draft with problems cannot be approved",
                               problems=describe_all(problems, menu))
        if self.require_approval:
            editors = {c["admin"] for c in self.central.store.draft_changes(draft_id, 10_000)}
            if admin in editors:
                raise DraftRefused(403, "this deployment needs a second admin's approval: "
                                   f"{admin} edited this draft")
        menu = {**menu, "version": self._next_version(menu["version"] - 1),
                "published_at": rfc3339(self.central.clock())}
        return _public(self._save(record, menu, APPROVED, admin, "approved", approved=True))

    def check_publication(self, menu: Any) -> dict[str, Any] | None:
        """The approved draft ``menu`` is exactly, or None; with ``require_approval`` a menu
        that is no approved draft is refused (409)."""
        digest = digest_of(menu)
        for record in self.central.store.drafts():
            if record["state"] == APPROVED and record["digest"] == digest:
                return record
        if self.require_approval:
            raise DraftRefused(409, "this deployment publishes approved drafts only: the "
                               "bundle's menu is no approved draft (pull it again with "
                               "kiosk-admin menu pull)")
        return None

    def mark_published(self, record: dict[str, Any], seq: int, admin: str) -> None:
        saved = self.central.store.save_draft(
            record["id"], revision=record["revision"], menu_json=None, digest=record["digest"],
            state=PUBLISHED, admin=admin, summary=f"published as menu {seq}",
            published_seq=seq)
        if saved is None:
            log.warning("draft %d changed while it was published", record["id"])

    # -- helpers ---------------------------------------------------------------------------

    def _load(self, draft_id: int) -> tuple[dict[str, Any], dict[str, Any]]:
        record = self.central.store.draft(draft_id)
        if record is None:
            raise DraftRefused(404, f"no menu draft {draft_id}")
        key = (draft_id, record["revision"])
        with self._lock:
            menu = self._cache.get(key)
        if menu is None:
            menu = json.loads(record["menu"])
            with self._lock:
                if len(self._cache) >= _CACHE_SIZE:
                    self._cache.pop(next(iter(self._cache)))
                self._cache[key] = menu
        return record, menu

    def _save(self, record: dict[str, Any], menu: dict[str, Any], state: str, admin: str,
              summary: str, approved: bool = False) -> dict[str, Any]:
        text, digest = _canonical(menu) if state != EDITING else _working(menu)
        saved = self.central.store.save_draft(
            record["id"], revision=record["revision"], menu_json=text, digest=digest,
            state=state, admin=admin, summary=summary, approved=approved)
        if saved is None:
            raise self._stale(record["id"])
        with self._lock:
            self._cache[(record["id"], saved["revision"])] = menu
        return saved

    def _check_revision(self, record: dict[str, Any], revision: Any) -> None:
        if not isinstance(revision, int) or isinstance(revision, bool):
            raise DraftRefused(428, "name the revision the change starts from "
                               "(If-Match or revision)")
        if revision != record["revision"]:
            raise self._stale(record["id"])

    def _stale(self, draft_id: int) -> DraftRefused:
        current = self.view(draft_id)
        return DraftRefused(409, f"draft {draft_id} was changed by {current['updated_by']} "
                            f"(revision {current['revision']}); your change was not saved",
                            draft=current)

    def _published_menu(self) -> dict[str, Any] | None:
        served = self.central.catalog.newest().get(ALL) or self.central.menus.current()
        return None if served is None else json.loads(served.body)["menu"]

    def _next_version(self, version: int) -> int:
        """Greater than ``version`` and than every version published for any target."""
        published = [r["version"] for r in self.central.store.menu_records()]
        fallback = self.central.menus.current()
        if fallback is not None and fallback.version is not None:
            published.append(fallback.version)
        return max([version, *published]) + 1


def _default_menu() -> dict[str, Any]:
    return json.loads(default_menu_path().read_text("utf-8"))


def _public(record: dict[str, Any]) -> dict[str, Any]:
    """A draft record for an answer: times in RFC 3339, no menu text."""
    out = {k: v for k, v in record.items() if k != "menu"}
    for key in ("created_at", "updated_at", "approved_at"):
        if out.get(key) is not None:
            out[key] = rfc3339(out[key])
    return out
