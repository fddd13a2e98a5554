// Machine instructions Swift does not expose. Header-only: the functions inline into Swift code.
#ifndef ARBITER_CINTRINSICS_H
#define ARBITER_CINTRINSICS_H

#include <stdint.h>

typedef struct {
    uint64_t quotient;
    uint64_t remainder;
} arb_qr64;

/// (hi·2^64 + lo) / d for hi < d: one `divq` on x86-64. Swift's `UInt64.dividingFullWidth`
/// calls the generic `__udivti3` instead. Elsewhere the compiler's 128-bit division does it.
static inline __attribute__((always_inline)) arb_qr64 arb_div128by64(uint64_t hi, uint64_t lo, uint64_t d) {
    arb_qr64 r;
#if defined(__x86_64__)
    __asm__("divq %4" : "=a"(r.quotient), "=d"(r.remainder) : "a"(lo), "d"(hi), "rm"(d));
#else
    unsigned __int128 n = ((unsigned __int128)hi << 64) | lo;
    r.quotient = (uint64_t)(n / d);
    r.remainder = (uint64_t)(n % d);
#endif
    return r;
}

#endif
