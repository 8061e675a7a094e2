// Antialiased resampling passes (see include/resample_aa.h). The mix of plain and fused
// multiply-adds is PyTorch's, measured against torch on this machine (see the Swift file's header);
// the compiler must not fuse anything on its own, hence FP_CONTRACT OFF. The fused terms use an
// FMA instruction when the CPU has one, else libm's fmaf (correctly rounded, slower).
#pragma STDC FP_CONTRACT OFF
#if defined(__clang__)
#pragma clang fp contract(off)
#endif
#include "ckernels.h"
#include "resample_aa.h"
#include <math.h>

#if defined(__x86_64__) || defined(__i386__)
#define GK_X86 1
#endif

#define GK_RESAMPLE_BODY(SUFFIX, TARGET, FMA)                                                                    \
    TARGET static void rows_##SUFFIX(const float *src, size_t rows, size_t in_w, float *dst, size_t out_w,     \
                           const int32_t *start, const int32_t *taps, const float *w, size_t max_taps) { \
        for (size_t r = 0; r < rows; r++) {                                                      \
            const float *s = src + r * in_w;                                                     \
            float *d = dst + r * out_w;                                                          \
            for (size_t o = 0; o < out_w; o++) {                                                 \
                const float *sp = s + start[o], *wp = w + o * max_taps;                          \
                const int n = taps[o];                                                           \
                if (n <= 0) { d[o] = 0.0f; continue; }                                           \
                const int plain = 4 * ((n - 1) / 4);                                             \
                float acc = sp[0] * wp[0];                                                       \
                int j = 1;                                                                       \
                for (; j <= plain; j++) { float p = sp[j] * wp[j]; acc = acc + p; }              \
                for (; j < n; j++) acc = FMA(sp[j], wp[j], acc);                                 \
                d[o] = acc;                                                                      \
            }                                                                                    \
        }                                                                                        \
    }                                                                                            \
    TARGET static void cols_##SUFFIX(const float *src, size_t width, float *dst, size_t row0, size_t nrows,  \
                           const int32_t *start, const int32_t *taps, const float *w, size_t max_taps) { \
        for (size_t o = row0; o < row0 + nrows; o++) {                                           \
            const float *wp = w + o * max_taps;                                                  \
            const int n = taps[o];                                                               \
            float *d = dst + o * width;                                                          \
            if (n <= 0) { for (size_t x = 0; x < width; x++) d[x] = 0.0f; continue; }            \
            const int plain = 4 * ((n - 1) / 4);                                                 \
            const float *s0 = src + (size_t)start[o] * width;                                    \
            for (size_t x = 0; x < width; x++) d[x] = s0[x] * wp[0];                             \
            int j = 1;                                                                           \
            for (; j <= plain; j++) {                                                            \
                const float *sj = s0 + (size_t)j * width, wj = wp[j];                            \
                for (size_t x = 0; x < width; x++) { float p = sj[x] * wj; d[x] = d[x] + p; }    \
            }                                                                                    \
            for (; j < n; j++) {                                                                 \
                const float *sj = s0 + (size_t)j * width, wj = wp[j];                            \
                for (size_t x = 0; x < width; x++) d[x] = FMA(sj[x], wj, d[x]);                  \
            }                                                                                    \
        }                                                                                        \
    }

#define GK_LIBM_FMA(a, b, c) fmaf((a), (b), (c))
GK_RESAMPLE_BODY(libm, , GK_LIBM_FMA)

#if GK_X86
#define GK_HW_FMA(a, b, c) __builtin_fmaf((a), (b), (c))
// The same source compiled for CPUs with FMA, so each fused term is one instruction.
GK_RESAMPLE_BODY(fma, __attribute__((target("fma,avx2"))), GK_HW_FMA)

static int has_fma(void) {
    static int cached = -1;
    if (cached < 0) {
        __builtin_cpu_init();
        cached = __builtin_cpu_supports("fma") && __builtin_cpu_supports("avx2");
    }
    return cached;
}
#endif

void gk_resample_rows_f32(const float *src, size_t rows, size_t in_w, float *dst, size_t out_w,
                          const int32_t *start, const int32_t *taps, const float *w, size_t max_taps) {
#if GK_X86
    if (has_fma() && gk_simd_level() >= GK_SIMD_AVX2) { rows_fma(src, rows, in_w, dst, out_w, start, taps, w, max_taps); return; }
#endif
    rows_libm(src, rows, in_w, dst, out_w, start, taps, w, max_taps);
}

void gk_resample_cols_f32(const float *src, size_t width, float *dst, size_t row0, size_t nrows,
                          const int32_t *start, const int32_t *taps, const float *w, size_t max_taps) {
#if GK_X86
    if (has_fma() && gk_simd_level() >= GK_SIMD_AVX2) { cols_fma(src, width, dst, row0, nrows, start, taps, w, max_taps); return; }
#endif
    cols_libm(src, width, dst, row0, nrows, start, taps, w, max_taps);
}
