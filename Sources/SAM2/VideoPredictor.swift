// SAM 2.1 video propagation (transformers `Sam2VideoModel` driven through its inference session):
// prompts on any frames, several objects, a forward pass from the first prompted frame to the end,
// then a backward pass to frame 0, with SAM 2's occlusion handling. It chains the image-mode model
// (`SAM2Model`: Hiera, neck, prompt encoder, mask decoder) and the video components
// (`VideoComponents.swift`: memory bank, memory attention, memory encoder, object pointers).
//
// The reference call sequence reproduced (README "Video mode: the loop"): for each prompt, by
// frame ascending, `processor.add_inputs_to_inference_session(…)` then `model(session, frame_idx=f)`;
// then `model.propagate_in_video_iterator(session, start_frame_idx=first)` and, when first > 0,
// `propagate_in_video_iterator(session, start_frame_idx=first − 1, reverse=True)`.
//
// Memory stays bounded: frames are encoded when they are processed and dropped after; per object
// only what a later frame can read is kept (conditioning memories, the last `num_maskmem − 1`
// tracked memories and `max_ptrs − 1` pointers of the current pass, and the forward pass's first
// frames the backward pass will read).
import Checkpoints
import Foundation
import Tensors

/// A prompt for one object on one frame, in pixels of the `W×H` frame.
public enum SAM2Prompt: Sendable {
    /// Clicks; label 1 = on the object, 0 = background.
    case points([(x: Float, y: Float, label: Int)])
    case box(x1: Float, y1: Float, x2: Float, y2: Float)
    /// `H·W` bytes, 1 (non-zero) = object.
    case mask([UInt8])
}

public struct SAM2ObjectPrompt: Sendable {
    public var object: Int
    public var frame: Int
    public var prompt: SAM2Prompt
    public init(object: Int, frame: Int, prompt: SAM2Prompt) {
        self.object = object
        self.frame = frame
        self.prompt = prompt
    }
}

/// One object on one frame.
public struct SAM2FrameOutput: Sendable {
    public var frame: Int, object: Int
    /// `H·W` bytes at the frame's size (1 = object): the low-res logits upscaled bilinearly, > 0.
    public var mask: [UInt8]
    public var objectScoreLogit: Float
    /// `objectScoreLogit > 0` (SAM 2's occlusion decision).
    public var visible: Bool
    /// `[4E·4E]` low-res mask logits (the reference's `pred_masks`; −1024 where the object is absent).
    public var lowResLogits: Tensor

    public init(frame: Int, object: Int, mask: [UInt8], objectScoreLogit: Float, visible: Bool, lowResLogits: Tensor) {
        self.frame = frame
        self.object = object
        self.mask = mask
        self.objectScoreLogit = objectScoreLogit
        self.visible = visible
        self.lowResLogits = lowResLogits
    }
}

public final class SAM2VideoPredictor: @unchecked Sendable {
    public let model: SAM2Model
    public let video: SAM2VideoComponents
    /// `[E², C]` sine position encoding of the embedding grid (the neck's, fed to memory attention).
    let visionPositional: Tensor
    /// `[E², 64]` the memories' position encoding (the same for every frame: one copy shared by the bank).
    let memoryPositional: Tensor

    public init(model: SAM2Model, video: SAM2VideoComponents) throws {
        let c = model.config, v = video.config
        let E = c.embeddingSize, C = c.visionConfig.fpnHiddenSize
        guard v.imageSize == c.imageSize, v.memoryAttentionHiddenSize == C, v.memoryEncoderHiddenSize == C,
              v.memoryAttentionRopeFeatSizes == [E, E], v.imageSize == 16 * E,
              v.imageSize / v.maskDownsamplerTotalStride == E else {
            throw SAM2Error.invalidInput("the video config (image size \(v.imageSize), memory width \(v.memoryAttentionHiddenSize)) does not fit the image model (\(c.imageSize), \(E)² grid of width \(C))")
        }
        self.model = model
        self.video = video
        visionPositional = sinePositionalEncoding(side: E, channels: C)
        memoryPositional = sinePositionalEncoding(side: E, channels: v.memoryEncoderOutputChannels)
    }

    /// Loads a video-capable checkpoint (`model_type: sam2_video`): the image-mode keys through
    /// `SAM2Model.load`, the video-mode keys through `SAM2VideoComponents.load`, both strict, packed
    /// for `precision` (f32: exact against the reference; `SAM2Model.defaultPrecision` is the fast one).
    public static func load(directory: String, precision: Precision = .f32) throws -> SAM2VideoPredictor {
        let model = try SAM2Model.load(directory: directory, precision: precision)
        guard model.config.modelType == "sam2_video" else {
            throw SAM2Error.unsupportedConfig(file: (directory as NSString).appendingPathComponent("config.json"),
                                              problem: "model_type \(model.config.modelType) has no video mode; tracking needs a sam2_video checkpoint (as facebook/sam2.1-hiera-tiny)")
        }
        return try SAM2VideoPredictor(model: model, video: try SAM2VideoComponents.load(directory: directory, precision: precision))
    }

    /// Tracks `prompts` through frames 0..<frameCount (all W×H). `frame(t)` returns frame t (RGB ImageU8);
    /// it is called in this order: each prompted frame ascending, then the forward pass ascending from the
    /// first prompted frame, then the backward pass descending — a frame may be asked for more than once.
    /// `output` receives each (frame, object) result exactly once, as soon as it is final (streaming).
    /// `progress(done, total)` after each frame of each pass.
    public func track(frameCount: Int, width: Int, height: Int, prompts: [SAM2ObjectPrompt],
                      frame: (Int) throws -> ImageU8, progress: ((Int, Int) -> Void)? = nil,
                      output: (SAM2FrameOutput) throws -> Void) throws {
        try validate(frameCount: frameCount, width: width, height: height, prompts: prompts)
        let promptFrames = Array(Set(prompts.map(\.frame))).sorted()
        let first = promptFrames[0]
        var objects: [Int] = []
        for p in prompts where !objects.contains(p.object) { objects.append(p.object) }
        var tracks = [Int: ObjectTrack]()
        let total = promptFrames.count + frameCount
        var done = 0
        let session = Session(frameCount: frameCount, width: width, height: height, first: first)

        // Conditioning frames: each prompt on its own, without memory.
        for f in promptFrames {
            let encoded = try encode(try frame(f), frame: f, session: session)
            for p in prompts where p.frame == f {
                let step = conditioningStep(p.prompt, encoded: encoded, session: session)
                tracks[p.object, default: ObjectTrack()].conditioning.append((f, step.memory))
                try output(step.output(frame: f, object: p.object, session: session))
            }
            done += 1
            progress?(done, total)
        }
        // Forward from the first prompted frame, then backward from the frame before it.
        let passes: [(frames: [Int], reverse: Bool)] = [(Array(first ..< frameCount), false), (Array((0 ..< first).reversed()), true)]
        for pass in passes {
            for t in pass.frames {
                let pending = objects.filter { o in !tracks[o]!.conditioning.contains { $0.frame == t } }
                if !pending.isEmpty {
                    let encoded = try encode(try frame(t), frame: t, session: session)
                    for o in pending {
                        let step = trackingStep(frame: t, reverse: pass.reverse, track: tracks[o]!, encoded: encoded, session: session)
                        tracks[o]!.tracked[t] = step.memory
                        tracks[o]!.forget(after: t, reverse: pass.reverse, session: session, config: video.config)
                        try output(step.output(frame: t, object: o, session: session))
                    }
                }
                done += 1
                progress?(done, total)
            }
        }
    }

    // MARK: - Checks

    private func validate(frameCount: Int, width W: Int, height H: Int, prompts: [SAM2ObjectPrompt]) throws {
        func fail(_ problem: String) -> SAM2Error { .invalidInput(problem) }
        guard frameCount > 0, W > 0, H > 0 else { throw fail("video of \(frameCount) frames of \(W)×\(H): nothing to track") }
        guard !prompts.isEmpty else { throw fail("no prompt: give each object a box, clicks or a mask on some frame") }
        var seen = Set<[Int]>()
        for p in prompts {
            let who = "prompt for object \(p.object) on frame \(p.frame)"
            guard (0 ..< frameCount).contains(p.frame) else {
                throw fail("\(who): frame \(p.frame) is outside the video's frames 0–\(frameCount - 1)")
            }
            guard seen.insert([p.object, p.frame]).inserted else { throw fail("\(who): the object has two prompts on this frame") }
            func inside(_ x: Float, _ y: Float) -> Bool { x.isFinite && y.isFinite && x >= 0 && x <= Float(W) && y >= 0 && y <= Float(H) }
            switch p.prompt {
            case let .points(points):
                guard !points.isEmpty else { throw fail("\(who): no clicks") }
                for q in points {
                    guard q.label == 0 || q.label == 1 else { throw fail("\(who): click label \(q.label) (1 on the object, 0 background)") }
                    guard inside(q.x, q.y) else { throw fail("\(who): click (\(q.x), \(q.y)) is outside the \(W)×\(H) frame") }
                }
            case let .box(x1, y1, x2, y2):
                guard inside(x1, y1), inside(x2, y2), x1 < x2, y1 < y2 else {
                    throw fail("\(who): box (\(x1), \(y1))–(\(x2), \(y2)) is empty or outside the \(W)×\(H) frame")
                }
            case let .mask(mask):
                guard mask.count == W * H else { throw fail("\(who): mask has \(mask.count) bytes, expected \(W)×\(H) = \(W * H)") }
                guard mask.contains(where: { $0 != 0 }) else { throw fail("\(who): mask is empty") }
            }
        }
    }

    // MARK: - One frame

    /// Per-call constants.
    struct Session {
        let frameCount: Int, width: Int, height: Int, first: Int
    }

    /// A frame through Hiera and the neck (FPN level 2 without the no-memory embedding; levels 0
    /// and 1 through the decoder's `conv_s0` / `conv_s1`).
    struct EncodedFrame {
        let pixelFeatures: Tensor, highResolution0: Tensor, highResolution1: Tensor
    }

    private func encode(_ image: ImageU8, frame t: Int, session s: Session) throws -> EncodedFrame {
        guard image.width == s.width, image.height == s.height, image.channels == 3 else {
            throw SAM2Error.invalidInput("frame \(t) is \(image.width)×\(image.height)×\(image.channels), expected RGB \(s.width)×\(s.height)")
        }
        let levels = model.neck(model.hiera(try SAM2Processing.preprocess(image, size: model.config.imageSize)))
        return EncodedFrame(pixelFeatures: levels[2].features, highResolution0: model.maskDecoder.convS0(levels[0].features),
                            highResolution1: model.maskDecoder.convS1(levels[1].features))
    }

    /// What one (frame, object) step produces.
    struct Step {
        let lowRes: Tensor  // [1, L²]
        let objectScoreLogit: Float
        let memory: SAM2FrameMemory

        func output(frame: Int, object: Int, session s: Session) -> SAM2FrameOutput {
            let logits = SAM2Processing.upscale(lowRes, width: s.width, height: s.height)
            return SAM2FrameOutput(frame: frame, object: object, mask: SAM2Processing.binarize(logits)[0], objectScoreLogit: objectScoreLogit,
                                   visible: objectScoreLogit > 0, lowResLogits: lowRes.reshaped([lowRes.count]))
        }
    }

    /// `_run_single_frame_inference` on a prompted frame (`is_init_cond_frame`): clicks or a box
    /// (as two points labelled 2 and 3) through the decoder on the features + no-memory
    /// embedding; a mask through `_use_mask_as_output`.
    private func conditioningStep(_ prompt: SAM2Prompt, encoded: EncodedFrame, session s: Session) -> Step {
        let S = model.config.imageSize
        func scaled(_ x: Float, _ y: Float, label: Int) -> SAM2Point {
            let (sx, sy) = SAM2Processing.normalize(x: x, y: y, width: s.width, height: s.height, size: S)
            return SAM2Point(x: sx, y: sy, label: label)
        }
        let points: [SAM2Point]
        switch prompt {
        case let .points(clicks): points = clicks.map { scaled($0.x, $0.y, label: $0.label) }
        case let .box(x1, y1, x2, y2): points = [scaled(x1, y1, label: 2), scaled(x2, y2, label: 3)]
        case let .mask(mask): return maskAsOutput(mask, encoded: encoded, session: s)
        }
        var image = encoded.pixelFeatures
        image.withUnsafeMutableBufferPointer { e in
            model.noMemoryEmbedding.withUnsafeBufferPointer { Kernels.addRowVector(e, $0, rows: encoded.pixelFeatures.rowCount, cols: $0.count) }
        }
        // `_use_multimask`: an initial conditioning frame with 0 or 1 point.
        return samStep(image: image, encoded: encoded, points: points, multimask: points.count <= 1, fromPrompt: true)
    }

    /// A frame without a prompt: the memory bank conditions the features, then the decoder
    /// (multimask output, as `multimask_output_for_tracking`).
    private func trackingStep(frame t: Int, reverse: Bool, track: ObjectTrack, encoded: EncodedFrame, session s: Session) -> Step {
        let bank = video.memoryBank(frame: t, reverse: reverse, numFrames: s.frameCount, conditioning: track.conditioning, tracked: track.tracked)
        let conditioned = video.conditionedFeatures(current: encoded.pixelFeatures, currentPE: visionPositional, bank: bank)
        return samStep(image: conditioned, encoded: encoded, points: [], multimask: true, fromPrompt: false)
    }

    /// `_single_frame_forward` on given image features, then the new memory.
    private func samStep(image: Tensor, encoded: EncodedFrame, points: [SAM2Point], multimask: Bool, fromPrompt: Bool) -> Step {
        let decoded = decode(image: image, encoded: encoded, points: points, maskPrompt: nil, multimask: multimask)
        let score = decoded.objectScoreLogit
        var lowRes = decoded.lowRes
        if !(score > 0) { lowRes = Tensor(shape: lowRes.shape, repeating: -1024) }  // NO_OBJ_SCORE
        let highRes = upscaleToModel(lowRes)
        let pointer = video.pointers.pointer(token: decoded.token, objectScoreLogit: score)
        let memory = video.memoryEncoder(pixelFeatures: encoded.pixelFeatures, highResMasks: highRes, objectScoreLogit: score, maskFromPrompt: fromPrompt)
        return Step(lowRes: lowRes, objectScoreLogit: score,
                    memory: SAM2FrameMemory(features: memory.features, positional: memoryPositional, pointer: pointer))
    }

    /// The mask decoder: the selected low-res mask `[1, L²]`, the object score and the SAM output
    /// token of that mask (multimask: the best predicted IoU among masks 1…; otherwise token 0,
    /// even when the stability rule picks another mask, as the reference).
    private func decode(image: Tensor, encoded: EncodedFrame, points: [SAM2Point], maskPrompt: Tensor?,
                        multimask: Bool) -> (lowRes: Tensor, objectScoreLogit: Float, token: Tensor) {
        let sparse = model.promptEncoder.sparse(points: points, box: nil)
        let dense = model.promptEncoder.dense(mask: maskPrompt)
        var tokens: Tensor?
        let out = model.maskDecoder(image: image, imagePE: model.imagePositionalEmbedding, sparse: sparse, dense: dense,
                                    featS0: encoded.highResolution0, featS1: encoded.highResolution1, side: model.config.embeddingSize,
                                    tap: { name, value in if name == "decoder.tokens" { tokens = value } })
        let C = model.config.maskDecoderConfig.hiddenSize, pixels = out.masks.rowLength
        func row(_ t: Tensor, _ i: Int, _ n: Int) -> Tensor { Tensor(shape: [1, n], Array(t.storage[i * n ..< (i + 1) * n])) }
        var index = 0
        let lowRes: Tensor
        if multimask {
            index = 1
            for i in 2 ..< model.maskDecoder.numMaskTokens where out.iou[i] > out.iou[index] { index = i }
            lowRes = row(out.masks, index, pixels)
        } else {
            lowRes = model.maskDecoder.select(out, multimaskOutput: false).masks
        }
        // Decoder tokens: object score, IoU, then the mask tokens.
        return (lowRes, out.objectScoreLogit, row(tokens!, 2 + index, C).reshaped([C]))
    }

    /// `_use_mask_as_output`: the prompt mask (resized to `S×S` with antialiased bilinear and
    /// thresholded at 0.5 by the processor) is the output — `·20 − 10` as logits, antialiased ×1/4
    /// for the low-res mask; the pointer comes from the decoder on the raw features with the mask,
    /// through `mask_downsample`, as a dense prompt; the object score is +10 (the mask is not empty).
    private func maskAsOutput(_ mask: [UInt8], encoded: EncodedFrame, session s: Session) -> Step {
        let S = model.config.imageSize, L = S / 4
        var binary = mask.map { Float($0 != 0 ? 1 : 0) }
        if s.width != S || s.height != S {
            binary = resizeBilinearAntialias(binary, width: s.width, height: s.height, toWidth: S, toHeight: S).map { $0 >= 0.5 ? 1 : 0 }
        }
        let highRes = Tensor(shape: [S, S], binary.map { $0 * 20 - 10 })
        let lowRes = Tensor(shape: [1, L * L], resizeBilinearAntialias(highRes.storage, width: S, height: S, toWidth: L, toHeight: L))
        var downsampled = Tensor(shape: [L * L, 1])
        binary.withUnsafeBufferPointer { xb in
            video.maskDownsampleWeight.withUnsafeBufferPointer { wb in
                video.maskDownsampleBias.withUnsafeBufferPointer { bb in
                    downsampled.withUnsafeMutableBufferPointer {
                        Kernels.conv2d(image: xb, channels: 1, height: S, width: S, kernel: 4, stride: 4, padding: 0, weight: wb, bias: bb, outChannels: 1, out: $0)
                    }
                }
            }
        }
        let decoded = decode(image: encoded.pixelFeatures, encoded: encoded, points: [], maskPrompt: downsampled.reshaped([L, L]), multimask: true)
        let score: Float = binary.contains { $0 > 0 } ? 10 : -10
        let pointer = video.pointers.pointer(token: decoded.token, objectScoreLogit: score)
        let memory = video.memoryEncoder(pixelFeatures: encoded.pixelFeatures, highResMasks: highRes, objectScoreLogit: score, maskFromPrompt: true)
        return Step(lowRes: lowRes, objectScoreLogit: score,
                    memory: SAM2FrameMemory(features: memory.features, positional: memoryPositional, pointer: pointer))
    }

    /// Low-res logits `[1, L²]` → `[S, S]` (bilinear, no antialias), the memory encoder's input.
    private func upscaleToModel(_ lowRes: Tensor) -> Tensor {
        let S = model.config.imageSize
        return SAM2Processing.upscale(lowRes, width: S, height: S).reshaped([S, S])
    }
}

/// One object's memory bank.
struct ObjectTrack {
    /// Prompted frames in prompt order.
    var conditioning: [(frame: Int, memory: SAM2FrameMemory)] = []
    /// Tracked frames still readable (features emptied once only the pointer can be read).
    var tracked: [Int: SAM2FrameMemory] = [:]

    /// Drops what no later frame can read after frame `t` of a pass: a frame `f` is read as a
    /// memory at offsets 1 … num_maskmem − 1 and as a pointer at distances 1 … max_ptrs − 1 of a
    /// later frame of this pass — and, during the forward pass, of the backward pass's first frame
    /// (`first − 1`).
    mutating func forget(after t: Int, reverse: Bool, session s: SAM2VideoPredictor.Session, config c: SAM2VideoConfig) {
        let memories = c.numMaskmem - 1, pointers = min(s.frameCount, c.maxObjectPointersInEncoder) - 1
        func readable(_ f: Int, within d: Int) -> Bool {
            if reverse { return f <= t - 1 + d }
            return f >= t + 1 - d || (s.first > 0 && f <= s.first - 1 + d)
        }
        for (f, m) in tracked {
            if !readable(f, within: pointers) {
                tracked[f] = nil
            } else if !readable(f, within: memories), m.features.count > 0 {
                tracked[f] = SAM2FrameMemory(features: Tensor(shape: [0, m.features.rowLength]), positional: m.positional, pointer: m.pointer)
            }
        }
    }
}

/// `F.interpolate(mode="bilinear", antialias=True, align_corners=False)` of one float plane
/// `[H, W]` → `[Ho, Wo]`, width pass then height pass (PyTorch's CPU separable kernel): triangle
/// filter stretched by the scale when downsampling, weights normalised per output pixel.
func resizeBilinearAntialias(_ x: [Float], width W: Int, height H: Int, toWidth Wo: Int, toHeight Ho: Int) -> [Float] {
    func axis(_ n: Int, _ m: Int) -> [(start: Int, weights: [Float])] {
        let scale = Float(n) / Float(m)
        let support: Float = scale >= 1 ? scale : 1, invScale: Float = scale >= 1 ? 1 / scale : 1
        return (0 ..< m).map { i in
            let center = scale * (Float(i) + 0.5)
            let lo = max(Int(center - support + 0.5), 0), hi = min(Int(center + support + 0.5), n)
            var w = (lo ..< hi).map { j in max(0, 1 - abs((Float(j) - center + 0.5) * invScale)) }
            let total = w.reduce(0, +)
            if total != 0 { w = w.map { $0 / total } }
            return (lo, w)
        }
    }
    var mid = [Float](repeating: 0, count: H * Wo)
    let ax = axis(W, Wo)
    for y in 0 ..< H {
        for (i, a) in ax.enumerated() {
            var acc: Float = 0
            for (j, w) in a.weights.enumerated() { acc += x[y * W + a.start + j] * w }
            mid[y * Wo + i] = acc
        }
    }
    var out = [Float](repeating: 0, count: Ho * Wo)
    for (i, a) in axis(H, Ho).enumerated() {
        for xo in 0 ..< Wo {
            var acc: Float = 0
            for (j, w) in a.weights.enumerated() { acc += mid[(a.start + j) * Wo + xo] * w }
            out[i * Wo + xo] = acc
        }
    }
    return out
}
