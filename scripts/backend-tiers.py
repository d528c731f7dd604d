#!/usr/bin/env python3
"""The backend's tiers: every import points down (docs/ARCHITECTURE.md).

Usage: backend-tiers.py backend/src   (exit 1 when an import points up or
from one area into another)

Tiers, bottom up: platform, store, engine, the areas (every other top-level
module, one per area), jobs, then portal and signup, then ops. A module may
import its own tier's platform, store or engine siblings, but an area never
imports another area. Edges are read as module-cycles.py reads them.
"""
import importlib.util
import sys
from pathlib import Path

here = Path(__file__).resolve().parent
spec = importlib.util.spec_from_file_location("cycles", here / "module-cycles.py")
cycles = importlib.util.module_from_spec(spec)
spec.loader.exec_module(cycles)

RANKS = {"platform": 0, "store": 1, "engine": 2, "jobs": 4, "portal": 5, "signup": 5, "ops": 6, "testing": 6}
AREA = 3


def rank(module):
    return RANKS.get(module[0], AREA) if module else AREA


def main():
    bad = []
    for arg in sys.argv[1:]:
        _, edges = cycles.cycles(Path(arg))
        for a in sorted(edges):
            for b in sorted(edges[a]):
                ra, rb = rank(a), rank(b)
                if rb > ra:
                    bad.append(f"{'::'.join(a)} -> {'::'.join(b)}: up from tier {ra} to tier {rb}")
                elif ra == rb == AREA and a[0] != b[0]:
                    bad.append(f"{'::'.join(a)} -> {'::'.join(b)}: one area into another")
        print(f"{arg}: {len(bad)} import(s) against the tiers")
    for line in bad:
        print("    " + line)
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()
