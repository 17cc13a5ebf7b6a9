#pragma once
// The project's one way to include Eigen: every file that uses Eigen includes this header, not
// <Eigen/...> directly.
//
// Why: GCC 12 with -march=native (AVX-512) reports -Wmaybe-uninitialized for the `__Y` of its own
// _mm512_undefined_ps() (avx512fintrin.h, `__m512 __Y = __Y;`) wherever Eigen's packet code
// inlines it (gemm_pack_rhs, gebp_kernel, the vectorized exp/erf): a false positive of the
// compiler's intrinsics header (GCC bug 105593, fixed in GCC 13) that fills a build log with about
// 250 lines. GCC applies a diagnostic pragma to a warning when any location of the inlining chain
// lies inside it, so silencing the warning around the includes covers every instantiation; the
// project's own code keeps the warning.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include <immintrin.h>
#include <Eigen/Core>
#include <Eigen/Dense>
#include <unsupported/Eigen/SpecialFunctions>
#pragma GCC diagnostic pop
