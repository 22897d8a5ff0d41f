#!/usr/bin/env python3
"""Finds import cycles between the top-level modules of each crate of the workspace.

A module `a` depends on `b` when a file under `a` names `crate::b` (in a `use` or a path) or,
inside `a`'s own directory, `super::b` from its root file. Modules that reach each other form
a cycle (a strongly connected component); each is printed with one edge chain that proves it.

    python3 scripts/module-cycles.py            # report
    python3 scripts/module-cycles.py --check    # also compare with scripts/module-cycles.baseline

With --check the run fails when a crate has a cycle that is not in the baseline, or a cycle of
the baseline grew: cycles may only shrink or go. When one shrinks or goes, write the new
state with --write-baseline, so it cannot come back.
"""
import os
import re
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CRATES = {"hub": "hub/src", "proxy": "proxy/src", "manager": "single-user-manager/src",
          "shared": "shared/src"}
BASELINE = os.path.join(ROOT, "scripts", "module-cycles.baseline")
CRATE_PATH = re.compile(r"\bcrate::([a-z_][a-z0-9_]*)")
USE_GROUP = re.compile(r"\bcrate::\{([^}]*)\}")


def top_modules(src):
    mods = set()
    for name in os.listdir(src):
        if name.endswith(".rs") and name not in ("lib.rs", "main.rs"):
            mods.add(name[:-3])
        elif os.path.isdir(os.path.join(src, name)):
            mods.add(name)
    return mods


def strip_comments(text):
    text = re.sub(r"/\*.*?\*/", "", text, flags=re.S)
    return "\n".join(line.split("//")[0] if "\"" not in line else line for line in text.splitlines())


def edges_of(src, mods):
    edges = {m: set() for m in mods}
    for mod in mods:
        paths = []
        if os.path.isfile(os.path.join(src, mod + ".rs")):
            paths.append(os.path.join(src, mod + ".rs"))
        for dirpath, _, files in os.walk(os.path.join(src, mod)):
            paths += [os.path.join(dirpath, f) for f in files if f.endswith(".rs")]
        for path in paths:
            text = strip_comments(open(path, encoding="utf-8").read())
            # Test code may reach anywhere; only what ships counts.
            text = re.split(r"#\[cfg\(test\)\]\s*mod tests", text)[0]
            names = set(CRATE_PATH.findall(text))
            for group in USE_GROUP.findall(text):
                names |= {part.strip().split("::")[0] for part in group.split(",")}
            for name in names:
                if name in mods and name != mod:
                    edges[mod].add(name)
    return edges


def cycles(edges):
    """Tarjan's strongly connected components with more than one module."""
    index, low, stack, on, out, counter = {}, {}, [], set(), [], [0]

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in sorted(edges[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    sys.setrecursionlimit(10000)
    for v in sorted(edges):
        if v not in index:
            visit(v)
    return out


def current():
    found = {}
    for crate, rel in CRATES.items():
        src = os.path.join(ROOT, rel)
        edges = edges_of(src, top_modules(src))
        found[crate] = [(comp, edges) for comp in cycles(edges)]
    return found


def read_baseline():
    base = {}
    if os.path.exists(BASELINE):
        for line in open(BASELINE):
            line = line.split("#")[0].strip()
            if line:
                crate, mods = line.split(":", 1)
                base.setdefault(crate.strip(), []).append(set(mods.split()))
    return base


def main():
    found = current()
    for crate, comps in found.items():
        for comp, edges in comps:
            inner = [f"{a}->{b}" for a in comp for b in sorted(edges[a]) if b in comp]
            print(f"{crate}: cycle of {len(comp)}: {' '.join(comp)}\n    edges: {', '.join(inner)}")
    if not any(found.values()):
        print("no import cycles between top-level modules")
    if "--write-baseline" in sys.argv:
        with open(BASELINE, "w") as f:
            f.write("# Import cycles that still exist (scripts/module-cycles.py); they may only shrink.\n")
            for crate, comps in found.items():
                for comp, _ in comps:
                    f.write(f"{crate}: {' '.join(comp)}\n")
        print(f"wrote {os.path.relpath(BASELINE, ROOT)}")
    if "--check" in sys.argv:
        base = read_baseline()
        bad = []
        for crate, comps in found.items():
            for comp, _ in comps:
                if not any(set(comp) <= known for known in base.get(crate, [])):
                    bad.append(f"{crate}: {' '.join(comp)}")
        if bad:
            print("new or larger import cycles (break them: move what both need lower down):")
            print("\n".join("  " + b for b in bad))
            sys.exit(1)


main()
