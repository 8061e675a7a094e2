// int8 weights (symmetric, one f32 scale per block of `block` columns of a row) for the int8
// precision (Tensors/Kernels/Int8Matmul.swift): the quantisers of weights (at load) and of
// activations (per row, at each product), and the weight-only int8 GEMV of one-row decode steps.
#ifndef GAR_CKERNELS_GEMV_Q8_H
#define GAR_CKERNELS_GEMV_Q8_H
#include <stddef.h>
#include <stdint.h>

/// Blocks of a row of `cols` columns: ceil(cols / block).
static inline size_t gk_q8_blocks(size_t cols, size_t block) { return (cols + block - 1) / block; }

/// Quantises `w [rows, cols]` (row-major f32) symmetrically per block of `block` columns of each
/// row (the last block of a row may be shorter): scale s = max |w| / 127 over the block (0 for an
/// all-zero block), q = round-half-even(w / s) in [-127, 127]. q: [rows, cols];
/// scales: [rows, gk_q8_blocks(cols, block)].
void gk_quantize_q8(const float *w, size_t rows, size_t cols, size_t block, int8_t *q, float *scales);

/// Quantises one activation row x[n] as the sum of two int8 vectors: hi = round(x / s_hi) with
/// s_hi = max |x| / 127, then the residue r = x - s_hi·hi quantised the same way (lo, s_lo), so
/// x ≈ s_hi·hi + s_lo·lo to ~15 significant bits. With lo == NULL only hi is written (plain
/// dynamic per-row quantisation). scratch: n floats (only used with lo).
void gk_quantize_row_s8(const float *x, size_t n, int8_t *hi, float *s_hi, int8_t *lo, float *s_lo, float *scratch);

/// y[r] = sum_b scales[r * nb + b] * sum_{c in block b} q[r * ldq + c] * x[c] for r < rows
/// (nb = gk_q8_blocks(cols, block)), f32 arithmetic. Code path chosen at run time from
/// gk_simd_level(): AVX-512F or portable C (the scalar twin). Single-threaded: callers split
/// rows across threads.
void gk_gemv_q8(const int8_t *q, size_t ldq, const float *scales, size_t block, size_t rows, size_t cols,
                const float *x, float *y);

#endif
