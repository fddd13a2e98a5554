#!/usr/bin/env python3
"""The longest functions and files of Swift sources: `longest.py DIR [--limit N] [--top K]`.

A function is a `func`, `init` or `deinit` declaration through its closing brace, counted in
lines (braces inside strings and comments are skipped). Exits 1 when a function is longer than
--limit (if given)."""
import argparse
import pathlib
import re
import sys

DECL = re.compile(r"^\s*(?:@\w+(?:\([^)]*\))?\s+)*(?:(?:public|private|fileprivate|internal|static|mutating|nonisolated|override|final|@discardableResult)\s+)*(func\s+[^\s(<]+|init[?!]?|deinit)\b")


def strip(line, in_block):
    """The line without strings and comments; whether a block comment is still open."""
    out, i = [], 0
    while i < len(line):
        if in_block:
            j = line.find("*/", i)
            if j < 0:
                return "".join(out), True
            i, in_block = j + 2, False
        elif line.startswith("//", i):
            break
        elif line.startswith("/*", i):
            in_block, i = True, i + 2
        elif line[i] == '"':
            j = i + 1
            while j < len(line) and line[j] != '"':
                j += 2 if line[j] == "\\" else 1
            i = j + 1
        else:
            out.append(line[i])
            i += 1
    return "".join(out), in_block


def functions(path):
    lines = path.read_text().splitlines()
    code, in_block = [], False
    for line in lines:
        s, in_block = strip(line, in_block)
        code.append(s)
    found = []
    for start, line in enumerate(code):
        m = DECL.match(line)
        if not m:
            continue
        depth, opened = 0, False
        for end in range(start, len(code)):
            depth += code[end].count("{") - code[end].count("}")
            opened = opened or "{" in code[end]
            if opened and depth <= 0:
                found.append((end - start + 1, f"{path}:{start + 1}", m.group(1)))
                break
            if not opened and end > start and (code[end].strip() == "" or DECL.match(code[end])):
                break  # a protocol requirement: no body
    return found, len(lines)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("dir")
    p.add_argument("--limit", type=int)
    p.add_argument("--top", type=int, default=5)
    a = p.parse_args()
    funcs, files = [], []
    for f in sorted(pathlib.Path(a.dir).rglob("*.swift")):
        found, n = functions(f)
        funcs += found
        files.append((n, str(f)))
    funcs.sort(reverse=True)
    files.sort(reverse=True)
    print("longest functions:")
    for n, where, name in funcs[: a.top]:
        print(f"  {n:4d}  {name}  {where}")
    print("longest files:")
    for n, f in files[: a.top]:
        print(f"  {n:4d}  {f}")
    over = [x for x in funcs if a.limit and x[0] > a.limit]
    sys.exit(1 if over else 0)


if __name__ == "__main__":
    main()
