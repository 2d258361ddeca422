#!/usr/bin/env python3
"""The module graph of a crate, from its `use` paths, and the circles in it.

A module depends on another when its files name it: `use crate::a::b`, `crate::a::f()`,
`super::x` and `self::x` resolved from where they stand. Modules are the crate's top-level
ones (`--depth 1`, the default) or one level deeper (`--depth 2`: `http::service`). Test
modules (`tests.rs`, `tests/`) and `#[cfg(test)]` code are left out: a test may reach anywhere.

Prints each circle (a strongly connected component of more than one module) with the edges
that close it, and exits 1 if there is one that `--allow` does not name.

Usage: scripts/module-graph.py CRATE_SRC [--depth N] [--allow a,b,c ...]
"""

import argparse
import os
import re
import sys


def module_of(path, src):
    rel = os.path.relpath(path, src)[:-3]  # drop .rs
    parts = rel.split(os.sep)
    if parts[-1] in ("mod", "lib", "main"):
        parts = parts[:-1]
    return parts


def strip_tests(text):
    """Drops `#[cfg(test)]` items: a `mod tests;` line, or a block up to its matching brace."""
    out, i = [], 0
    while True:
        j = text.find("#[cfg(test)]", i)
        if j < 0:
            out.append(text[i:])
            return "".join(out)
        out.append(text[i:j])
        k = j + len("#[cfg(test)]")
        semi, brace = text.find(";", k), text.find("{", k)
        if semi >= 0 and (brace < 0 or semi < brace):
            i = semi + 1
            continue
        depth, m = 0, brace
        while m < len(text):
            if text[m] == "{":
                depth += 1
            elif text[m] == "}":
                depth -= 1
                if depth == 0:
                    break
            m += 1
        i = m + 1


PATH = re.compile(r"\b(crate|super|self)((?:::[A-Za-z_][A-Za-z0-9_]*)+)")
COMMENT = re.compile(r"//[^\n]*")


def references(text, here):
    """The module paths `text` (of module `here`) names."""
    text = COMMENT.sub("", strip_tests(text))
    found = []
    for m in PATH.finditer(text):
        head, rest = m.group(1), [p for p in m.group(2).split("::") if p]
        if head == "crate":
            found.append(rest)
        elif head == "self":
            found.append(here + rest)
        else:
            base = list(here)
            segments = rest
            # `super::super::x`
            while segments and segments[0] == "super":
                segments = segments[1:]
                base = base[:-1]
            found.append(base[:-1] + segments)
    # `use crate::{a::x, b}` groups
    for m in re.finditer(r"\buse\s+crate::\{([^;]*)\};", text):
        for item in re.split(r",", m.group(1)):
            item = item.strip()
            if item and not item.startswith("{"):
                found.append([p for p in item.split("::") if p])
    return found


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("src")
    parser.add_argument("--depth", type=int, default=1)
    parser.add_argument("--allow", action="append", default=[])
    args = parser.parse_args()

    files = {}
    for root, dirs, names in os.walk(args.src):
        dirs[:] = [d for d in dirs if d != "tests"]
        for name in names:
            if name.endswith(".rs") and name != "tests.rs":
                path = os.path.join(root, name)
                files[path] = module_of(path, args.src)
    modules = {tuple(m[: args.depth]) for m in files.values() if m}
    # Names the crate root re-exports (`pub use call::{Call, Next};`): a path through the root
    # is a path to the module that defines the name.
    exported = {}
    for path, here in files.items():
        if here:
            continue
        with open(path, encoding="utf-8") as f:
            root = COMMENT.sub("", f.read())
        for m in re.finditer(r"\bpub(?:\([a-z]+\))?\s+use\s+([A-Za-z0-9_:]+?)::(\{[^}]*\}|\w+)\s*;", root):
            module = [p for p in m.group(1).split("::") if p and p not in ("self", "crate")]
            for item in re.split(r"[{},\s]+", m.group(2)):
                item = item.split(" as ")[-1].strip()
                if item and module:
                    exported[item] = module
    edges = {}
    for path, here in files.items():
        if not here:
            continue
        source = tuple(here[: args.depth])
        with open(path, encoding="utf-8") as f:
            text = f.read()
        for ref in references(text, here):
            if ref and ref[0] in exported and tuple(ref[:1]) not in modules:
                ref = exported[ref[0]] + ref[1:]
            # The longest known module the path starts with.
            target = None
            for n in range(min(args.depth, len(ref)), 0, -1):
                if tuple(ref[:n]) in modules:
                    target = tuple(ref[:n])
                    break
            if target and target != source:
                edges.setdefault(source, {}).setdefault(target, set()).add(
                    os.path.relpath(path, args.src)
                )

    # Tarjan's strongly connected components.
    index, low, on, stack, sccs, counter = {}, {}, set(), [], [], [0]

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in edges.get(v, {}):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            scc = []
            while True:
                w = stack.pop()
                on.discard(w)
                scc.append(w)
                if w == v:
                    break
            if len(scc) > 1:
                sccs.append(sorted(scc))

    sys.setrecursionlimit(10000)
    for v in sorted(modules):
        if v not in index:
            visit(v)

    allowed = {frozenset(a.split(",")) for a in args.allow}
    name = "::".join
    failed = False
    for scc in sccs:
        names = [name(m) for m in scc]
        ok = frozenset(names) in allowed
        failed |= not ok
        print(("allowed " if ok else "circle ") + " <-> ".join(names))
        members = set(scc)
        for a in scc:
            for b, where in sorted(edges.get(a, {}).items()):
                if b in members:
                    print(f"    {name(a)} -> {name(b)}  ({', '.join(sorted(where))})")
    if not sccs:
        print("no circles")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
