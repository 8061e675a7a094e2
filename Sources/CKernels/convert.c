#include "ckernels.h"
#include <string.h>

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define GK_X86 1
#endif

int gk_cpu_has_avx2_fma_f16c(void) {
#if GK_X86
    static int cached = -1;
    if (cached < 0) {
        __builtin_cpu_init();
        cached = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") &&
                 __builtin_cpu_supports("f16c");
    }
    return cached;
#else
    return 0;
#endif
}

int gk_cpu_has_avx512_bf16(void) {
#if GK_X86
    static int cached = -1;
    if (cached < 0) {
        __builtin_cpu_init();
        cached = __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bf16");
    }
    return cached;
#else
    return 0;
#endif
}

void gk_bf16_to_f32(const uint16_t *src, float *dst, size_t n) {
    // The compiler vectorises this loop at -O3 with baseline SSE2.
    uint32_t *d = (uint32_t *)dst;
    for (size_t i = 0; i < n; i++) d[i] = ((uint32_t)src[i]) << 16;
}

static inline uint16_t f32_to_bf16_scalar(float f) {
    uint32_t u;
    memcpy(&u, &f, 4);
    if ((u & 0x7fffffffu) > 0x7f800000u) return (uint16_t)((u >> 16) | 0x40);
    uint32_t lsb = (u >> 16) & 1u;
    u += 0x7fffu + lsb;
    return (uint16_t)(u >> 16);
}

void gk_f32_to_bf16(const float *src, uint16_t *dst, size_t n) {
    for (size_t i = 0; i < n; i++) dst[i] = f32_to_bf16_scalar(src[i]);
}

void gk_f32_to_bf16_split(const float *src, uint16_t *hi, uint16_t *lo, size_t n) {
    for (size_t i = 0; i < n; i++) {
        uint16_t h = f32_to_bf16_scalar(src[i]);
        uint32_t wide = ((uint32_t)h) << 16;
        float hf;
        memcpy(&hf, &wide, 4);
        hi[i] = h;
        lo[i] = f32_to_bf16_scalar(src[i] - hf);
    }
}

static float half_to_float_scalar(uint16_t h) {
    uint32_t sign = ((uint32_t)h & 0x8000u) << 16;
    uint32_t exp = (h >> 10) & 0x1f;
    uint32_t man = h & 0x3ff;
    uint32_t out;
    if (exp == 0) {
        if (man == 0) {
            out = sign;
        } else { // subnormal: normalise
            int e = -1;
            do { e++; man <<= 1; } while ((man & 0x400u) == 0);
            out = sign | ((uint32_t)(127 - 15 - e) << 23) | ((man & 0x3ffu) << 13);
        }
    } else if (exp == 0x1f) {
        out = sign | 0x7f800000u | (man << 13);
    } else {
        out = sign | ((exp + 127 - 15) << 23) | (man << 13);
    }
    float f;
    memcpy(&f, &out, 4);
    return f;
}

static uint16_t float_to_half_scalar(float f) {
    uint32_t x;
    memcpy(&x, &f, 4);
    uint32_t sign = (x >> 16) & 0x8000u;
    uint32_t absx = x & 0x7fffffffu;
    if (absx > 0x7f800000u) return (uint16_t)(sign | 0x7e00u);  // NaN
    if (absx >= 0x477ff000u) return (uint16_t)(sign | 0x7c00u); // overflow -> inf (rounds up)
    if (absx < 0x38800000u) {                                    // subnormal or zero in half
        if (absx < 0x33000000u) return (uint16_t)sign;          // < 2^-25 -> 0 (rounds down)
        uint32_t e = absx >> 23;
        uint32_t m = (absx & 0x7fffffu) | 0x800000u;
        uint32_t shift = 126 - e;  // shift so the result lands in the 10-bit field
        uint32_t half_m = m >> (shift);
        uint32_t rem = m & ((1u << shift) - 1);
        uint32_t halfway = 1u << (shift - 1);
        if (rem > halfway || (rem == halfway && (half_m & 1u))) half_m++;
        return (uint16_t)(sign | half_m);
    }
    uint32_t r = absx + 0xc8000fffu + ((absx >> 13) & 1u); // rebias exponent and round to nearest even
    return (uint16_t)(sign | (r >> 13));
}

#if GK_X86
__attribute__((target("avx2,f16c")))
static void f16_to_f32_f16c(const uint16_t *src, float *dst, size_t n) {
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        __m128i h = _mm_loadu_si128((const __m128i *)(src + i));
        _mm256_storeu_ps(dst + i, _mm256_cvtph_ps(h));
    }
    for (; i < n; i++) dst[i] = half_to_float_scalar(src[i]);
}
#endif

void gk_f16_to_f32(const uint16_t *src, float *dst, size_t n) {
#if GK_X86
    if (gk_cpu_has_avx2_fma_f16c()) { f16_to_f32_f16c(src, dst, n); return; }
#endif
    for (size_t i = 0; i < n; i++) dst[i] = half_to_float_scalar(src[i]);
}

void gk_f32_to_f16(const float *src, uint16_t *dst, size_t n) {
    for (size_t i = 0; i < n; i++) dst[i] = float_to_half_scalar(src[i]);
}
