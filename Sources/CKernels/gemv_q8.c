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
static float quantize_block_base(const float *v, size_t n, int8_t *q) {
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

#if GK_X86
static int has_avx512bw(void) {
    static int cached = -1;
    if (cached < 0) {
        __builtin_cpu_init();
        cached = __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw");
    }
    return cached;
}

// quantize_block_base with AVX-512, 16 values per step: the same operations in the same order on
// every value (|v| maximum — exact in any order —, one multiply by 1/s, clamp, the same rounding
// trick), so the results are bit-identical (for inputs without NaN). The activation quantiser of
// the int8 GEMMs took 8.5 % of an int8 vision tile on baseline x86-64 code.
__attribute__((target("avx512f,avx512bw"))) static float quantize_block_avx512(const float *v, size_t n, int8_t *q) {
    __m512 vmax = _mm512_setzero_ps();
    size_t i = 0;
    for (; i + 16 <= n; i += 16) vmax = _mm512_max_ps(_mm512_abs_ps(_mm512_loadu_ps(v + i)), vmax);
    float amax = _mm512_reduce_max_ps(vmax);
    for (; i < n; i++) {
        float a = fabsf(v[i]);
        amax = a > amax ? a : amax;
    }
    float s = amax / 127.0f;
    float inv = s > 0.0f ? 1.0f / s : 0.0f;
    const __m512 vinv = _mm512_set1_ps(inv), top = _mm512_set1_ps(127.0f), bottom = _mm512_set1_ps(-127.0f);
    const __m512 magic = _mm512_set1_ps(12582912.0f);
    for (i = 0; i + 16 <= n; i += 16) {
        __m512 x = _mm512_mul_ps(_mm512_loadu_ps(v + i), vinv);
        x = _mm512_max_ps(_mm512_min_ps(x, top), bottom);
        x = _mm512_sub_ps(_mm512_add_ps(x, magic), magic);
        _mm_storeu_si128((__m128i *)(q + i), _mm512_cvtepi32_epi8(_mm512_cvttps_epi32(x)));
    }
    for (; i < n; i++) {
        float x = v[i] * inv;
        x = x > 127.0f ? 127.0f : (x < -127.0f ? -127.0f : x);
        q[i] = (int8_t)((x + 12582912.0f) - 12582912.0f);
    }
    return s;
}

// The residue x − s·q of the split quantiser, multiply then subtract (no fused multiply-add, as
// the portable loop and the Swift twin compute it).
__attribute__((target("avx512f,avx512bw"))) static void residue_avx512(const float *x, size_t n, float s, const int8_t *q, float *out) {
    const __m512 vs = _mm512_set1_ps(s);
    size_t i = 0;
    for (; i + 16 <= n; i += 16) {
        __m512 qf = _mm512_cvtepi32_ps(_mm512_cvtepi8_epi32(_mm_loadu_si128((const __m128i *)(q + i))));
        __m512 prod = _mm512_mul_ps(vs, qf);
        _mm512_storeu_ps(out + i, _mm512_sub_ps(_mm512_loadu_ps(x + i), prod));
    }
    for (; i < n; i++) {
        float prod = s * (float)q[i];
        out[i] = x[i] - prod;
    }
}
#endif

// The quantiser the running CPU takes (AVX-512 or the portable loop; identical results).
static float quantize_block(const float *v, size_t n, int8_t *q) {
#if GK_X86
    if (has_avx512bw()) return quantize_block_avx512(v, n, q);
#endif
    return quantize_block_base(v, n, q);
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
#if GK_X86
    if (has_avx512bw()) {
        residue_avx512(x, n, s, hi, scratch);
        *s_lo = quantize_block(scratch, n, lo);
        return;
    }
#endif
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

// MARK: - int8 × int8 GEMV with block-quantised activations (VNNI)

int gk_cpu_has_avx512_vnni(void) {
#if GK_X86
    static int cached = -1;
    if (cached < 0) {
        __builtin_cpu_init();
        cached = __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
                 __builtin_cpu_supports("avx512vnni");
    }
    return cached;
#else
    return 0;
#endif
}

void gk_quantize_x_q8(const float *x, size_t cols, int8_t *xq, float *xs) {
    for (size_t c0 = 0, b = 0; c0 < cols; c0 += GK_Q8X_BLOCK, b++) {
        size_t n = cols - c0 < GK_Q8X_BLOCK ? cols - c0 : GK_Q8X_BLOCK;
        xs[b] = quantize_block(x + c0, n, xq + c0);
    }
}

// Portable twin: exact integer sums per block, then f32.
static void gemv_q8x_base(const int8_t *q, size_t ldq, const float *rowScales, size_t rows, size_t cols,
                          const int8_t *xq, const float *xs, float *y) {
    for (size_t r = 0; r < rows; r++) {
        const int8_t *qr = q + r * ldq;
        float total = 0.0f;
        for (size_t c0 = 0, b = 0; c0 < cols; c0 += GK_Q8X_BLOCK, b++) {
            size_t end = cols - c0 < GK_Q8X_BLOCK ? cols : c0 + GK_Q8X_BLOCK;
            int32_t dot = 0;
            for (size_t c = c0; c < end; c++) dot += (int32_t)qr[c] * (int32_t)xq[c];
            total += xs[b] * (float)dot;
        }
        y[r] = rowScales[r] * total;
    }
}

#if GK_X86
// vpdpbusd multiplies unsigned by signed bytes: the weights go in as u8 = q + 128 (q XOR 0x80)
// and the 128·Σ xq this adds is subtracted once per row (`offset`, the same for every row). A
// 64-column chunk is two activation blocks: int32 lanes 0–7 hold block 2k's sums, 8–15 block
// 2k+1's; each chunk's sums are converted and scaled by their block's scale in f32. Four rows
// share each activation load. cols % 64 == 0. (Prefetching the next rows was not faster.)
__attribute__((target("avx512f,avx512bw,avx512vnni")))
static void gemv_q8x_vnni(const int8_t *q, size_t ldq, const float *rowScales, size_t rows, size_t cols,
                          const int8_t *xq, const float *xs, float *y) {
    const __m512i flip = _mm512_set1_epi8((char)0x80), zero = _mm512_setzero_si512();
    // offset = 128 · Σ_b xs[b] · Σ_{c ∈ b} xq[c]
    __m512 off = _mm512_setzero_ps();
    for (size_t c = 0; c < cols; c += 64) {
        __m512 sc = _mm512_mask_blend_ps(0xff00, _mm512_set1_ps(xs[c / 32]), _mm512_set1_ps(xs[c / 32 + 1]));
        __m512i s = _mm512_dpbusd_epi32(zero, _mm512_set1_epi8((char)128), _mm512_loadu_si512(xq + c));
        off = _mm512_fmadd_ps(_mm512_cvtepi32_ps(s), sc, off);
    }
    const float offset = _mm512_reduce_add_ps(off);
    size_t r = 0;
    for (; r + 4 <= rows; r += 4) {
        const int8_t *q0 = q + r * ldq, *q1 = q0 + ldq, *q2 = q1 + ldq, *q3 = q2 + ldq;
        __m512 a0 = _mm512_setzero_ps(), a1 = a0, a2 = a0, a3 = a0;
        for (size_t c = 0; c < cols; c += 64) {
            __m512i xv = _mm512_loadu_si512(xq + c);
            __m512 sc = _mm512_mask_blend_ps(0xff00, _mm512_set1_ps(xs[c / 32]), _mm512_set1_ps(xs[c / 32 + 1]));
            __m512i d0 = _mm512_dpbusd_epi32(zero, _mm512_xor_si512(_mm512_loadu_si512(q0 + c), flip), xv);
            __m512i d1 = _mm512_dpbusd_epi32(zero, _mm512_xor_si512(_mm512_loadu_si512(q1 + c), flip), xv);
            __m512i d2 = _mm512_dpbusd_epi32(zero, _mm512_xor_si512(_mm512_loadu_si512(q2 + c), flip), xv);
            __m512i d3 = _mm512_dpbusd_epi32(zero, _mm512_xor_si512(_mm512_loadu_si512(q3 + c), flip), xv);
            a0 = _mm512_fmadd_ps(_mm512_cvtepi32_ps(d0), sc, a0);
            a1 = _mm512_fmadd_ps(_mm512_cvtepi32_ps(d1), sc, a1);
            a2 = _mm512_fmadd_ps(_mm512_cvtepi32_ps(d2), sc, a2);
            a3 = _mm512_fmadd_ps(_mm512_cvtepi32_ps(d3), sc, a3);
        }
        y[r] = rowScales[r] * (_mm512_reduce_add_ps(a0) - offset);
        y[r + 1] = rowScales[r + 1] * (_mm512_reduce_add_ps(a1) - offset);
        y[r + 2] = rowScales[r + 2] * (_mm512_reduce_add_ps(a2) - offset);
        y[r + 3] = rowScales[r + 3] * (_mm512_reduce_add_ps(a3) - offset);
    }
    if (r < rows) gemv_q8x_base(q + r * ldq, ldq, rowScales + r, rows - r, cols, xq, xs, y + r);
}
#endif

void gk_gemv_q8x(const int8_t *q, size_t ldq, const float *rowScales, size_t rows, size_t cols, const int8_t *xq,
                 const float *xs, float *y) {
#if GK_X86
    if (cols % 64 == 0 && gk_simd_level() == GK_SIMD_AVX512 && gk_cpu_has_avx512_vnni()) {
        gemv_q8x_vnni(q, ldq, rowScales, rows, cols, xq, xs, y);
        return;
    }
#endif
    gemv_q8x_base(q, ldq, rowScales, rows, cols, xq, xs, y);
}

void gk_gemv_q8(const int8_t *q, size_t ldq, const float *scales, size_t block, size_t rows, size_t cols,
                const float *x, float *y) {
#if GK_X86
    if (gk_simd_level() == GK_SIMD_AVX512) { gemv_avx512(q, ldq, scales, block, rows, cols, x, y); return; }
#endif
    gemv_base(q, ldq, scales, block, rows, cols, x, y);
}
