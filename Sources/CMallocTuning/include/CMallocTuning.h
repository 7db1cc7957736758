#ifndef C_MALLOC_TUNING_H
#define C_MALLOC_TUNING_H

#include <stddef.h>

/// The mmap threshold set when the process starts (glibc only): buffers of this size or larger are
/// mapped on allocation and returned to the system when freed.
///
/// Payload parts (megabytes each) are allocated and freed all the time. glibc raises its threshold
/// after the first such buffer is freed, after which freed parts stay in the heap and the resident
/// size creeps up; a fixed threshold, set before anything is allocated, keeps it flat.
extern const int c_malloc_tuning_mmap_threshold;

/// The bytes the allocator has handed out and not taken back (glibc's `mallinfo2().uordblks`; 0
/// elsewhere): tests compare what a parse allocates with what the memory budget counts for it.
size_t c_malloc_tuning_bytes_in_use(void);

#endif
