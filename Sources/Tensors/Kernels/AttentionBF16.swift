// Attention with bf16 products and f32 accumulation, for the fast precisions: SAM 2's global Hiera
// blocks and memory attention in bf16 (4,096 queries × 4,096 … 28,700 keys). Causal with a cache
// offset and GQA too, but GAR's vision tower and Llama prefill keep `attention` (f32) in every
// precision, by measurement (2-core Sapphire Rapids VM, bench/attention/attention_bf16.c): at their
// shapes this kernel was 0.92× (vision, 1,025 tokens × 64) and 1.00× (8k causal prefill, GQA) the
// f32 fused kernel, and in bf16 it broke BF16FaithfulnessTests (1.2e-2 … 5.7e-2 relative first-step
// logit error against the 2e-4 bound; case c lost its first token). At SAM 2's memory attention
// (one head of 256 over 28,736 keys) it was 1.42× the f32 kernel.
//
// One fused flash-style C kernel (CKernels `gk_attention_bf16_block`, include/attention_bf16.h):
// K and V of each kv head are rounded to bf16 and packed ONCE per call into the layout of
// `vdpbf16ps` (pairs of dims per key for Q·Kᵀ, pairs of keys per dim for P·V); then per (head,
// block of 64 query rows): Q rounded to bf16 once, scores in registers for 4 query rows × 64 keys,
// online softmax in f32 per tile of 64 keys (no score matrix is stored), P rounded to bf16 for
// bf16(P)·bf16(V), accumulated in f32; keys in L2-sized blocks that every row group passes over.
// Causal rows stop at their last visible key (fully masked tiles are never computed). The bf16
// products run as f32 FMAs on the bf16 data (AVX-512F, AVX2+FMA or portable C): on the Sapphire
// Rapids VM measured, vdpbf16ps was slower than FMAs (CKernels attention_bf16.c), so it is opt-in.
// The error is that of bf16 operands (relative 2⁻⁹ each) on the two products; the softmax stays f32.
// Twin: `Reference.attentionBF16` (the same roundings, tile by tile).
import CKernels

extension Kernels {
    /// `attention` with bf16 products; same layout rules, causal offsets and GQA (`H % Hkv == 0`,
    /// query head `h` uses kv head `h / (H / Hkv)`). Any head dim (packed with zero columns up to
    /// a multiple of 32).
    public static func attentionBF16(q: UnsafePointer<Float>, k: UnsafePointer<Float>, v: UnsafePointer<Float>,
                                     out: UnsafeMutablePointer<Float>, layout: AttentionLayout,
                                     queries T: Int, keys S: Int, heads H: Int, kvHeads Hkv: Int, headDim D: Int,
                                     scale: Float, causalOffset: Int?) {
        precondition(T >= 0 && S > 0 && H > 0 && Hkv > 0 && D > 0 && H % Hkv == 0, "attentionBF16: bad sizes")
        precondition(layout.qRowStride >= H * D && layout.outRowStride >= H * D, "attentionBF16: q/out rows too short")
        precondition(layout.kRowStride >= Hkv * D && layout.vRowStride >= Hkv * D, "attentionBF16: k/v rows too short")
        if let off = causalOffset { precondition(off >= 0 && off + T <= S, "attentionBF16: cache holds \(S) < \(off)+\(T) rows") }
        guard T > 0 else { return }
        let group = H / Hkv
        let Spad = gk_attention_bf16_keys(S), packed = gk_attention_bf16_packed_count(S, D)
        let kp = UnsafeMutablePointer<UInt16>.allocate(capacity: Hkv * packed)
        let vp = UnsafeMutablePointer<UInt16>.allocate(capacity: Hkv * packed)
        defer { kp.deallocate(); vp.deallocate() }
        // Pack bf16(K) and bf16(V) of every kv head, 256 keys per task (padding keys zero).
        let chunks = (Spad + 255) / 256
        parallelFor(Hkv * chunks) { tasks in
            for task in tasks {
                let g = task % Hkv, s0 = (task / Hkv) * 256, s1 = min(Spad, s0 + 256)
                gk_attention_bf16_pack(k + g * D, layout.kRowStride, v + g * D, layout.vRowStride, S, D, s0, s1,
                                       kp + g * packed, vp + g * packed)
            }
        }
        // (head, block of query rows) tasks; causal blocks late in the sequence see more keys, so
        // they are handed out first.
        let block = 64
        let blocks = (T + block - 1) / block
        parallelFor(H * blocks) { tasks in
            let scratch = UnsafeMutableRawPointer.allocate(byteCount: gk_attention_bf16_scratch_bytes(block, D), alignment: 64)
            defer { scratch.deallocate() }
            for task in tasks {
                let h = task % H, b = causalOffset == nil ? task / H : blocks - 1 - task / H
                let t0 = b * block, rows = min(block, T - t0), g = h / group
                gk_attention_bf16_block(q + t0 * layout.qRowStride + h * D, layout.qRowStride, rows, kp + g * packed, vp + g * packed,
                                        S, D, scale, (causalOffset ?? 0) + t0 + 1, causalOffset == nil ? 0 : 1,
                                        out + t0 * layout.outRowStride + h * D, layout.outRowStride, scratch)
            }
        }
    }

    /// Non-causal `attentionBF16` with one kv head per query head (SAM 2's attentions).
    public static func attentionBF16(q: UnsafePointer<Float>, k: UnsafePointer<Float>, v: UnsafePointer<Float>,
                                     out: UnsafeMutablePointer<Float>, layout: AttentionLayout,
                                     queries T: Int, keys S: Int, heads H: Int, headDim D: Int, scale: Float) {
        attentionBF16(q: q, k: k, v: v, out: out, layout: layout, queries: T, keys: S, heads: H, kvHeads: H, headDim: D,
                      scale: scale, causalOffset: nil)
    }

    /// The code path of `attentionBF16` on this CPU, for `--verbose` and the benchmarks.
    public static var attentionBF16Kernel: String {
        "CKernels fused flash attention, bf16 products (\(String(cString: gk_attention_bf16_isa())))"
    }
}
