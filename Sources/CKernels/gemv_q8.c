// int8 quantisers and weight-only int8 GEMV (see include/gemv_q8.h). Shapes: q [rows, ldq] int8
// (first `cols` used), scales [rows, nb] f32, x [cols] f32, y [rows] f32. The AVX-512 path
// processes four rows together so each x load feeds four FMA chains; every block's dot product
// is scaled once (one FMA per block and row), the block's columns beyond a multiple of 16 take
// the scalar path.
#include "ckernels.h"
#include "gemv_q8.h"
#include <math.h>

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define GK_X86 1
#endif

// Symmetric quantisation of v[n] with one scale; returns the scale. Written so the compiler
// vectorises it on baseline x86-64 (no libm calls): plain compares for the maximum, and round half
// to even by adding and subtracting 1.5·2²³ (exact for |x| < 2²², here |x| ≤ 127 after the clamp).
static float quantize_block(const float *v, size_t n, int8_t *q) {
    float amax = 0.0f;
    for (size_t i = 0; i < n; i++) {
        float a = fabsf(v[i]);
        amax = a > amax ? a : amax;
    }
    float s = amax / 127.0f;
    float inv = s > 0.0f ? 1.0f / s : 0.0f;
    const float magic = 12582912.0f;   // 1.5 * 2^23
    for (size_t i = 0; i < n; i++) {
        float x = v[i] * inv;
        x = x > 127.0f ? 127.0f : (x < -127.0f ? -127.0f : x);
        q[i] = (int8_t)((x + magic) - magic);
    }
    return s;
}

void gk_quantize_q8(const float *w, size_t rows, size_t cols, size_t block, int8_t *q, float *scales) {
    size_t nb = gk_q8_blocks(cols, block);
    for (size_t r = 0; r < rows; r++) {
        for (size_t b = 0; b < nb; b++) {
            size_t c0 = b * block, n = cols - c0 < block ? cols - c0 : block;
            scales[r * nb + b] = quantize_block(w + r * cols + c0, n, q + r * cols + c0);
        }
    }
}

void gk_quantize_row_s8(const float *x, size_t n, int8_t *hi, float *s_hi, int8_t *lo, float *s_lo, float *scratch) {
    float s = quantize_block(x, n, hi);
    *s_hi = s;
    if (!lo) return;
    for (size_t i = 0; i < n; i++) scratch[i] = x[i] - s * (float)hi[i];
    *s_lo = quantize_block(scratch, n, lo);
}

// Scaled dot product of one row over columns [0, cols), scalar.
static float row_dot_base(const int8_t *q, const float *scales, size_t block, size_t cols, const float *x) {
    float total = 0.0f;
    for (size_t c0 = 0, b = 0; c0 < cols; c0 += block, b++) {
        size_t end = cols - c0 < block ? cols : c0 + block;
        float s0 = 0, s1 = 0, s2 = 0, s3 = 0;
        size_t c = c0;
        for (; c + 4 <= end; c += 4) {
            s0 += (float)q[c] * x[c];
            s1 += (float)q[c + 1] * x[c + 1];
            s2 += (float)q[c + 2] * x[c + 2];
            s3 += (float)q[c + 3] * x[c + 3];
        }
        for (; c < end; c++) s0 += (float)q[c] * x[c];
        total += scales[b] * ((s0 + s1) + (s2 + s3));
    }
    return total;
}

static void gemv_base(const int8_t *q, size_t ldq, const float *scales, size_t block, size_t rows, size_t cols,
                      const float *x, float *y) {
    size_t nb = gk_q8_blocks(cols, block);
    for (size_t r = 0; r < rows; r++) y[r] = row_dot_base(q + r * ldq, scales + r * nb, block, cols, x);
}

#if GK_X86
__attribute__((target("avx512f"))) static inline __m512 widen16(const int8_t *p) {
    return _mm512_cvtepi32_ps(_mm512_cvtepi8_epi32(_mm_loadu_si128((const __m128i *)p)));
}

// Scalar part of a block: columns [c, end) of one row.
static inline float tail_dot(const int8_t *q, const float *x, size_t c, size_t end) {
    float s = 0.0f;
    for (; c < end; c++) s += (float)q[c] * x[c];
    return s;
}

__attribute__((target("avx512f")))
static void gemv_avx512(const int8_t *q, size_t ldq, const float *scales, size_t block, size_t rows, size_t cols,
                        const float *x, float *y) {
    size_t nb = gk_q8_blocks(cols, block);
    size_t r = 0;
    for (; r + 4 <= rows; r += 4) {
        const int8_t *q0 = q + r * ldq, *q1 = q0 + ldq, *q2 = q1 + ldq, *q3 = q2 + ldq;
        const float *sc0 = scales + r * nb, *sc1 = sc0 + nb, *sc2 = sc1 + nb, *sc3 = sc2 + nb;
        __m512 a0 = _mm512_setzero_ps(), a1 = _mm512_setzero_ps(), a2 = _mm512_setzero_ps(), a3 = _mm512_setzero_ps();
        float t0 = 0, t1 = 0, t2 = 0, t3 = 0;   // scaled scalar tails
        for (size_t c0 = 0, b = 0; c0 < cols; c0 += block, b++) {
            size_t end = cols - c0 < block ? cols : c0 + block;
            size_t body = c0 + ((end - c0) & ~(size_t)15);
            __m512 b0 = _mm512_setzero_ps(), b1 = _mm512_setzero_ps(), b2 = _mm512_setzero_ps(), b3 = _mm512_setzero_ps();
            for (size_t c = c0; c < body; c += 16) {
                __m512 xv = _mm512_loadu_ps(x + c);
                b0 = _mm512_fmadd_ps(widen16(q0 + c), xv, b0);
                b1 = _mm512_fmadd_ps(widen16(q1 + c), xv, b1);
                b2 = _mm512_fmadd_ps(widen16(q2 + c), xv, b2);
                b3 = _mm512_fmadd_ps(widen16(q3 + c), xv, b3);
            }
            a0 = _mm512_fmadd_ps(b0, _mm512_set1_ps(sc0[b]), a0);
            a1 = _mm512_fmadd_ps(b1, _mm512_set1_ps(sc1[b]), a1);
            a2 = _mm512_fmadd_ps(b2, _mm512_set1_ps(sc2[b]), a2);
            a3 = _mm512_fmadd_ps(b3, _mm512_set1_ps(sc3[b]), a3);
            if (body < end) {
                t0 += sc0[b] * tail_dot(q0, x, body, end);
                t1 += sc1[b] * tail_dot(q1, x, body, end);
                t2 += sc2[b] * tail_dot(q2, x, body, end);
                t3 += sc3[b] * tail_dot(q3, x, body, end);
            }
        }
        y[r] = _mm512_reduce_add_ps(a0) + t0;
        y[r + 1] = _mm512_reduce_add_ps(a1) + t1;
        y[r + 2] = _mm512_reduce_add_ps(a2) + t2;
        y[r + 3] = _mm512_reduce_add_ps(a3) + t3;
    }
    for (; r < rows; r++) y[r] = row_dot_base(q + r * ldq, scales + r * nb, block, cols, x);
}
#endif

void gk_gemv_q8(const int8_t *q, size_t ldq, const float *scales, size_t block, size_t rows, size_t cols,
                const float *x, float *y) {
#if GK_X86
    if (gk_simd_level() == GK_SIMD_AVX512) { gemv_avx512(q, ldq, scales, block, rows, cols, x, y); return; }
#endif
    gemv_base(q, ldq, scales, block, rows, cols, x, y);
}
