#!/usr/bin/env python3
# Copied from the project's shared tools (shared/tools/module-cycles.py) so that a
# fresh clone runs the same check; keep it in step with that file.
"""Import circles between the modules of one crate.

Usage: module-cycles.py CRATE/src [...]   (exit 1 when a circle is found)

Each .rs file is a module (lib.rs/main.rs the root, mod.rs its folder). An
edge A -> B is any `crate::b...` path in A's text (grouped `crate::{b, c}`
imports included), resolved to the longest module that exists, plus
`super::x` paths resolved from A's parent. Circles are the strongly
connected components with more than one module.
"""
import re, sys
from pathlib import Path

def module_of(src: Path, f: Path):
    parts = list(f.relative_to(src).with_suffix("").parts)
    if parts[-1] in ("lib", "main", "mod"):
        parts = parts[:-1]
    return tuple(parts)

def paths_in(text):
    text = re.sub(r"//[^\n]*", "", text)
    for m in re.finditer(r"\b(crate|super)::((?:\w+::)*)(\{[^}]*\}|\w+)", text):
        head = [p for p in m.group(2).split("::") if p]
        tail = m.group(3)
        if tail.startswith("{"):
            for item in re.split(r"[,\s]+", tail.strip("{}")):
                first = item.split("::")[0] if item else ""
                yield m.group(1), head + ([first] if first and first != "self" else [])
        else:
            yield m.group(1), head + [tail]

def resolve(mods, path):
    for n in range(len(path), 0, -1):
        if tuple(path[:n]) in mods:
            return tuple(path[:n])
    return None

def cycles(src: Path):
    files = {module_of(src, f): f for f in src.rglob("*.rs")}
    mods = set(files)
    edges = {m: set() for m in mods}
    for m, f in files.items():
        for kind, path in paths_in(f.read_text(errors="replace")):
            base = () if kind == "crate" else m[:-1]
            target = resolve(mods, list(base) + path)
            if target is not None and target != m and target != ():
                edges[m].add(target)
    index, low, stack, on, out, counter = {}, {}, [], set(), [], [0]
    def strong(v):
        index[v] = low[v] = counter[0]; counter[0] += 1; stack.append(v); on.add(v)
        for w in edges[v]:
            if w not in index:
                strong(w); low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop(); on.discard(w); comp.append(w)
                if w == v: break
            if len(comp) > 1:
                out.append(sorted(comp))
    sys.setrecursionlimit(10000)
    for v in sorted(mods):
        if v not in index:
            strong(v)
    return out, edges

def main():
    found = False
    for arg in sys.argv[1:]:
        comps, edges = cycles(Path(arg))
        for comp in comps:
            found = True
            names = ["::".join(c) for c in comp]
            print(f"{arg}: circle of {len(comp)}: {', '.join(names)}")
            for a in comp:
                inside = sorted("::".join(b) for b in edges[a] if b in comp)
                print(f"    {'::'.join(a)} -> {', '.join(inside)}")
        if not comps:
            print(f"{arg}: no circle")
    sys.exit(1 if found else 0)

if __name__ == "__main__":
    main()
