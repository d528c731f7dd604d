#!/usr/bin/env python3
"""The longest functions of Rust sources: longest-functions.py DIR... [-n N]

Reads rustfmt-formatted code: a function runs from its `fn` line to the
closing brace at the same indentation. Prints lines, file:line and name.
"""
import re
import sys
from pathlib import Path


def functions(path: Path):
    lines = path.read_text(errors="replace").split("\n")
    for i, line in enumerate(lines):
        m = re.match(r"^(\s*)(?:pub(?:\([\w:]+\))? )?(?:const )?(?:async )?(?:unsafe )?fn (\w+)", line)
        if not m:
            continue
        indent = m.group(1)
        for j in range(i, len(lines)):
            if lines[j].rstrip().endswith(";") and j == i:
                break
            if lines[j] == indent + "}":
                yield j - i + 1, i + 1, m.group(2)
                break


def main():
    args = sys.argv[1:]
    n = 10
    if "-n" in args:
        k = args.index("-n")
        n = int(args[k + 1])
        del args[k : k + 2]
    found = []
    for arg in args:
        for f in sorted(Path(arg).rglob("*.rs")):
            for length, line, name in functions(f):
                found.append((length, f"{f}:{line}", name))
    for length, where, name in sorted(found, reverse=True)[:n]:
        print(f"{length:5}  {where}  {name}")


if __name__ == "__main__":
    main()
