// Returning freed heap memory to the system (glibc's malloc_trim, which Swift's Glibc module does
// not export). After a stage frees large scratch buffers (the vision tower's batch activations,
// the loader's temporaries), glibc keeps pages of its arenas resident for reuse; the next stage
// (the prefill, which grows the KV cache) would then peak above what it needs.
#include "ckernels.h"
#if defined(__GLIBC__)
#include <malloc.h>
#endif

int gk_heap_trim(void) {
#if defined(__GLIBC__)
    return malloc_trim(0);
#else
    return 0;
#endif
}
