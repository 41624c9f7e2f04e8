"""Releases on the central (issue #15): keep signed releases, offer each kiosk the one
meant for it, and tell how a rollout is going from the kiosks' heartbeats.

A rollout offers one kept release to a target (every kiosk, a group, or one kiosk) and a
share of it: a kiosk is in a rollout of ``percent`` when its stable bucket (SHA-256 of group
and kiosk id, 0 to 9999) is below ``percent * 100``, so widening a rollout keeps every kiosk
that already had it. A kiosk is offered the newest rollout that includes it.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Mapping
from typing import Any

from contract import release as contract_release
from contract.signing import SignatureError as ContractSignatureError
from contract.times import rfc3339

from .errors import CentralError
from .kiosks import Kiosk, KioskRegistry

log = logging.getLogger(__name__)

STATES = ("offered", "downloading", "switched", "healthy", "rolled_back")


class ReleaseRefused(CentralError):
    """A release or rollout an admin may not publish; ``status`` is the HTTP answer."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.status = status


def bucket(kiosk: Kiosk) -> int:
    """The kiosk's stable place in its group's rollouts, 0 to 9999."""
    digest = hashlib.sha256(f"{kiosk.group}\0{kiosk.id}".encode()).digest()
    return int.from_bytes(digest[:4], "big") % 10000


def includes(rollout: Mapping[str, Any], kiosk: Kiosk) -> bool:
    kind, target = rollout["target_kind"], rollout["target"]
    if kind == "kiosk" and target != kiosk.id:
        return False
    if kind == "group" and target != kiosk.group:
        return False
    return bucket(kiosk) < round(float(rollout["percent"]) * 100)


def check_release(signed: Any, release_keys: Mapping[str, str]) -> dict[str, Any]:
    """The manifest of a signed release an admin publishes. With trusted release keys the
    signature must verify; without, only the manifest is checked (kiosks verify anyway)."""
    try:
        if release_keys:
            return contract_release.verify_release(signed, release_keys)
        if not isinstance(signed, dict) or not contract_release.SIGNED_KEYS <= signed.keys():
            raise ReleaseRefused("expected a signed release (release, key_id, signature)")
        return contract_release.check_manifest(signed["release"])
    except contract_release.ReleaseError as exc:
        raise ReleaseRefused(f"not a valid release: {exc}") from None
    except ContractSignatureError as exc:
        raise ReleaseRefused(str(exc), 422) from None


def publish_release(store: Any, signed: Any, release_keys: Mapping[str, str],
                    admin: str) -> dict[str, Any]:
    """Keep a signed release once all its wheels are held; returns its manifest."""
    manifest = check_release(signed, release_keys)
    missing = [w["name"] for w in manifest["wheels"]
               if not store.complete_wheel(w["sha256"], w["size"])]
    if missing:
        raise ReleaseRefused(f"wheels not uploaded (or not matching size and hash): "
                             f"{', '.join(missing[:5])}", 409)
    body = json.dumps({k: signed[k] for k in contract_release.SIGNED_KEYS},
                      ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    existing = store.release_body(manifest["version"])
    if existing is not None and existing != body:
        raise ReleaseRefused(f"release {manifest['version']} is already kept with other "
                             "content; release a new version", 409)
    if existing is None:
        store.add_release(version=manifest["version"], key_id=signed["key_id"], body=body,
                          admin=admin)
        log.info("admin %s: release %s kept (%d wheels)", admin, manifest["version"],
                 len(manifest["wheels"]))
    return manifest


def offer(store: Any, kiosk: Kiosk) -> bytes | None:
    """The body a kiosk is served: its newest including rollout's signed release with a
    ``rollout`` member (outside the signature), or None."""
    for rollout in store.rollouts():
        if includes(rollout, kiosk):
            body = store.release_body(rollout["version"])
            if body is None:
                continue
            doc = json.loads(body)
            doc["rollout"] = {"id": rollout["seq"], "percent": rollout["percent"],
                              "target": rollout_target(rollout)}
            return json.dumps(doc, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    return None


def rollout_target(rollout: Mapping[str, Any]) -> dict[str, str]:
    kind = rollout["target_kind"]
    return {"kind": kind} if kind == "all" else {"kind": kind, kind: rollout["target"]}


def progress(store: Any, kiosks: KioskRegistry,
             latest: Mapping[str, tuple[float, dict[str, Any]]]) -> list[dict[str, Any]]:
    """For each target's newest rollout: how many kiosks are offered it, downloading,
    switched, healthy or rolled back, and why they rolled back."""
    seen: set[tuple[str, str]] = set()
    out = []
    for rollout in store.rollouts():
        key = (rollout["target_kind"], rollout["target"])
        if key in seen:
            continue
        seen.add(key)
        out.append(_rollout_progress(rollout, kiosks, latest))
    return out


def _rollout_progress(rollout: Mapping[str, Any], kiosks: KioskRegistry,
                      latest: Mapping[str, tuple[float, dict[str, Any]]]) -> dict[str, Any]:
    version = rollout["version"]
    counts = dict.fromkeys(STATES, 0)
    reasons = []
    for kiosk in kiosks.all():
        if not includes(rollout, kiosk):
            continue
        counts["offered"] += 1
        body = latest.get(kiosk.id, (0.0, {}))[1]
        state = kiosk_update_state(body, version)
        if state in counts:
            counts[state] += 1
        if state == "rolled_back":
            reasons.append({"kiosk_id": kiosk.id,
                            "reason": str(body["update"]["rolled_back"].get("reason"))[:300]})
    return {"id": rollout["seq"], "version": version, "target": rollout_target(rollout),
            "percent": rollout["percent"], "admin": rollout["admin"],
            "published_at": rfc3339(rollout["published_at"]), **counts,
            "rollback_reasons": reasons}


def kiosk_update_state(body: Mapping[str, Any], version: str) -> str | None:
    """Where a kiosk's last heartbeat says it is with ``version``: ``rolled_back``,
    ``healthy``, ``switched`` (running it, not yet confirmed healthy), ``downloading``."""
    update = body.get("update") if isinstance(body, Mapping) else None
    update = update if isinstance(update, Mapping) else {}
    rolled = update.get("rolled_back")
    if isinstance(rolled, Mapping) and rolled.get("version") == version:
        return "rolled_back"
    if body.get("app_version") == version:
        return "healthy" if update.get("state") in ("healthy", None, "idle") else "switched"
    if update.get("version") == version and update.get("state") in ("downloading", "ready"):
        return "downloading"
    return None
