#pragma once
// The one rule for thread counts: a requested count of 0 (or less) means OpenMP's default.
#include <omp.h>

namespace ffp8 {

/// Threads to use for a request: `requested` when positive, else omp_get_max_threads().
inline int thread_count(int requested) { return requested > 0 ? requested : omp_get_max_threads(); }

}  // namespace ffp8
