// The float path of PyTorch's antialiased bicubic resize, as torchvision's v1 `F.resize` runs it on
// a uint8 image (cast to float32, `_upsample_bicubic2d_aa`, clamp, round half to even) — the path
// transformers' PerceptionLM image processor takes. Reproduced operation by operation as torch
// 2.15's AVX-512 build of UpSampleKernel.cpp computes it on this kind of CPU, including where its
// compiler fused multiply-adds (the cubic filter; the tail of each tap sum), so results are
// bit-exact (Tests/TensorsTests/OpGoldenTests.swift, resize_bicubic_v1 goldens).
#include "ckernels.h"
#include <math.h>
#include <stdint.h>

// Every a·b + c below is written exactly as intended: no implicit contraction into FMA.
#pragma clang fp contract(off)

/// Keys cubic (a = −0.5) as `HelperInterpCubic::aa_filter<float>` evaluates it in torch's FMA build:
/// |x| < 1: fma(fma(a+2, x, −(a+3))·x, x, 1); 1 ≤ |x| < 2: fma(fma(fma(a, x, −5a), x, 8a), x, −4a).
static float keys_cubic(float x) {
    const float a = -0.5f;
    x = fabsf(x);
    if (x < 1.0f) return fmaf(fmaf(a + 2.0f, x, -(a + 3.0f)) * x, x, 1.0f);
    if (x < 2.0f) return fmaf(fmaf(fmaf(a, x, -5.0f * a), x, 8.0f * a), x, -4.0f * a);
    return 0.0f;
}

size_t gk_aa_bicubic_float_taps(size_t in, size_t out) {
    float scale = (float)in / (float)out;
    float support = scale >= 1.0f ? (float)(2.0 * (double)scale) : 2.0f;
    return (size_t)ceilf(support) * 2 + 1;
}

void gk_aa_bicubic_float_weights(size_t in, size_t out, int64_t *start, int64_t *size, float *w) {
    // Types as in `_compute_indices_min_size_weights_aa<float>`: float scale/center/support, some
    // intermediate sums in double because of double literals (0.5).
    float scale = (float)in / (float)out;
    float support = scale >= 1.0f ? (float)(2.0 * (double)scale) : 2.0f;
    size_t kmax = (size_t)ceilf(support) * 2 + 1;
    float invscale = scale >= 1.0f ? (float)(1.0 / (double)scale) : 1.0f;
    for (size_t i = 0; i < out; i++) {
        float center = (float)((double)scale * ((double)i + 0.5));
        int64_t xmin = (int64_t)((double)(center - support) + 0.5);
        if (xmin < 0) xmin = 0;
        int64_t xend = (int64_t)((double)(center + support) + 0.5);
        if (xend > (int64_t)in) xend = (int64_t)in;
        int64_t xsize = xend - xmin;
        if (xsize < 0) xsize = 0;
        if (xsize > (int64_t)kmax) xsize = (int64_t)kmax;
        float *wi = w + i * kmax;
        float total = 0.0f;
        for (int64_t j = 0; j < xsize; j++) {
            float d = (float)(j + xmin) - center;
            float arg = (float)(((double)d + 0.5) * (double)invscale);
            wi[j] = keys_cubic(arg);
            total += wi[j];
        }
        if (total != 0.0f)
            for (int64_t j = 0; j < xsize; j++) wi[j] /= total;
        for (size_t j = (size_t)xsize; j < kmax; j++) wi[j] = 0.0f;
        start[i] = xmin;
        size[i] = xsize;
    }
}

/// One output element: s_0·w_0, then the first 4·⌊(n−1)/4⌋ further taps added as rounded
/// products, the remaining (n−1) mod 4 fused — the shape torch's compiled tap loop has.
#define GK_TAP_SUM(FMA)                                                                   \
    float acc = s[0] * wk[0];                                                             \
    int64_t plain = 1 + ((n - 1) / 4) * 4;                                                \
    for (int64_t j = 1; j < plain; j++) acc = acc + s[j * tapStride] * wk[j];             \
    for (int64_t j = plain; j < n; j++) acc = FMA(s[j * tapStride], wk[j], acc);

#define GK_RESAMPLE_BODY(FMA)                                                             \
    for (size_t o = 0; o < outCount; o++) {                                               \
        const int64_t n = size[o];                                                        \
        const float *wk = w + o * kmax;                                                   \
        float *d = dst + o * dstStride;                                                   \
        if (n == 0) {                                                                     \
            for (size_t c = 0; c < inner; c++) d[c] = 0.0f;                               \
            continue;                                                                     \
        }                                                                                 \
        const float *base = src + (size_t)start[o] * tapStride;                           \
        for (size_t c = 0; c < inner; c++) {                                              \
            const float *s = base + c;                                                    \
            GK_TAP_SUM(FMA)                                                               \
            d[c] = acc;                                                                   \
        }                                                                                 \
    }

#if defined(__x86_64__) || defined(__i386__)
__attribute__((target("fma"))) static void resample_fma(const float *src, float *dst, size_t outCount, size_t inner,
                                                        size_t tapStride, size_t dstStride, const int64_t *start,
                                                        const int64_t *size, const float *w, size_t kmax) {
    GK_RESAMPLE_BODY(__builtin_fmaf)
}
#endif

static void resample_libm(const float *src, float *dst, size_t outCount, size_t inner, size_t tapStride, size_t dstStride,
                          const int64_t *start, const int64_t *size, const float *w, size_t kmax) {
    GK_RESAMPLE_BODY(fmaf)
}

void gk_aa_resample_f32(const float *src, float *dst, size_t outCount, size_t inner, size_t tapStride, size_t dstStride,
                        const int64_t *start, const int64_t *size, const float *w, size_t kmax) {
#if defined(__x86_64__) || defined(__i386__)
    static int hasFMA = -1;
    if (hasFMA < 0) {
        __builtin_cpu_init();
        hasFMA = __builtin_cpu_supports("fma");
    }
    if (hasFMA) {
        resample_fma(src, dst, outCount, inner, tapStride, dstStride, start, size, w, kmax);
        return;
    }
#endif
    resample_libm(src, dst, outCount, inner, tapStride, dstStride, start, size, w, kmax);
}

void gk_f32_to_u8_clamp_round(const float *src, uint8_t *dst, size_t n) {
    for (size_t i = 0; i < n; i++) {
        float v = src[i];
        v = v < 0.0f ? 0.0f : (v > 255.0f ? 255.0f : v);  // torch clamp; NaN cannot occur here
        dst[i] = (uint8_t)rintf(v);                         // torch.round: half to even
    }
}
