// Heap bytes in use, for memory benchmarks: glibc's mallinfo2 (Swift's Glibc module leaves out malloc.h).
#ifndef ARBITER_CHEAP_H
#define ARBITER_CHEAP_H
#include <stddef.h>
#include <stdlib.h>
#if defined(__GLIBC__)
#include <malloc.h>
static inline size_t arb_heap_in_use(void) { return mallinfo2().uordblks; }
#else
static inline size_t arb_heap_in_use(void) { return 0; }
#endif
#endif
