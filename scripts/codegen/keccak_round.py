#!/usr/bin/env python3
"""Prints the unrolled Keccak-f[1600] round body used in Sources/EVMPrimitives/Keccak256+Permutation.swift.

The round is written out over 25 local lanes so the optimizer keeps what it can in registers, with
lane complementing (Bertoni, Daemen, Peeters, Van Assche, "Keccak implementation overview", 2.2):
six lanes are kept complemented between rounds, so chi needs one NOT per row instead of five
(x86-64 without BMI has no and-not). Which operands chi negates, and whether it uses AND or OR, is
derived here from the complement pattern and checked on random states against the plain
permutation (the script stops if they differ). Rerun it when changing the permutation and paste
the output between the markers.
"""
import itertools
import random

R = [[0, 36, 3, 41, 18], [1, 44, 10, 45, 2], [62, 6, 43, 15, 61], [28, 55, 25, 21, 56], [27, 20, 39, 8, 14]]
RC = [
    0x0000000000000001, 0x0000000000008082, 0x800000000000808A, 0x8000000080008000, 0x000000000000808B, 0x0000000080000001,
    0x8000000080008081, 0x8000000000008009, 0x000000000000008A, 0x0000000000000088, 0x0000000080008009, 0x000000008000000A,
    0x000000008000808B, 0x800000000000008B, 0x8000000000008089, 0x8000000000008003, 0x8000000000008002, 0x8000000000000080,
    0x000000000000800A, 0x800000008000000A, 0x8000000080008081, 0x8000000000008080, 0x0000000080000001, 0x8000000080008008,
]
M = (1 << 64) - 1
# The complemented lanes (x, y): state indices 1, 2, 8, 12, 17, 20.
P = {(1, 0), (2, 0), (3, 1), (2, 2), (2, 3), (0, 4)}


def rotl(v, n):
    return ((v << n) | (v >> (64 - n))) & M if n else v


def b_complemented():
    """Which lanes enter chi complemented when P's lanes are: theta's column parities, then rho-pi."""
    cc = [sum((x, y) in P for y in range(5)) % 2 for x in range(5)]
    dc = [cc[(x - 1) % 5] ^ cc[(x + 1) % 5] for x in range(5)]
    return {(y, (2 * x + 3 * y) % 5): ((x, y) in P) ^ dc[x] for x in range(5) for y in range(5)}


def chi_forms(bc, rng):
    """Per output lane: (negate b0, negate b1, negate b2, op) computing chi on the stored lanes and
    leaving the output complemented exactly when it is in P; the fewest NOTs."""
    forms = {}
    for y in range(5):
        for x in range(5):
            c = [bc[((x + i) % 5, y)] for i in range(3)]
            best = None
            for n0, n1, n2, op in itertools.product((0, 1), (0, 1), (0, 1), "&|"):
                ok = True
                for _ in range(64):
                    t = [rng.getrandbits(64) for _ in range(3)]
                    s = [t[i] ^ (M if c[i] else 0) for i in range(3)]
                    a = [s[0] ^ (M if n0 else 0), s[1] ^ (M if n1 else 0), s[2] ^ (M if n2 else 0)]
                    out = a[0] ^ ((a[1] & a[2]) if op == "&" else (a[1] | a[2]))
                    if out != (t[0] ^ (~t[1] & M & t[2])) ^ (M if (x, y) in P else 0):
                        ok = False
                        break
                if ok and (best is None or n0 + n1 + n2 < sum(best[:3])):
                    best = (n0, n1, n2, op)
            assert best is not None, (x, y)
            forms[(x, y)] = best
    return forms


def keccak_f(s, forms=None):
    """The permutation on a list of 25 lanes (index x + 5y); with `forms`, the complemented one."""
    a = {(x, y): s[x + 5 * y] for x in range(5) for y in range(5)}
    if forms:
        for p in P:
            a[p] ^= M
    for rc in RC:
        c = [a[(x, 0)] ^ a[(x, 1)] ^ a[(x, 2)] ^ a[(x, 3)] ^ a[(x, 4)] for x in range(5)]
        d = [c[(x - 1) % 5] ^ rotl(c[(x + 1) % 5], 1) for x in range(5)]
        b = {(y, (2 * x + 3 * y) % 5): rotl(a[(x, y)] ^ d[x], R[x][y]) for x in range(5) for y in range(5)}
        for y in range(5):
            for x in range(5):
                b0, b1, b2 = b[(x, y)], b[((x + 1) % 5, y)], b[((x + 2) % 5, y)]
                if forms:
                    n0, n1, n2, op = forms[(x, y)]
                    v1, v2 = b1 ^ (M if n1 else 0), b2 ^ (M if n2 else 0)
                    a[(x, y)] = b0 ^ (M if n0 else 0) ^ ((v1 & v2) if op == "&" else (v1 | v2))
                else:
                    a[(x, y)] = b0 ^ (~b1 & M & b2)
        a[(0, 0)] ^= rc
    if forms:
        for p in P:
            a[p] ^= M
    return [a[(x, y)] for y in range(5) for x in range(5)]


def lane(x, y):
    return f"a{x % 5}{y % 5}"


def rot(expr, n):
    return expr if n == 0 else f"({expr} &<< {n} | {expr} &>> {64 - n})"


def main():
    rng = random.Random(1600)
    forms = chi_forms(b_complemented(), rng)
    for _ in range(50):
        s = [rng.getrandbits(64) for _ in range(25)]
        assert keccak_f(s, forms) == keccak_f(s), "lane complementing changes the permutation"
    # Keccak-f of the zero state, as published (KeccakF-1600-IntermediateValues.txt, first lane).
    assert keccak_f([0] * 25)[0] == 0xF1258F7940E1DDE7
    lines = []
    for x in range(5):
        lines.append(f"let c{x} = " + " ^ ".join(lane(x, y) for y in range(5)))
    for x in range(5):
        lines.append(f"let d{x} = c{(x - 1) % 5} ^ {rot(f'c{(x + 1) % 5}', 1)}")
    b = {}
    for x in range(5):
        for y in range(5):
            nx, ny = y, (2 * x + 3 * y) % 5
            b[(nx, ny)] = f"let b{nx}{ny} = " + rot(f"({lane(x, y)} ^ d{x})", R[x][y])
    for y in range(5):
        for x in range(5):
            lines.append(b[(x, y)])
    # One NOT per row, shared by the two outputs that use it.
    negated = sorted({((x + i) % 5, y) for (x, y), f in forms.items() for i in range(3) if f[i]}, key=lambda p: (p[1], p[0]))
    for x, y in negated:
        lines.append(f"let n{x}{y} = ~b{x}{y}")

    def operand(i, x, y, neg):
        xx = (x + i) % 5
        return f"n{xx}{y}" if neg else f"b{xx}{y}"

    for y in range(5):
        for x in range(5):
            n0, n1, n2, op = forms[(x, y)]
            lines.append(f"{lane(x, y)} = {operand(0, x, y, n0)} ^ ({operand(1, x, y, n1)} {op} {operand(2, x, y, n2)})")
    lines.append("a00 ^= rc")
    print("\n".join(lines))
    print("// complemented lanes (state index x + 5y): " + ", ".join(str(x + 5 * y) for x, y in sorted(P, key=lambda p: p[0] + 5 * p[1])))


if __name__ == "__main__":
    main()
