"""Issue #15's benchmark: what a kiosk downloads for a release that changes only the
project, against a full release, and the time from publish to a healthy new version over
a link limited to 1 Mbit/s.

    python benchmarks/update_rollout.py --deps DIR      # DIR: the dependency wheels
    (make them with: pip wheel --no-deps -w DIR -r LOCK, LOCK = name==version lines)

Real releases of this checkout with every dependency wheel (no inherited packages: the
slots are full virtual environments built offline), a real central on 127.0.0.1, the real
kiosk offscreen under the real guard, and a proxy between them (tests/updates/link.py)
that limits the bytes towards the kiosk. First 0.2.0 is rolled out over the unlimited link
(the kiosk fetches everything), then 0.2.1, which changes only the project, over 1 Mbit/s.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests" / "updates")]

from bench_common import cpu_model  # noqa: E402
from link import WeakLink  # noqa: E402
from update_helpers import (  # noqa: E402
    ADMIN_TOKEN,
    GROUP,
    RELEASE_KEY,
    GuardProcess,
    kiosk_config,
    latest,
    publish,
    wait_for,
)

from admin.release import build  # noqa: E402
from central.server import CentralServer  # noqa: E402

KIOSK, TOKEN = "ZJ-HZ-BENCH", "kiosk-token-bench-0123"


def _healthy(central, version: str) -> bool:
    beat = latest(central, KIOSK)
    return beat.get("app_version") == version and beat.get("update", {}).get("state") == "healthy"


def main() -> int:
    p = argparse.ArgumentParser()
    p.add_argument("--deps", required=True, help="folder of the dependency wheels")
    p.add_argument("--rate-bps", type=float, default=1_000_000)
    args = p.parse_args()
    deps = sorted(Path(args.deps).glob("*.whl"))
    with tempfile.TemporaryDirectory(prefix="update-bench-") as tmp:
        work = Path(tmp)
        full = build(ROOT, "0.2.0", work / "r1" / "wheels", wheels=deps)
        delta = build(ROOT, "0.2.1", work / "r2" / "wheels", wheels=deps)
        central = CentralServer(work / "central.db", kiosks={KIOSK: {"token": TOKEN,
                                                                     "group": GROUP}},
                                admins={"county": {"token": ADMIN_TOKEN}},
                                release_keys={"release-2026": RELEASE_KEY[1]})
        central.start()
        link = WeakLink(central.port)
        guard = GuardProcess(work, kiosk_config(work, KIOSK, link.url, TOKEN,
                                                inherit_site=False), trial_s=300)
        try:
            wait_for(lambda: latest(central, KIOSK).get("app_version") == "0.1.0", 120,
                     lambda: guard.output()[-3000:])
            before, started = link.bytes_down, time.monotonic()
            publish(central.url, full, work / "r1" / "wheels")
            wait_for(lambda: _healthy(central, "0.2.0"), 1200, lambda: guard.output()[-3000:])
            full_s, full_bytes = time.monotonic() - started, link.bytes_down - before
            link.rate_bps = args.rate_bps
            before, started = link.bytes_down, time.monotonic()
            publish(central.url, delta, work / "r2" / "wheels")
            wait_for(lambda: _healthy(central, "0.2.1"), 1200, lambda: guard.output()[-3000:])
            delta_s, delta_bytes = time.monotonic() - started, link.bytes_down - before
        finally:
            guard.stop()
            link.close()
            central.stop()
    full_size = sum(w["size"] for w in full["wheels"])
    project = next(w for w in delta["wheels"] if w["name"].startswith("village_kiosk-"))
    print(json.dumps({
        "cpu": cpu_model(), "wheels": len(full["wheels"]), "full_release_bytes": full_size,
        "full_update_link_bytes": full_bytes, "full_update_s_unlimited_loopback": round(full_s, 1),
        "project_wheel_bytes": project["size"], "delta_update_link_bytes": delta_bytes,
        "delta_share_of_full_pct": round(100 * delta_bytes / full_size, 3),
        "rate_bps": args.rate_bps, "delta_publish_to_healthy_s": round(delta_s, 1),
    }, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
