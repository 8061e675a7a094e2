// Row kernels for transcendental functions (exp, erf, GELU, SiLU, softmax) with run-time
// dispatch: AVX-512F, then AVX2+FMA, then the baseline ISA. The vector code is written once in
// vecmath.inc and compiled for each instruction set here.
#include "ckernels.h"
#include "attention_bf16.h"
#include <string.h>

#if defined(__x86_64__) || defined(__i386__)
#define GK_X86 1
#endif

// GK_AR: query rows per attention register tile (rows × 4 vectors of accumulators must fit the
// register file together with 4 loaded vectors: 32 zmm for AVX-512, 16 ymm/xmm otherwise).
// AVX-512: 6 rows (24 accumulators) — measured with bench/attention/attention_blocks.c (one thread,
// CPU time, causal, head dim 64, blocks of 96 rows): 1.09–1.14× the 4-row tile at 4,096–8,192
// keys, bit-identical outputs (a row's arithmetic does not depend on the tile); 8 rows spill
// (0.87–0.89×).
#ifndef GK_AR_AVX512
#define GK_AR_AVX512 6
#endif
/// The largest GK_AR (scratch sizes).
#define GK_AR_MAX 8

#if GK_X86
#define GK_SUFFIX avx512
#define GK_LANES 16
#define GK_AR GK_AR_AVX512
#define GK_TARGET __attribute__((target("avx512f")))
#include "vecmath.inc"
#undef GK_SUFFIX
#undef GK_LANES
#undef GK_AR
#undef GK_TARGET

#define GK_SUFFIX avx2
#define GK_LANES 8
#define GK_AR 2
#define GK_TARGET __attribute__((target("avx2,fma")))
#include "vecmath.inc"
#undef GK_SUFFIX
#undef GK_LANES
#undef GK_AR
#undef GK_TARGET
#endif

#define GK_SUFFIX base
#define GK_LANES 4
#define GK_AR 2
#define GK_TARGET
#include "vecmath.inc"
#undef GK_SUFFIX
#undef GK_LANES
#undef GK_AR
#undef GK_TARGET

// MARK: - dispatch

static int detected_level(void) {
#if GK_X86
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx512f")) return GK_SIMD_AVX512;
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) return GK_SIMD_AVX2;
#endif
    return GK_SIMD_BASE;
}

// The CPU's best level, detected once (-1 = not yet; a race is benign: every thread computes the
// same value). Overrides are per THREAD (tests force a level on their own thread; `parallelFor`
// hands the caller's dispatch state to its workers, gk_dispatch_state): a level forced by one test
// can never change the code path - or a packed layout chosen from gk_attention_lanes - of a
// computation running at the same time on other threads.
static int detected = -1;
static _Thread_local int forced_level = -1;
static _Thread_local int native_bf16 = 0;

int gk_simd_level(void) {
    if (forced_level >= 0) return forced_level;
    if (detected < 0) detected = detected_level();
    return detected;
}

int gk_set_simd_level(int level) {
    int best = detected_level();
    if (level < 0 || level > best) {
        forced_level = -1;
        return best;
    }
    forced_level = level;
    return level;
}

int gk_prefer_native_bf16(void) { return native_bf16; }

int gk_attention_bf16_set_native(int on) {
    native_bf16 = on != 0;
    return native_bf16 && gk_cpu_has_avx512_bf16();
}

int gk_dispatch_state(void) { return (forced_level + 1) | (native_bf16 << 8); }

void gk_set_dispatch_state(int state) {
    forced_level = (state & 0xff) - 1;
    native_bf16 = (state >> 8) & 1;
}

#if GK_X86
#define GK_DISPATCH(name, ...)                                                   \
    switch (gk_simd_level()) {                                                   \
    case GK_SIMD_AVX512: name##_avx512(__VA_ARGS__); return;                     \
    case GK_SIMD_AVX2: name##_avx2(__VA_ARGS__); return;                         \
    default: name##_base(__VA_ARGS__); return;                                   \
    }
#else
#define GK_DISPATCH(name, ...) name##_base(__VA_ARGS__)
#endif

void gk_exp(const float *x, float *y, size_t n) { GK_DISPATCH(gk_exp, x, y, n); }
void gk_erf(const float *x, float *y, size_t n) { GK_DISPATCH(gk_erf, x, y, n); }
void gk_gelu(const float *x, float *y, size_t n) { GK_DISPATCH(gk_gelu, x, y, n); }
void gk_silu(const float *x, float *y, size_t n) { GK_DISPATCH(gk_silu, x, y, n); }
void gk_silu_mul(float *gate, const float *up, size_t n) { GK_DISPATCH(gk_silu_mul, gate, up, n); }
void gk_softmax(float *x, size_t n, float scale) { GK_DISPATCH(gk_softmax, x, n, scale); }

size_t gk_attention_lanes(void) {
    switch (gk_simd_level()) {
    case GK_SIMD_AVX512: return 16;
    case GK_SIMD_AVX2: return 8;
    default: return 4;
    }
}

size_t gk_attention_scratch_floats(size_t rows, size_t D) {
    // O, m and l for rows rounded up to the row tile (≤ GK_AR_MAX), p [GK_AR_MAX × 4 lanes ≤ 64],
    // qbuf [GK_AR_MAX × D]
    size_t R = rows + GK_AR_MAX;
    return R * D + 2 * R + GK_AR_MAX * 64 + GK_AR_MAX * D;
}
size_t gk_attention_decode_scratch_floats(size_t G, size_t S, size_t D) { return G * S + GK_DEC_KB * D; }

void gk_attention_decode(const float *q, size_t G, const void *k, const void *v, size_t kvs, int bf16, size_t S,
                         size_t D, float scale, float *out, float *scratch) {
    GK_DISPATCH(gk_attention_decode, q, G, k, v, kvs, bf16, S, D, scale, out, scratch);
}

void gk_attention_block(const float *q, size_t qs, size_t rows, const float *kt, const float *v, size_t S, size_t Spad,
                        size_t D, float scale, size_t firstVisible, int causal, float *out, size_t os, float *scratch) {
    GK_DISPATCH(gk_attention_block, q, qs, rows, kt, v, S, Spad, D, scale, firstVisible, causal, out, os, scratch);
}
