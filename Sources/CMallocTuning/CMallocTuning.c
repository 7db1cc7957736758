#include "CMallocTuning.h"

#include <stdlib.h>  // defines __GLIBC__ on glibc

#if defined(__GLIBC__)
#include <malloc.h>
#endif

const int c_malloc_tuning_mmap_threshold = 1024 * 1024;

#if defined(__GLIBC__)
__attribute__((constructor)) static void c_malloc_tuning_fix_mmap_threshold(void) {
    mallopt(M_MMAP_THRESHOLD, c_malloc_tuning_mmap_threshold);
}
#endif

size_t c_malloc_tuning_bytes_in_use(void) {
#if defined(__GLIBC__)
    return mallinfo2().uordblks;
#else
    return 0;
#endif
}
