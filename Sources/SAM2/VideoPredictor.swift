// STAND-IN until branch sam2loop lands: the declarations below are the agreed API of SAM 2.1's
// video mode (issue 13); the body is NOT SAM 2's video loop. Each frame is segmented in image mode
// (`SAM2Predictor`) with the object's last visible mask's box as the prompt; a prompted frame takes
// its prompt (a mask prompt is its own output). An object is visible where the image-mode object
// score is > 0 (its mask is empty otherwise, as SAM 2 forces it). The coordinator replaces this
// file with the real `SAM2VideoPredictor` at merge; only the call order and the outputs' shape are
// meant to match:
//   frame(t) is called: each prompted frame ascending, then forward pass ascending from the first
//   prompted frame, then backward pass descending; output gets each (frame, object) once, streaming.
import Tensors

public enum SAM2Prompt: Sendable { case points([(x: Float, y: Float, label: Int)]); case box(x1: Float, y1: Float, x2: Float, y2: Float); case mask([UInt8]) }
public struct SAM2ObjectPrompt: Sendable {
    public var object: Int; public var frame: Int; public var prompt: SAM2Prompt
    public init(object: Int, frame: Int, prompt: SAM2Prompt) { self.object = object; self.frame = frame; self.prompt = prompt }
}
public struct SAM2FrameOutput: Sendable {
    public var frame: Int, object: Int; public var mask: [UInt8]; public var objectScoreLogit: Float; public var visible: Bool
    public init(frame: Int, object: Int, mask: [UInt8], objectScoreLogit: Float, visible: Bool) {
        self.frame = frame; self.object = object; self.mask = mask; self.objectScoreLogit = objectScoreLogit; self.visible = visible
    }
}

public final class SAM2VideoPredictor: @unchecked Sendable {
    // STAND-IN until branch sam2loop lands.
    let predictor: SAM2Predictor

    init(predictor: SAM2Predictor) { self.predictor = predictor }

    public static func load(directory: String) throws -> SAM2VideoPredictor {
        SAM2VideoPredictor(predictor: SAM2Predictor(model: try SAM2Model.load(directory: directory)))
    }

    public func track(frameCount: Int, width: Int, height: Int, prompts: [SAM2ObjectPrompt],
                      frame: (Int) throws -> ImageU8, progress: ((Int, Int) -> Void)? = nil,
                      output: (SAM2FrameOutput) throws -> Void) throws {
        // STAND-IN until branch sam2loop lands.
        guard !prompts.isEmpty else { throw SAM2Error.invalidInput("no prompts to track") }
        for p in prompts where !(0 ..< frameCount).contains(p.frame) {
            throw SAM2Error.invalidInput("prompt on frame \(p.frame), the video has \(frameCount) frames")
        }
        let objects = Array(Set(prompts.map(\.object))).sorted()
        let firstPrompt = Dictionary(prompts.map { ($0.object, $0.frame) }, uniquingKeysWith: min)
        let promptFrames = Array(Set(prompts.map(\.frame))).sorted()
        let start = promptFrames[0], backStart = firstPrompt.values.max()!
        let total = promptFrames.count + (frameCount - start) + (backStart > 0 ? backStart + 1 : 0)
        var done = 0
        func step() { done += 1; progress?(done, total) }
        // Prompted frames: the prompt's own result (a later prompt of an object on a frame wins).
        var conditioned: [Int: [Int: SAM2FrameOutput]] = [:]
        for t in promptFrames {
            let image = try frame(t)
            let features = try predictor.encode(image)
            for p in prompts where p.frame == t {
                conditioned[t, default: [:]][p.object] = try segment(p.prompt, features, frame: t, object: p.object, width: width, height: height)
            }
            step()
        }
        // Forward then backward: each tracked object prompted with its last visible mask's box.
        // `emit(o, t)`: whether the pass outputs object o on frame t; `seed(o, t)`: whether t is
        // where the (backward) pass starts o from its prompt without outputting it again.
        func pass(_ frames: [Int], emit: (Int, Int) -> Bool, seed: (Int, Int) -> Bool) throws {
            var last: [Int: [UInt8]] = [:]
            for t in frames {
                var features: SAM2ImageFeatures? = nil
                for o in objects {
                    if seed(o, t), let c = conditioned[t]?[o] { last[o] = c.mask; continue }
                    guard emit(o, t) else { continue }
                    let out: SAM2FrameOutput
                    if let c = conditioned[t]?[o] {
                        out = c
                    } else if let previous = last[o], let box = Self.box(of: previous, width: width) {
                        if features == nil { features = try predictor.encode(try frame(t)) }
                        out = try segment(.box(x1: box.0, y1: box.1, x2: box.2, y2: box.3), features!, frame: t, object: o, width: width, height: height)
                    } else {
                        out = SAM2FrameOutput(frame: t, object: o, mask: [UInt8](repeating: 0, count: width * height), objectScoreLogit: -10, visible: false)
                    }
                    if out.visible { last[o] = out.mask }
                    try output(out)
                }
                step()
            }
        }
        try pass(Array(start ..< frameCount), emit: { o, t in t >= firstPrompt[o]! }, seed: { _, _ in false })
        if backStart > 0 {
            try pass(Array(stride(from: backStart, through: 0, by: -1)), emit: { o, t in t < firstPrompt[o]! },
                     seed: { o, t in t == firstPrompt[o]! })
        }
    }

    /// One prompt on encoded features; a mask prompt is its own output.
    func segment(_ prompt: SAM2Prompt, _ features: SAM2ImageFeatures, frame t: Int, object o: Int, width W: Int, height H: Int) throws -> SAM2FrameOutput {
        switch prompt {
        case .mask(let m):
            guard m.count == W * H else { throw SAM2Error.invalidInput("mask prompt of \(m.count) values for a \(W)×\(H) frame") }
            return SAM2FrameOutput(frame: t, object: o, mask: m, objectScoreLogit: 10, visible: m.contains(1))
        case .points(let points):
            return Self.output(try predictor.segment(features, width: W, height: H, points: points, multimaskOutput: false), frame: t, object: o, count: W * H)
        case let .box(x1, y1, x2, y2):
            return Self.output(try predictor.segment(features, width: W, height: H, box: (x1, y1, x2, y2), multimaskOutput: false), frame: t, object: o, count: W * H)
        }
    }

    static func output(_ r: SAM2Predictor.Result, frame t: Int, object o: Int, count: Int) -> SAM2FrameOutput {
        let visible = r.objectScoreLogit > 0
        return SAM2FrameOutput(frame: t, object: o, mask: visible ? r.masks[0] : [UInt8](repeating: 0, count: count),
                               objectScoreLogit: r.objectScoreLogit, visible: visible)
    }

    /// Inclusive box of a mask's nonzero pixels (nil when empty).
    static func box(of mask: [UInt8], width W: Int) -> (Float, Float, Float, Float)? {
        var x0 = Int.max, y0 = Int.max, x1 = -1, y1 = -1
        for (i, v) in mask.enumerated() where v != 0 {
            let x = i % W, y = i / W
            x0 = min(x0, x); x1 = max(x1, x); y0 = min(y0, y); y1 = max(y1, y)
        }
        return x1 < 0 ? nil : (Float(x0), Float(y0), Float(x1), Float(y1))
    }
}
