"""The kiosk's update agent: asks the central for the release offered to this kiosk,
verifies it, fetches the wheels it does not hold, builds the new slot, and asks the guard
to switch (``request_switch``) when the kiosk says it is a good moment.

Nothing here touches the running slot: a refusal or a failure before the switch leaves the
kiosk as it was, and is reported in ``agent.json`` for the heartbeat.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping
from typing import Any

import requests

from contract import release as contract_release
from contract.errors import ContractError

from .cache import previous_slot, prune_cache
from .errors import ReleaseRefused, UpdateError
from .fetch import TIMEOUT, WheelFetcher, cached
from .layout import Layout
from .slots import build_slot
from .state import UpdateState, read_json, write_json

log = logging.getLogger(__name__)

MAX_RELEASE_BYTES = 1024 * 1024


class UpdateAgent:
    """One kiosk's updates: ``check()`` on a schedule or a ``check_update`` command."""

    def __init__(self, layout: Layout, fetcher: WheelFetcher, kiosk_id: str,
                 release_keys: Mapping[str, str], running: str, *,
                 inherit_site: bool = False) -> None:
        self.layout = layout
        self.fetcher = fetcher
        self.kiosk_id = kiosk_id
        self.release_keys = dict(release_keys)
        self.running = running
        self.inherit_site = inherit_site

    def check(self) -> str:
        """One check: ``none`` (nothing offered), ``current`` (nothing newer), ``refused``,
        ``ready`` (a slot is built and waits for the switch) or ``failed`` (try again
        later). Never raises for what the central or the network does."""
        self.layout.prepare()
        try:
            offer = self._offer()
            if offer is None:
                self._note("idle", None, None, "no release offered")
                return "none"
            manifest, rollout = offer
            return self._prepare(manifest, rollout)
        except ReleaseRefused as exc:
            log.warning("release refused: %s", exc.reason)
            self._note("refused", self._offered_version, self._offered_rollout, exc.reason)
            return "refused"
        except UpdateError as exc:
            log.warning("update not ready: %s", exc)
            self._note("failed", self._offered_version, self._offered_rollout, str(exc))
            return "failed"

    _offered_version: str | None = None
    _offered_rollout: Any = None

    def _offer(self) -> tuple[dict[str, Any], Any] | None:
        url = f"{self.fetcher.base_url}/api/v1/kiosks/{self.kiosk_id}/release"
        try:
            r = self.fetcher.session.get(url, headers=self.fetcher.headers, timeout=TIMEOUT,
                                         verify=self.fetcher.verify)
        except requests.RequestException as exc:
            raise UpdateError(f"release check: {type(exc).__name__}") from None
        if r.status_code == 204:
            return None
        if r.status_code != 200 or len(r.content) > MAX_RELEASE_BYTES:
            raise UpdateError(f"release check: HTTP {r.status_code}")
        try:
            doc = r.json()
        except ValueError:
            raise ReleaseRefused("the offered release is not JSON") from None
        rollout = (doc.get("rollout") or {}).get("id") if isinstance(doc, dict) else None
        if isinstance(doc, dict) and isinstance(doc.get("release"), dict):
            self._offered_version = str(doc["release"].get("version"))[:40]
        self._offered_rollout = rollout
        try:
            return contract_release.verify_release(doc, self.release_keys), rollout
        except ContractError as exc:
            raise ReleaseRefused(str(exc)) from None

    def _prepare(self, manifest: dict[str, Any], rollout: Any) -> str:
        version = manifest["version"]
        if not contract_release.is_newer(version, self.running):
            if version != self.running:
                raise ReleaseRefused(f"version {version} is older than the running "
                                     f"{self.running}")
            self._note("idle", version, rollout, "running the offered version")
            self._prune(state=None)
            return "current"
        if contract_release.parse_version(self.running) < contract_release.parse_version(
                manifest["min_from"]):
            raise ReleaseRefused(f"version {version} cannot update from {self.running} "
                                 f"(needs {manifest['min_from']} or newer)")
        state = UpdateState.load(self.layout.state_file)
        if version in state.refused and state.refused[version] == rollout:
            self._prune(state)  # its wheels too: a new publication fetches them again
            self._note("refused", version, rollout, "rolled back before; waits for a new "
                       "publication")
            return "refused"
        missing = [w for w in manifest["wheels"] if cached(self.layout.cache, w) is None]
        if missing:
            self._note("downloading", version, rollout, f"{len(missing)} wheels to fetch")
        for wheel in missing:
            self.fetcher.fetch(self.layout.cache, wheel)
        build_slot(self.layout, manifest, inherit_site=self.inherit_site, running=self.running)
        self._note("ready", version, rollout, "slot built; switches at the next good moment")
        self._prune(state, {w["sha256"] for w in manifest["wheels"]})
        return "ready"

    def _prune(self, state: UpdateState | None, preparing: set[str] = frozenset()) -> None:
        """Keep only the wheels of the running slot, the previous one and ``preparing``."""
        state = state or UpdateState.load(self.layout.state_file)
        previous = previous_slot(self.layout, self.running, state.refused)
        prune_cache(self.layout, (self.running, previous), preparing)

    def ready_version(self) -> tuple[str, Any] | None:
        """``(version, rollout)`` of a built slot waiting for the switch."""
        doc = read_json(self.layout.agent_file)
        version, rollout = str(doc.get("version")), doc.get("rollout")
        refused = UpdateState.load(self.layout.state_file).refused
        if (doc.get("state") != "ready" or version == self.running
                or not self.layout.python(version).exists()
                or (version in refused and refused[version] == rollout)):
            return None
        return version, rollout

    def request_switch(self) -> bool:
        """Ask the guard to switch at the next start; True when a slot was ready."""
        ready = self.ready_version()
        if ready is None:
            return False
        write_json(self.layout.switch_request, {"version": ready[0], "rollout": ready[1]})
        return True

    def _note(self, state: str, version: str | None, rollout: Any, detail: str) -> None:
        write_json(self.layout.agent_file, {"state": state, "version": version,
                                            "rollout": rollout, "detail": detail[:300],
                                            "at": time.time()})


def heartbeat_member(layout: Layout, running: str) -> dict[str, Any]:
    """The heartbeat's ``update`` member: the running version, what the agent is doing, and
    the last rollback with its reason."""
    state = UpdateState.load(layout.state_file)
    agent = read_json(layout.agent_file)
    if state.trial is not None and state.trial.get("version") == running:
        status = "trial"
    elif state.healthy == running and agent.get("state") in (None, "ready", "idle") and \
            agent.get("version") in (None, running):
        status = "healthy"
    else:
        status = agent.get("state", "idle")
    return {"running": running, "state": status, "version": agent.get("version"),
            "rollout": agent.get("rollout"), "detail": agent.get("detail"),
            "rolled_back": state.rolled_back}


def mark_heartbeat_ok(layout: Layout, running: str) -> None:
    """Tell the guard this version got a heartbeat through (``heartbeat-ok``)."""
    write_json_text(layout.heartbeat_ok, running)


def write_json_text(path: Any, text: str) -> None:
    from contract.atomic import write_atomic

    write_atomic(path, text.encode("utf-8"))
