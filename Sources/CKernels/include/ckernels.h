// Small C kernels where Swift cannot reach the instruction (F16C, AVX-512/AVX2 transcendental
// math, bulk bf16 widening), compiled -O3 even in debug builds. Every kernel picks its code path
// at run time from the CPU's features, so the binary runs on any x86-64 or arm64 machine.
// This module has no stable API of its own: Swift code calls it through Tensors.
#ifndef GAR_CKERNELS_H
#define GAR_CKERNELS_H
#include <stddef.h>
#include <stdint.h>

// MARK: - dtype conversion (convert.c)

/// bf16 -> f32 for n values (exact: a bf16 is the top half of an f32).
void gk_bf16_to_f32(const uint16_t *src, float *dst, size_t n);
/// f32 -> bf16 with round-to-nearest-even (NaN stays NaN), as torch's .to(bfloat16).
void gk_f32_to_bf16(const float *src, uint16_t *dst, size_t n);
/// f32 -> two bf16 halves, hi = bf16(x) and lo = bf16(x - hi) (x ≈ hi + lo to ~16 significant
/// bits; the bf16 GEMM's split activations).
void gk_f32_to_bf16_split(const float *src, uint16_t *hi, uint16_t *lo, size_t n);
/// IEEE half -> f32 for n values (F16C when the CPU has it).
void gk_f16_to_f32(const uint16_t *src, float *dst, size_t n);
/// f32 -> IEEE half, round-to-nearest-even.
void gk_f32_to_f16(const float *src, uint16_t *dst, size_t n);
/// 1 when the running CPU supports AVX2+FMA+F16C (x86-64), else 0.
int gk_cpu_has_avx2_fma_f16c(void);
/// 1 when the running CPU has native bf16 dot products (AVX512_BF16, x86-64), else 0.
int gk_cpu_has_avx512_bf16(void);

// MARK: - vector math (mathkernels.c)

/// Instruction-set levels of the math kernels.
enum { GK_SIMD_BASE = 0, GK_SIMD_AVX2 = 2, GK_SIMD_AVX512 = 3 };
/// The level the math kernels use (the best the CPU supports unless overridden).
int gk_simd_level(void);
/// Forces a level for the CALLING THREAD (clamped to what the CPU supports; negative = back to
/// the best). Returns the level set. For tests and benchmarks: other threads keep theirs; the
/// workers of a `parallelFor` take their caller's (gk_dispatch_state).
int gk_set_simd_level(int level);
/// The calling thread's dispatch choices (forced level, bf16 attention preference) as one value,
/// to hand to worker threads with gk_set_dispatch_state.
int gk_dispatch_state(void);
/// Adopts a gk_dispatch_state value on the calling thread.
void gk_set_dispatch_state(int state);
/// 1 when the calling thread prefers the native vdpbf16ps bf16 attention (gk_attention_bf16_set_native).
int gk_prefer_native_bf16(void);

/// y[i] = exp(x[i]); <= 2 ulp; 0 below -87.34, +inf above 88.72. x and y may alias.
void gk_exp(const float *x, float *y, size_t n);
/// y[i] = erf(x[i]); absolute error <= 1.6e-7. x and y may alias.
void gk_erf(const float *x, float *y, size_t n);
/// y[i] = GELU(x[i]) with the exact erf, (x·0.5)·(1 + erf(x·√½)). x and y may alias.
void gk_gelu(const float *x, float *y, size_t n);
/// y[i] = x[i] / (1 + exp(-x[i])). x and y may alias.
void gk_silu(const float *x, float *y, size_t n);
/// gate[i] = silu(gate[i]) * up[i].
void gk_silu_mul(float *gate, const float *up, size_t n);
/// In place: x = softmax(scale·x) over one row of n values; scale > 0. -inf entries get 0.
void gk_softmax(float *x, size_t n, float scale);


// MARK: - fused attention (mathkernels.c)

/// Scratch floats gk_attention_decode needs: G·S scores and one widened block of keys or values.
size_t gk_attention_decode_scratch_floats(size_t G, size_t S, size_t D);
/// One decode step of attention for the G query heads that share a kv head: q [G, D] (head j at
/// q + j·D) against all S keys of the cache; key s at k + s·kvs and value s at v + s·kvs, D values
/// each, f32 (bf16 = 0) or bf16 bits (bf16 = 1, widened exactly). softmax(scale·q·kᵀ)·V of head j
/// goes to out + j·D. scratch: gk_attention_decode_scratch_floats(G, S, D) floats. Memory-bound:
/// reads K and V once (blocks of 64 keys stay in L1 while the G heads pass over them).
void gk_attention_decode(const float *q, size_t G, const void *k, const void *v, size_t kvs, int bf16, size_t S,
                         size_t D, float scale, float *out, float *scratch);
/// Vector lanes L of the active level: the fused attention needs D % L == 0 and key tiles of 4·L.
size_t gk_attention_lanes(void);
/// Scratch floats gk_attention_block needs for `rows` query rows of head dim D.
size_t gk_attention_scratch_floats(size_t rows, size_t D);
/// Flash-style attention of one head for `rows` query rows (row r at q + r·qs, D floats) over S
/// keys given packed: kt = Kᵀ as [D, Spad] (key s at column s; Spad = S rounded up to 4·L, padding
/// zero) and v as [Spad, D]. Row r sees keys 0 ..< min(S, firstVisible + r) when `causal`, else all
/// S (firstVisible ≥ 1). Scores are multiplied by `scale` before the softmax. Output row r goes to
/// out + r·os. Keys are taken in blocks that stay in L2 while every row of the block passes over
/// them (each row's state kept in scratch). scratch holds gk_attention_scratch_floats(rows, D)
/// floats. D must be a multiple of L.
void gk_attention_block(const float *q, size_t qs, size_t rows, const float *kt, const float *v, size_t S, size_t Spad,
                        size_t D, float scale, size_t firstVisible, int causal, float *out, size_t os, float *scratch);

// MARK: - antialiased bicubic resize, float path (resize.c)

/// Taps per output of one axis (torch's max_interp_size for the float path).
size_t gk_aa_bicubic_float_taps(size_t in, size_t out);
/// Float32 weights of one axis `in → out` as torch computes them: start[o], size[o] and
/// w[o·taps + j] for j < size[o] (zero beyond).
void gk_aa_bicubic_float_weights(size_t in, size_t out, int64_t *start, int64_t *size, float *w);
/// dst[o·dstStride + c] = Σ_j src[(start[o] + j)·tapStride + c] · w[o·kmax + j] for o < outCount,
/// c < inner, with torch's accumulation order and fused multiply-adds.
void gk_aa_resample_f32(const float *src, float *dst, size_t outCount, size_t inner, size_t tapStride, size_t dstStride,
                        const int64_t *start, const int64_t *size, const float *w, size_t kmax);
/// dst[i] = round_half_even(clamp(src[i], 0, 255)).
void gk_f32_to_u8_clamp_round(const float *src, uint8_t *dst, size_t n);

#endif
