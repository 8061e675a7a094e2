// One decode step of the Llama decoder's attention: one query row over the whole KV cache, the
// `H / Hkv` query heads of a kv head sharing one pass over its keys and values (CKernels
// `gk_attention_decode`). A decode step is bound by the bytes it reads, so the cache may be
// stored in bf16 (half the bytes; the rows are widened exactly, 64 keys at a time into L1) or f32.
// Replaces the two sgemm calls per kv head of `attention`'s one-row path in the decoder (which
// read the cache at ≈ 7.5 GB/s on the 2-core VM: the small GEMMs pack Kᵀ per call).
// Twin: `attention` (the same softmax(scale·q·kᵀ)·V on the f32 — or widened bf16 — rows).
import CKernels

/// The element type of a KV cache's rows.
public enum KVStorage: String, Sendable {
    /// f32 rows: the exact path.
    case f32
    /// bf16 rows (round to nearest even when written): half the memory and half the decode reads.
    case bf16

    public var bytes: Int { self == .f32 ? 4 : 2 }

    /// The KV cache a precision uses unless told otherwise: f32 for the exact path and for bf16
    /// (whose faithfulness bound a bf16 cache exceeds: 1.1e-2 … 4.3e-2 relative first-step logit
    /// error on the golden cases, case c's first token lost), bf16 for int8 (not faithful anyway;
    /// half the cache memory and decode reads).
    public static func `default`(for precision: Precision) -> KVStorage { precision == .int8 ? .bf16 : .f32 }
}

extension Kernels {
    /// Scratch floats `attentionDecode` needs for `keys` cached rows: per kv head, G·S scores and
    /// one widened block.
    public static func attentionDecodeScratch(keys S: Int, heads H: Int, kvHeads Hkv: Int, headDim D: Int) -> Int {
        Hkv * gk_attention_decode_scratch_floats(H / Hkv, S, D)
    }

    /// Attention of one query row `q [H·D]` (head `h` at `q + h·D`) over cached rows `0 ..< S`:
    /// kv head `g` of row `s` at `k + (s·rowStride + g·D)·storage.bytes` (same for `v`). Head `h`
    /// uses kv head `h / (H / Hkv)`. The output of head `h` goes to `out + h·D`. `scratch` holds
    /// `attentionDecodeScratch(keys: S, …)` floats.
    public static func attentionDecode(q: UnsafePointer<Float>, k: UnsafeRawPointer, v: UnsafeRawPointer, storage: KVStorage,
                                       rowStride: Int, out: UnsafeMutablePointer<Float>, keys S: Int, heads H: Int,
                                       kvHeads Hkv: Int, headDim D: Int, scale: Float, scratch: UnsafeMutablePointer<Float>) {
        precondition(S > 0 && H > 0 && Hkv > 0 && D > 0 && H % Hkv == 0 && rowStride >= Hkv * D, "attentionDecode: bad sizes")
        let group = H / Hkv, per = gk_attention_decode_scratch_floats(group, S, D), b = storage.bytes
        parallelFor(Hkv) { range in
            for g in range {
                gk_attention_decode(q + g * group * D, group, k + g * D * b, v + g * D * b, rowStride, storage == .bf16 ? 1 : 0,
                                    S, D, scale, out + g * group * D, scratch + g * per)
            }
        }
    }
}
