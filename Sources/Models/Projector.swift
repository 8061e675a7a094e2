// PerceptionLM multi-modal projector and pooling (transformers 4.56.2
// models/perception_lm/modeling_perception_lm.py: PerceptionLMMultiModalProjector,
// PerceptionLMAdaptiveAvgPooling). GAR-SPEC §4.6.
//
// Per tile: tokens [G², D_v] (CLS removed) → linear_1 [G², D] → GELU (erf) → linear_2 [G², D]
// → adaptive average pool of the G×G grid to (G/r)×(G/r) (r = projector_pooling_ratio = 2; an exact
// r×r mean) → [(G/r)², D], row-major. D is the LLM width.
import Checkpoints
import Tensors

public final class Projector: Sendable {
    let linear1: LinearLayer   // [D, D_v]
    let linear2: LinearLayer   // [D, D]
    let grid: Int              // G (32)
    let pooling: Int           // r (2)

    public var outputTokens: Int { (grid / pooling) * (grid / pooling) }
    public var width: Int { linear2.outFeatures }

    /// Loads `mllm.model.multi_modal_projector.*`: the tensors of `keys`, read from the
    /// checkpoint's root scope `w`.
    init(keys: ProjectorKeys, grid: Int, pooling: Int, weights w: WeightScope, precision: Precision) throws {
        linear1 = try w.linear(keys.linear1Weight, bias: keys.linear1Bias, precision: precision)
        linear2 = try w.linear(keys.linear2Weight, bias: keys.linear2Bias, precision: precision)
        self.grid = grid
        self.pooling = pooling
    }

    /// One tile: `tokens [G², D_v]` → `out [(G/r)², D]`. `a`, `b`: scratch of `G²·D` floats each.
    func forward(tokens: UnsafePointer<Float>, out: UnsafeMutablePointer<Float>, a: UnsafeMutablePointer<Float>, b: UnsafeMutablePointer<Float>) {
        let rows = grid * grid, D = width
        let none = UnsafeMutableBufferPointer<Float>(start: nil, count: 0)
        linear1.apply(tokens, rows: rows, out: a, scratch: none)
        Kernels.gelu(UnsafeBufferPointer(start: a, count: rows * D), UnsafeMutableBufferPointer(start: a, count: rows * D))
        linear2.apply(a, rows: rows, out: b, scratch: none)
        Kernels.adaptiveAvgPool2d(UnsafeBufferPointer(start: b, count: rows * D), height: grid, width: grid, channels: D,
                                  outHeight: grid / pooling, outWidth: grid / pooling,
                                  out: UnsafeMutableBufferPointer(start: out, count: outputTokens * D))
    }
}
