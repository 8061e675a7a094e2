// SAM 2's FPN neck (transformers `Sam2VisionNeck`): a 1×1 lateral convolution per Hiera stage to
// `fpn_hidden_size`, walked from the coarsest stage down; at the `fpn_top_down_levels` the coarser
// result is upsampled ×2 (nearest) and added. The image-mode model keeps the finest
// `num_feature_levels` levels (strides 4, 8, 16 for SAM 2.1). The neck's sine position encodings
// feed only the video memory path and are not computed here.
import Checkpoints
import Tensors

public struct FPNNeck: Sendable {
    /// Lateral convolution of stage `i` (the reference's `convs[n − i]`).
    let laterals: [Linear]
    let topDownLevels: [Int]
    let numLevels: Int

    init(_ w: SAM2Weights, config v: SAM2Config.Vision) throws {
        let stages = v.backboneChannelList.count
        var lateral = [Linear?](repeating: nil, count: stages)
        for (j, channels) in v.backboneChannelList.enumerated() {
            lateral[stages - 1 - j] = try Linear(conv1x1: w, "convs.\(j)", in: channels, out: v.fpnHiddenSize)
        }
        laterals = lateral.map { $0! }
        topDownLevels = v.fpnTopDownLevels
        numLevels = v.numFeatureLevels
    }

    /// Stage outputs (finest first) → FPN levels `0 ..< numLevels` (finest first), channels-last.
    func callAsFunction(_ stages: [(features: Tensor, side: Int)], tap: SAM2Tap? = nil) -> [(features: Tensor, side: Int)] {
        let n = stages.count - 1
        var levels = [(features: Tensor, side: Int)?](repeating: nil, count: stages.count)
        var previous: (features: Tensor, side: Int)? = nil
        for i in stride(from: n, through: 0, by: -1) {
            var features = laterals[i](stages[i].features)
            let side = stages[i].side
            if topDownLevels.contains(i) && i != n, let prev = previous {
                precondition(prev.side * 2 == side, "FPN: level \(i + 1) side \(prev.side) is not half of \(side)")
                var up = Tensor(shape: [side * side, features.rowLength])
                prev.features.withUnsafeBufferPointer { pb in
                    up.withUnsafeMutableBufferPointer {
                        Kernels.upsampleNearest2x(pb, height: prev.side, width: prev.side, channels: features.rowLength, out: $0)
                    }
                }
                Ops.addInPlace(&features, up)
            }
            previous = (features, side)
            levels[i] = (features, side)
        }
        let kept = (0 ..< numLevels).map { levels[$0]! }
        for (i, level) in kept.enumerated() { tap?("fpn.level\(i)", level.features) }
        return kept
    }
}
