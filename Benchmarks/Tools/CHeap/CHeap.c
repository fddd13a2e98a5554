// Everything is inline in include/CHeap.h; SwiftPM needs one source file per C target.
#include "CHeap.h"
