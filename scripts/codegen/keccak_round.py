#!/usr/bin/env python3
"""Prints the unrolled Keccak-f[1600] round body used in Sources/EVMPrimitives/Keccak256+Permutation.swift.

The round is written out over 25 local lanes so the optimizer keeps them in registers;
rerun this when changing the permutation and paste the output between the markers.
"""
R = [[0, 36, 3, 41, 18], [1, 44, 10, 45, 2], [62, 6, 43, 15, 61], [28, 55, 25, 21, 56], [27, 20, 39, 8, 14]]


def lane(x, y):
    return f"a{x % 5}{y % 5}"


def rot(expr, n):
    return expr if n == 0 else f"({expr} &<< {n} | {expr} &>> {64 - n})"


lines = []
for x in range(5):
    lines.append(f"let c{x} = " + " ^ ".join(lane(x, y) for y in range(5)))
for x in range(5):
    lines.append(f"let d{x} = c{(x - 1) % 5} ^ {rot(f'c{(x + 1) % 5}', 1)}")
b = {}
for x in range(5):
    for y in range(5):
        nx, ny = y, (2 * x + 3 * y) % 5
        t = f"({lane(x, y)} ^ d{x})"
        b[(nx, ny)] = f"let b{nx}{ny} = " + rot(t, R[x][y])
for y in range(5):
    for x in range(5):
        lines.append(b[(x, y)])
for y in range(5):
    for x in range(5):
        lines.append(f"a{x}{y} = b{x}{y} ^ (~b{(x + 1) % 5}{y} & b{(x + 2) % 5}{y})")
lines.append("a00 ^= rc")
print("\n".join(lines))
