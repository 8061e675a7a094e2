// Matrix-vector product with a bf16 weight matrix and f32 vectors, for the Llama decoder's
// one-token steps (memory bound: reading 2-byte weights instead of 4-byte ones halves the
// traffic). Owned by the Models module (issue 4); kept in its own header so ckernels.h stays
// the Tensors helper's.
#ifndef GAR_CKERNELS_GEMV_BF16_H
#define GAR_CKERNELS_GEMV_BF16_H
#include <stddef.h>
#include <stdint.h>

/// y[r] = sum_c float(w[r * ldw + c]) * x[c] for r in [0, rows), c in [0, cols).
///
/// `w` holds bf16 bit patterns (row-major, PyTorch [out, in] layout, row stride `ldw`), `x` has
/// `cols` floats, `y` receives `rows` floats. Every weight is widened to f32 exactly (a bf16 is
/// the top half of an f32) and all arithmetic is f32: the result equals an f32 GEMV over the
/// widened matrix up to summation order. Code path chosen at run time from gk_simd_level():
/// AVX-512F, AVX2+FMA, or portable C. Single-threaded: callers split rows across threads.
void gk_gemv_bf16(const uint16_t *w, size_t ldw, size_t rows, size_t cols, const float *x, float *y);

/// Sum of n floats, read once in order (a streaming read: the memory-bandwidth probe of `gar
/// bench ops`). AVX-512F / AVX2 / portable C, chosen at run time.
float gk_stream_sum(const float *p, size_t n);

#endif
