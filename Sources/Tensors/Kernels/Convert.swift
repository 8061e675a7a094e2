// Bulk conversion between Float32 and the 16-bit storage formats (bf16, IEEE f16), in parallel
// chunks through CKernels (F16C when available).
import CKernels

/// Storage element types of tensors on disk. Arithmetic is always Float32.
public enum StorageFormat: String, Sendable {
    case f32, bf16, f16
}

public enum Convert {
    static let grain = 1 << 18

    /// bf16 bit patterns → Float32 (exact).
    public static func bf16ToF32(_ src: UnsafeBufferPointer<UInt16>, _ dst: UnsafeMutableBufferPointer<Float>) {
        precondition(dst.count >= src.count, "bf16ToF32: destination too short")
        guard let s = src.baseAddress, let d = dst.baseAddress else { return }
        parallelFor(src.count, grain: grain) { r in gk_bf16_to_f32(s + r.lowerBound, d + r.lowerBound, r.count) }
    }

    /// Float32 → bf16 bit patterns, round to nearest even (torch `.to(torch.bfloat16)`).
    public static func f32ToBF16(_ src: UnsafeBufferPointer<Float>, _ dst: UnsafeMutableBufferPointer<UInt16>) {
        precondition(dst.count >= src.count, "f32ToBF16: destination too short")
        guard let s = src.baseAddress, let d = dst.baseAddress else { return }
        parallelFor(src.count, grain: grain) { r in gk_f32_to_bf16(s + r.lowerBound, d + r.lowerBound, r.count) }
    }

    /// IEEE half bit patterns → Float32 (exact).
    public static func f16ToF32(_ src: UnsafeBufferPointer<UInt16>, _ dst: UnsafeMutableBufferPointer<Float>) {
        precondition(dst.count >= src.count, "f16ToF32: destination too short")
        guard let s = src.baseAddress, let d = dst.baseAddress else { return }
        parallelFor(src.count, grain: grain) { r in gk_f16_to_f32(s + r.lowerBound, d + r.lowerBound, r.count) }
    }

    /// Float32 → IEEE half bit patterns, round to nearest even.
    public static func f32ToF16(_ src: UnsafeBufferPointer<Float>, _ dst: UnsafeMutableBufferPointer<UInt16>) {
        precondition(dst.count >= src.count, "f32ToF16: destination too short")
        guard let s = src.baseAddress, let d = dst.baseAddress else { return }
        parallelFor(src.count, grain: grain) { r in gk_f32_to_f16(s + r.lowerBound, d + r.lowerBound, r.count) }
    }

    /// Rounds every value to the nearest bf16 and back (what a bf16 model's weights "see").
    public static func roundTripBF16(_ x: [Float]) -> [Float] {
        var bits = [UInt16](repeating: 0, count: x.count)
        var out = [Float](repeating: 0, count: x.count)
        x.withUnsafeBufferPointer { xb in bits.withUnsafeMutableBufferPointer { f32ToBF16(xb, $0) } }
        bits.withUnsafeBufferPointer { bb in out.withUnsafeMutableBufferPointer { bf16ToF32(bb, $0) } }
        return out
    }
}
