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

// MARK: int8 × int8 decode GEMV (VNNI)

/// Columns per activation block of gk_quantize_x_q8 / gk_gemv_q8x (llama.cpp's Q8_0 block).
enum { GK_Q8X_BLOCK = 32 };

/// 1 when the CPU has AVX-512 VNNI (vpdpbusd) with AVX-512BW (x86-64), else 0.
int gk_cpu_has_avx512_vnni(void);

/// Quantises an activation row x[cols] per block of GK_Q8X_BLOCK columns (as gk_quantize_q8 does
/// weights): xq [cols], xs [gk_q8_blocks(cols, GK_Q8X_BLOCK)].
void gk_quantize_x_q8(const float *x, size_t cols, int8_t *xq, float *xs);

/// y[r] = rowScales[r] * sum_b xs[b] * sum_{c in block b} q[r * ldq + c] * xq[c] for r < rows:
/// int8 weights with one scale per row times the block-quantised activations of
/// gk_quantize_x_q8, integer products. AVX-512 VNNI (vpdpbusd, when cols % 64 == 0) or portable
/// C (exact integer block sums), chosen at run time. Single-threaded: callers split rows.
void gk_gemv_q8x(const int8_t *q, size_t ldq, const float *rowScales, size_t rows, size_t cols, const int8_t *xq,
                 const float *xs, float *y);

#endif
