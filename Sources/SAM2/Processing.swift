// SAM 2's image processor and post-processing as transformers 4.56.2 runs them
// (`Sam2ImageProcessorFast`, `Sam2Processor`):
//  * preprocess: RGB uint8 → bilinear antialiased resize to the model's square `S×S` (aspect ratio
//    NOT kept, no padding; torchvision v2's native uint8 path), then (x − 255·mean) / (255·std) in
//    Float32 with ImageNet mean/std (rescale and normalise fused as the fast processor does);
//  * prompt coordinates: x · (S / width), y · (S / height) (Float32);
//  * postprocess: low-res logits `[k, 4E, 4E]` → bilinear (no antialias) to the original size,
//    binarised at logit > 0.
import Tensors

public enum SAM2Processing {
    static let mean: [Double] = [0.485, 0.456, 0.406]
    static let std: [Double] = [0.229, 0.224, 0.225]

    /// `image`: RGB (3 channels). Returns `[3, S, S]` pixel values.
    public static func preprocess(_ image: ImageU8, size S: Int) throws -> Tensor {
        guard image.channels == 3, image.width > 0, image.height > 0 else {
            throw SAM2Error.invalidInput("image must be RGB and non-empty (got \(image.width)×\(image.height)×\(image.channels))")
        }
        var resized = [UInt8](repeating: 0, count: S * S * 3)
        image.pixels.withUnsafeBufferPointer { src in
            resized.withUnsafeMutableBufferPointer {
                Kernels.resizeBilinearAntialias(src, width: image.width, height: image.height, channels: 3, into: $0, width: S, height: S)
            }
        }
        // Fused rescale + normalise: mean and std scaled by 1/rescale_factor = 255 in Double, then Float32.
        let m = mean.map { Float($0 * 255) }, s = std.map { Float($0 * 255) }
        return Tensor(shape: [3, S, S], unsafeUninitialized: { out in
            for c in 0 ..< 3 { for p in 0 ..< S * S { out[c * S * S + p] = (Float(resized[p * 3 + c]) - m[c]) / s[c] } }
        })
    }

    /// A point in original-image pixels → model-input coordinates.
    public static func normalize(x: Float, y: Float, width W: Int, height H: Int, size S: Int) -> (Float, Float) {
        (x * Float(Double(S) / Double(W)), y * Float(Double(S) / Double(H)))
    }

    /// Low-res logits `[k, L·L]` → `[k, H·W]` logits at the original size (bilinear).
    public static func upscale(_ lowRes: Tensor, width W: Int, height H: Int) -> Tensor {
        let k = lowRes.rowCount, L = Int(Double(lowRes.rowLength).squareRoot())
        precondition(L * L == lowRes.rowLength, "upscale: \(lowRes.shape) is not square masks")
        var out = Tensor(shape: [k, H * W])
        lowRes.withUnsafeBufferPointer { src in
            out.withUnsafeMutableBufferPointer { Kernels.interpolateBilinear(src, channels: k, height: L, width: L, out: $0, height: H, width: W) }
        }
        return out
    }

    /// Binary masks (1 where logit > 0), `[k][H·W]`.
    public static func binarize(_ logits: Tensor) -> [[UInt8]] {
        let n = logits.rowLength
        return (0 ..< logits.rowCount).map { r in logits.storage[r * n ..< (r + 1) * n].map { $0 > 0 ? 1 : 0 } }
    }
}

/// Image in, masks out: preprocessing, the model, postprocessing, for prompts in original-image pixels.
public struct SAM2Predictor: Sendable {
    public let model: SAM2Model
    public init(model: SAM2Model) { self.model = model }

    public struct Result: Sendable {
        /// `[k, H·W]` binary masks at the image size.
        public var masks: [[UInt8]]
        public var iouScores: [Float]
        public var objectScoreLogit: Float
        /// `[k, 4E·4E]` low-res logits (a mask prompt for a refinement).
        public var lowResLogits: Tensor
    }

    /// Image features for `image` (run once, then `segment` per prompt).
    public func encode(_ image: ImageU8) throws -> SAM2ImageFeatures {
        model.encode(try SAM2Processing.preprocess(image, size: model.config.imageSize))
    }

    /// Points `(x, y, label)` and box `(x0, y0, x1, y1)` in pixels of the `width×height` image.
    public func segment(_ features: SAM2ImageFeatures, width W: Int, height H: Int,
                        points: [(x: Float, y: Float, label: Int)] = [], box: (Float, Float, Float, Float)? = nil,
                        maskPrompt: Tensor? = nil, multimaskOutput: Bool = true) throws -> Result {
        let S = model.config.imageSize
        let p = points.map { pt in
            let (x, y) = SAM2Processing.normalize(x: pt.x, y: pt.y, width: W, height: H, size: S)
            return SAM2Point(x: x, y: y, label: pt.label)
        }
        let b = box.map { bx in
            let (x0, y0) = SAM2Processing.normalize(x: bx.0, y: bx.1, width: W, height: H, size: S)
            let (x1, y1) = SAM2Processing.normalize(x: bx.2, y: bx.3, width: W, height: H, size: S)
            return SAM2Box(x0: x0, y0: y0, x1: x1, y1: y1)
        }
        let prediction = try model.predict(features, points: p, box: b, maskPrompt: maskPrompt, multimaskOutput: multimaskOutput)
        let logits = SAM2Processing.upscale(prediction.lowResMasks, width: W, height: H)
        return Result(masks: SAM2Processing.binarize(logits), iouScores: prediction.iouScores,
                      objectScoreLogit: prediction.objectScoreLogit, lowResLogits: prediction.lowResMasks)
    }
}
