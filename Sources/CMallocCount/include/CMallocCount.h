// Counts heap allocations of the process that links it, for `arbiter bench` (allocations per
// event). Only the executable links it; every call is forwarded to glibc's allocator.
#ifndef ARBITER_CMALLOCCOUNT_H
#define ARBITER_CMALLOCCOUNT_H

#include <stdint.h>

/// Allocations (malloc, calloc, realloc, posix_memalign, aligned_alloc, memalign) so far.
uint64_t arb_malloc_count(void);
/// 1 when the counting allocator is in place (glibc on Linux), else 0 (counts stay 0).
int arb_malloc_counting(void);

#endif
