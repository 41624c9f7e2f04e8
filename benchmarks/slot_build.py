"""Issue #15: building a kiosk's new slot from scratch against from a copy of the running
slot, for a release that changes only the project.

    python benchmarks/slot_build.py --deps DIR      # DIR: the dependency wheels
    (make them with: pip wheel --no-deps -w DIR -r LOCK, LOCK = name==version lines)

Real releases of this checkout with every dependency wheel (no inherited packages), the
real ``updater.slots.build_slot``: first 0.2.0 is built clean (nothing runs from a slot
yet), then 0.2.1 from a copy of the 0.2.0 slot, then the same 0.2.1 clean, in the same run
so the two 0.2.1 figures meet the same machine load. Wall time and the CPU time of the
children (``venv``, ``pip``) are both given: the CPU time is what the machine's load does
not inflate.
"""

from __future__ import annotations

import argparse
import json
import logging
import resource
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT)]

from bench_common import cpu_model  # noqa: E402

from admin.release import build  # noqa: E402
from updater.layout import Layout  # noqa: E402
from updater.slot_copy import installed  # noqa: E402
from updater.slots import build_slot  # noqa: E402


def _timed(what, *args, **kwargs) -> dict[str, float]:
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.monotonic()
    what(*args, **kwargs)
    wall = time.monotonic() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return {"wall_s": round(wall, 1), "cpu_s": round(cpu, 1)}


def main() -> int:
    p = argparse.ArgumentParser()
    p.add_argument("--deps", required=True, help="folder of the dependency wheels")
    args = p.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(name)s: %(message)s")
    deps = sorted(Path(args.deps).glob("*.whl"))
    with tempfile.TemporaryDirectory(prefix="slot-bench-") as tmp:
        work = Path(tmp)
        old = build(ROOT, "0.2.0", work / "r1", wheels=deps)
        new = build(ROOT, "0.2.1", work / "r2", wheels=deps)
        layout = Layout(work / "updates")
        layout.prepare()
        for manifest, folder in ((old, work / "r1"), (new, work / "r2")):
            for w in manifest["wheels"]:
                shutil.copy(folder / w["name"], layout.cache / w["sha256"])
        first = _timed(build_slot, layout, old)
        copy = _timed(build_slot, layout, new, running="0.2.0")
        copied = sorted(installed(layout.slot("0.2.1") / "venv"))
        shutil.rmtree(layout.slot("0.2.1"))
        clean = _timed(build_slot, layout, new)
        same = copied == sorted(installed(layout.slot("0.2.1") / "venv"))
    print(json.dumps({
        "cpu": cpu_model(), "wheels": len(new["wheels"]),
        "release_bytes": sum(w["size"] for w in new["wheels"]),
        "first_slot_clean": first, "next_slot_clean": clean, "next_slot_from_copy": copy,
        "copy_saves_wall_pct": round(100 * (1 - copy["wall_s"] / clean["wall_s"]), 1),
        "copy_saves_cpu_pct": round(100 * (1 - copy["cpu_s"] / clean["cpu_s"]), 1),
        "copy_and_clean_hold_the_same_distributions": same,
    }, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
