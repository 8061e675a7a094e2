// Fused bf16-product attention (include/attention_bf16.h): attention_bf16.inc compiled for
// AVX512_BF16 (native vdpbf16ps, 16 lanes), AVX-512F (the bf16 products as f32 FMAs, 16 lanes),
// AVX2+FMA (8 lanes) and the baseline ISA (4 lanes, SSE2 / NEON), each after vecmath.inc, whose
// vector helpers (exp, select, …) it uses.
//
// Which AVX-512 path: measured on the 2-core Sapphire Rapids VM (clang -O3, one thread, CPU time,
// bench/attention/attention_bf16.c, load average 26–28), vdpbf16ps retires ~1.3 G instructions/s
// against ~3.8 G/s for vfmadd231ps (64 vs 32 flops each: 0.7× the f32 FMA rate), and the kernel ran
// 55 / 57 / 62 GFLOP/s (vision / 8k prefill / SAM 2 shapes) with vdpbf16ps against 62 / 68 / 73
// with the products as FMAs on the same bf16 data — so FMAs are the default and vdpbf16ps is
// opt-in (gk_attention_bf16_set_native) for CPUs where it is faster.
#include "ckernels.h"
#include "attention_bf16.h"
#include <string.h>

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define GK_X86 1
#endif

#define GK_TK GK_ATTENTION_BF16_TILE

// vecmath.inc's row kernels are not used here (mathkernels.c exports them).
#pragma clang diagnostic ignored "-Wunused-function"

#if GK_X86
#define GK_SUFFIX avx512bf16
#define GK_LANES 16
#define GK_AR 4
#define GK_TARGET __attribute__((target("avx512f")))
#define GK_ATTN_TARGET __attribute__((target("avx512f,avx512bf16")))
#define GK_NATIVE_BF16 1
#include "vecmath.inc"
#include "attention_bf16.inc"
#undef GK_SUFFIX
#undef GK_LANES
#undef GK_AR
#undef GK_TARGET
#undef GK_ATTN_TARGET
#undef GK_NATIVE_BF16

#define GK_SUFFIX avx512
#define GK_LANES 16
#define GK_AR 4
#define GK_TARGET __attribute__((target("avx512f")))
#define GK_ATTN_TARGET GK_TARGET
#define GK_NATIVE_BF16 0
#include "vecmath.inc"
#include "attention_bf16.inc"
#undef GK_SUFFIX
#undef GK_LANES
#undef GK_AR
#undef GK_TARGET
#undef GK_ATTN_TARGET
#undef GK_NATIVE_BF16

#define GK_SUFFIX avx2
#define GK_LANES 8
#define GK_AR 2
#define GK_TARGET __attribute__((target("avx2,fma")))
#define GK_ATTN_TARGET GK_TARGET
#define GK_NATIVE_BF16 0
#include "vecmath.inc"
#include "attention_bf16.inc"
#undef GK_SUFFIX
#undef GK_LANES
#undef GK_AR
#undef GK_TARGET
#undef GK_ATTN_TARGET
#undef GK_NATIVE_BF16
#endif

#define GK_SUFFIX base
#define GK_LANES 4
#define GK_AR 2
#define GK_TARGET
#define GK_ATTN_TARGET
#define GK_NATIVE_BF16 0
#include "vecmath.inc"
#include "attention_bf16.inc"
#undef GK_SUFFIX
#undef GK_LANES
#undef GK_AR
#undef GK_TARGET
#undef GK_ATTN_TARGET
#undef GK_NATIVE_BF16

// Query rows per register tile of each path (scratch is sized for the largest).
#define GK_AR_MAX 4

void gk_attention_bf16_pack(const float *k, size_t ks, const float *v, size_t vs, size_t S, size_t D, size_t s0, size_t s1,
                            uint16_t *kp, uint16_t *vp) {
    const size_t Dp = gk_attention_bf16_dim(D);
    uint16_t kb[256], vb[256];
    for (size_t s = s0; s < s1; s++) {
        for (size_t d0 = 0; d0 < Dp; d0 += 256) {
            const size_t n = Dp - d0 < 256 ? Dp - d0 : 256;
            const size_t real = s >= S || d0 >= D ? 0 : (D - d0 < n ? D - d0 : n);
            if (real > 0) {
                gk_f32_to_bf16(k + s * ks + d0, kb, real);
                gk_f32_to_bf16(v + s * vs + d0, vb, real);
            }
            for (size_t i = real; i < n; i++) kb[i] = vb[i] = 0;
            for (size_t i = 0; i < n; i++) {
                const size_t d = d0 + i;
                kp[(((s / GK_TK) * (Dp / 2) + d / 2) * GK_TK + s % GK_TK) * 2 + (d & 1)] = kb[i];
                vp[((s / 2) * Dp + d) * 2 + (s & 1)] = vb[i];
            }
        }
    }
}

size_t gk_attention_bf16_scratch_bytes(size_t rows, size_t D) {
    const size_t R = (rows + GK_AR_MAX - 1) / GK_AR_MAX * GK_AR_MAX, Dp = gk_attention_bf16_dim(D);
    // O [R·Dp] f32, m [R], l [R], Q pairs [R·Dp/2], P pairs [GK_AR_MAX·GK_TK/2]
    return 4 * (R * Dp + 2 * R + R * Dp / 2 + GK_AR_MAX * GK_TK / 2);
}

/// 4: AVX512_BF16, 3: AVX-512F FMAs, 2: AVX2+FMA, 0: portable (at the current SIMD level).
static int attention_path(void) {
#if GK_X86
    int level = gk_simd_level();
    if (level >= GK_SIMD_AVX512) return gk_prefer_native_bf16() && gk_cpu_has_avx512_bf16() ? 4 : 3;
    if (level >= GK_SIMD_AVX2) return 2;
#endif
    return 0;
}

void gk_attention_bf16_block(const float *q, size_t qs, size_t rows, const uint16_t *kp, const uint16_t *vp, size_t S,
                             size_t D, float scale, size_t firstVisible, int causal, float *out, size_t os, void *scratch) {
    const size_t Spad = gk_attention_bf16_keys(S);
    const uint32_t *k32 = (const uint32_t *)kp, *v32 = (const uint32_t *)vp;
    switch (attention_path()) {
#if GK_X86
    case 4: gk_attention_bf16_block_avx512bf16(q, qs, rows, k32, v32, S, Spad, D, scale, firstVisible, causal, out, os, scratch); return;
    case 3: gk_attention_bf16_block_avx512(q, qs, rows, k32, v32, S, Spad, D, scale, firstVisible, causal, out, os, scratch); return;
    case 2: gk_attention_bf16_block_avx2(q, qs, rows, k32, v32, S, Spad, D, scale, firstVisible, causal, out, os, scratch); return;
#endif
    default: gk_attention_bf16_block_base(q, qs, rows, k32, v32, S, Spad, D, scale, firstVisible, causal, out, os, scratch); return;
    }
}

const char *gk_attention_bf16_isa(void) {
    switch (attention_path()) {
    case 4: return "avx512bf16 (vdpbf16ps)";
    case 3: return "avx512 (bf16 products as f32 FMAs)";
    case 2: return "avx2 (bf16 products as f32 FMAs)";
    default: return "portable";
    }
}
