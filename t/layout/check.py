#!/usr/bin/env python3
"""Check the source tree against its layering rules (make check-layout).

Each folder is a layer and may include only the folders below it:

  shared/proto/  libc only
  shared/        itself, shared/proto/
  shared/conf/   the above, itself
  shared/ctl/    any shared/ folder
  worker/        worker/, every shared/ folder but shared/ctl/
  master/        master/, every shared/ folder but shared/ctl/, and from
                 worker/ only worker/worker.h

A quoted include names a file in the including file's own folder
("conn.h") or a path from the top of the tree ("shared/shm.h").  Inside
worker/ a file may not depend, through the headers it includes, on a file
that depends back on it: calls go one way.  Every source file stays under
MAX_FILE lines and every function under MAX_FUNC lines.  Each breach is
printed as file:line and the rule; the exit status is 1 if there was any.
"""
import os
import re
import sys

MAX_FILE = 600
MAX_FUNC = 60
FOLDERS = ["shared/proto", "shared/conf", "shared/ctl", "shared",
           "master", "worker"]
ALLOWED = {
    "shared/proto": ["shared/proto"],
    "shared": ["shared", "shared/proto"],
    "shared/conf": ["shared", "shared/proto", "shared/conf"],
    "shared/ctl": ["shared", "shared/proto", "shared/conf", "shared/ctl"],
    "worker": ["worker", "shared", "shared/proto", "shared/conf"],
    "master": ["master", "shared", "shared/proto", "shared/conf",
               "worker/worker.h"],
}
INCLUDE = re.compile(r'^\s*#\s*include\s*"([^"]+)"')
FUNC_START = re.compile(r'^[A-Za-z_][A-Za-z0-9_]*\s*\(')


def sources(top):
    for folder in FOLDERS:
        path = os.path.join(top, folder)
        if not os.path.isdir(path):
            continue
        for name in sorted(os.listdir(path)):
            if name.endswith((".c", ".h")):
                yield folder, folder + "/" + name


def resolve(top, folder, name):
    """The include's path from the top of the tree, or None."""
    if "/" not in name and os.path.exists(os.path.join(top, folder, name)):
        return folder + "/" + name
    if os.path.exists(os.path.join(top, name)):
        return name
    return None


def allowed(folder, target):
    for rule in ALLOWED[folder]:
        if rule.endswith(".h"):
            if target == rule:
                return True
        elif os.path.dirname(target) == rule:
            return True
    return False


def check_includes(top, folder, path, lines, errors, deps):
    for no, line in enumerate(lines, 1):
        m = INCLUDE.match(line)
        if not m:
            continue
        target = resolve(top, folder, m.group(1))
        if target is None:
            errors.append('%s:%d: include "%s" names no file in the tree'
                          % (path, no, m.group(1)))
        elif not allowed(folder, target):
            errors.append('%s:%d: %s/ may not include "%s"'
                          % (path, no, folder, m.group(1)))
        elif folder == "worker" and target.startswith("worker/"):
            deps.setdefault(module(path), set()).add(module(target))


def check_lengths(path, lines, errors):
    if len(lines) > MAX_FILE:
        errors.append("%s:%d: file has %d lines (limit %d)"
                      % (path, len(lines), len(lines), MAX_FILE))
    name, start = None, 0
    for no, line in enumerate(lines, 1):
        if FUNC_START.match(line):
            name, start = line.split("(")[0].strip(), no
        elif line.startswith("}") and name is not None:
            if no - start + 1 > MAX_FUNC:
                errors.append("%s:%d: function %s has %d lines (limit %d)"
                              % (path, start, name, no - start + 1,
                                 MAX_FUNC))
            name = None


def module(path):
    return os.path.splitext(path)[0]


def find_cycle(deps):
    """One dependency circle among worker files, as a list, or None."""
    state = {}

    def visit(node, stack):
        state[node] = 1
        stack.append(node)
        for nxt in sorted(deps.get(node, ())):
            if nxt == node:
                continue
            if state.get(nxt) == 1:
                return stack[stack.index(nxt):] + [nxt]
            if state.get(nxt) is None:
                found = visit(nxt, stack)
                if found:
                    return found
        stack.pop()
        state[node] = 2
        return None

    for node in sorted(deps):
        if state.get(node) is None:
            found = visit(node, [])
            if found:
                return found
    return None


def main():
    top = sys.argv[1] if len(sys.argv) > 1 else "."
    errors, deps = [], {}
    for folder, path in sources(top):
        with open(os.path.join(top, path), encoding="utf-8") as f:
            lines = f.read().split("\n")
        if lines and lines[-1] == "":
            lines.pop()
        check_includes(top, folder, path, lines, errors, deps)
        check_lengths(path, lines, errors)
    cycle = find_cycle(deps)
    if cycle:
        errors.append("worker/: files depend on each other in a circle: %s"
                      % " -> ".join(os.path.basename(m) for m in cycle))
    for e in errors:
        print(e)
    print("check-layout: %d problem%s" % (len(errors),
                                           "" if len(errors) == 1 else "s"))
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
