// Fused flash-style attention with bf16 products and f32 accumulation, for the fast precisions
// (GAR's vision tower and Llama prefill, SAM 2's long attentions): K and V of a kv head are
// rounded to bf16 and packed once (gk_attention_bf16_pack), then gk_attention_bf16_block runs one
// head over a block of query rows: Q rounded to bf16 once, scores bf16(Q)·bf16(K)ᵀ in registers,
// online softmax in f32 per tile of GK_ATTENTION_BF16_TILE keys (no score matrix is stored),
// P rounded to bf16 for bf16(P)·bf16(V). Code path chosen at run time from gk_simd_level():
// AVX-512F, AVX2+FMA or portable C with the bf16 products as f32 FMAs (a bf16·bf16 product is
// exact in f32, so the paths differ only by the order of the f32 sums), or AVX512_BF16 vdpbf16ps
// when enabled with gk_attention_bf16_set_native (slower than the FMAs on the Sapphire Rapids VM
// measured: attention_bf16.c). Twin: Reference.attentionBF16 (Tensors).
#ifndef GAR_CKERNELS_ATTENTION_BF16_H
#define GAR_CKERNELS_ATTENTION_BF16_H
#include <stddef.h>
#include <stdint.h>

/// Keys per online-softmax step: the running max is updated once per tile of this many keys.
#define GK_ATTENTION_BF16_TILE 64

/// Packed head dim: D rounded up to 32 (the padding columns are zero).
static inline size_t gk_attention_bf16_dim(size_t D) { return (D + 31) / 32 * 32; }
/// Packed key count: S rounded up to the tile (the padding keys are zero).
static inline size_t gk_attention_bf16_keys(size_t S) {
    return (S + GK_ATTENTION_BF16_TILE - 1) / GK_ATTENTION_BF16_TILE * GK_ATTENTION_BF16_TILE;
}
/// uint16 elements of one packed K (or V) of a kv head: Dp · Spad.
static inline size_t gk_attention_bf16_packed_count(size_t S, size_t D) {
    return gk_attention_bf16_dim(D) * gk_attention_bf16_keys(S);
}

/// Packs keys [s0, s1) of one kv head (0 ≤ s0 ≤ s1 ≤ Spad, both even): key s is k + s·ks and
/// v + s·vs (D floats each; rows s ≥ S are written as zeros). kp and vp hold
/// gk_attention_bf16_packed_count(S, D) uint16 each. Rounds to nearest even, like torch.
void gk_attention_bf16_pack(const float *k, size_t ks, const float *v, size_t vs, size_t S, size_t D, size_t s0, size_t s1,
                            uint16_t *kp, uint16_t *vp);

/// Scratch bytes gk_attention_bf16_block needs for `rows` query rows of head dim D.
size_t gk_attention_bf16_scratch_bytes(size_t rows, size_t D);

/// One head over `rows` query rows (row r at q + r·qs, D floats) and the S keys packed in kp/vp.
/// Row r sees keys 0 ..< min(S, firstVisible + r) when `causal` (firstVisible ≥ 1), else all S;
/// key tiles a row group cannot see are skipped. Scores are multiplied by `scale` before the
/// softmax. Output row r goes to out + r·os (D floats). scratch: gk_attention_bf16_scratch_bytes.
void gk_attention_bf16_block(const float *q, size_t qs, size_t rows, const uint16_t *kp, const uint16_t *vp, size_t S,
                             size_t D, float scale, size_t firstVisible, int causal, float *out, size_t os, void *scratch);

/// Uses vdpbf16ps at the AVX-512 level when `on` and the CPU has AVX512_BF16 (default off: f32
/// FMAs). Returns 1 when vdpbf16ps will be used. For tests and benchmarks; like gk_set_simd_level,
/// a choice of the calling thread (and of the workers of its `parallelFor`s).
int gk_attention_bf16_set_native(int on);

/// The code path gk_attention_bf16_block takes on this CPU at the current settings.
const char *gk_attention_bf16_isa(void);

#endif
