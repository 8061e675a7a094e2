// The library entry point: prompts on some frames → a mask per object per frame.
//
//     let tracks = try Tracker.track(frames: frames, prompts: [
//         ObjectPrompt(name: "dog", frame: 0, prompt: .box(PixelBox(x: 10, y: 20, width: 80, height: 60))),
//     ])
//     tracks.objects[0].frames[t].mask        // Mask? at the frames' own size (nil: not visible / lost)
//
// `frames` are the frames to track, in time order, at a density the tracker needs (every decoded
// frame at ≤ 15 fps is a good default; a VLM that later samples 8 frames picks them from these).
// Frames are tracked at a working size whose long side is at most `Options.maxSide` (854, DAVIS
// 480p); masks are returned at the frames' own size. Each object is propagated forward from each
// of its prompts up to its next prompt (a later prompt overrides from its frame on) and backward
// from its first prompt to frame 0. All objects share the flow computation of a pass; otherwise
// they are tracked independently: masks may overlap or nest (a person and their hat), and the same
// region given twice gives two identical tracks.
import Video

/// The prompt of one object on one frame (`frame` indexes the `frames` given to the tracker).
public struct ObjectPrompt: Sendable {
    public var name: String
    public var frame: Int
    public var prompt: RegionPrompt
    public init(name: String, frame: Int, prompt: RegionPrompt) { self.name = name; self.frame = frame; self.prompt = prompt }
    /// How errors and warnings name it.
    var what: String { "object '\(name)' on frame \(frame)" }
}

/// An object prompt whose prompt is checked (`Tracker.checkPrompts`, or `PromptSegmenter.validate`
/// by the caller); `frame` indexes the frames it is tracked on.
public struct CheckedObjectPrompt: Sendable {
    public var name: String
    public var frame: Int
    public var prompt: CheckedPrompt
    public init(name: String, frame: Int, prompt: CheckedPrompt) { self.name = name; self.frame = frame; self.prompt = prompt }
    var what: String { ObjectPrompt(name: name, frame: frame, prompt: prompt.prompt).what }
}

/// One object on one frame.
public struct TrackedMask: Sendable {
    /// The mask at the frame's size; nil when the object is not visible there (empty), lost,
    /// or was never reached.
    public var mask: Mask?
    /// 0...1 (1 on prompted frames).
    public var confidence: Float
    /// The tracker gave up on the object here rather than invent a mask.
    public var lost: Bool
    public init(mask: Mask?, confidence: Float, lost: Bool) { self.mask = mask; self.confidence = confidence; self.lost = lost }
}

/// One object over all tracked frames.
public struct MaskTrack: Sendable {
    public var name: String
    public var frames: [TrackedMask]
    public init(name: String, frames: [TrackedMask]) { self.name = name; self.frames = frames }
}

/// Every object over all tracked frames. Objects are independent: a pixel may belong to several.
public struct MaskTracks: Sendable {
    public var width: Int, height: Int
    public var objects: [MaskTrack]
    /// One line per prompt the segmenter could not separate, whose box / click disc / strokes
    /// became the mask instead (`PromptSegmenter.maskOrFallback`); empty otherwise.
    public var warnings: [String] = []
    public var frameCount: Int { objects.first?.frames.count ?? 0 }
    public init(width: Int, height: Int, objects: [MaskTrack], warnings: [String] = []) {
        self.width = width; self.height = height; self.objects = objects; self.warnings = warnings
    }

    /// The label map of frame t (label k + 1 = object k; where objects overlap, the earlier
    /// object's label is drawn — `LabelMap(masks:)`).
    public func labelMap(at t: Int) -> LabelMap {
        LabelMap(width: width, height: height, masks: objects.map { $0.frames[t].mask })
    }
}

/// The prompts of a tracking request as masks on their frames (`Tracker.promptMasks`), what
/// `Tracker.propagate` starts from.
public struct PromptMasks: Sendable {
    /// One prompt's mask: object index (into `names`), frame index, mask at the frames' size.
    public struct Entry: Sendable {
        public var object: Int, frame: Int, mask: Mask
        public init(object: Int, frame: Int, mask: Mask) { self.object = object; self.frame = frame; self.mask = mask }
    }
    /// The frames' size.
    public var width: Int, height: Int
    /// Object names in order of first appearance.
    public var names: [String] = []
    /// In prompt order (on the same frame, a later prompt of an object overrides an earlier one).
    public var masks: [Entry] = []
    /// Prompts the segmenter could not separate (see `MaskTracks.warnings`).
    public var warnings: [String] = []
    public init(width: Int, height: Int) { self.width = width; self.height = height }
}

public enum Tracker {
    public struct Options: Sendable {
        /// Long side of the working resolution.
        public var maxSide = 854
        public init() {}
    }

    /// Tracks the prompted objects through `frames`: `promptMasks` then `propagate`. Throws
    /// `TrackingError` for bad prompts (frame past the end, mask of the wrong size or empty, box
    /// outside the frame, ...); a valid box / click / scribble the segmenter cannot separate falls
    /// back to the prompt's own area (`MaskTracks.warnings` says so).
    /// `progress(done, total)` is called after each processed frame.
    public static func track(frames: [RGBImage], prompts: [ObjectPrompt], options: Options = Options(),
                             propagator: MaskPropagator? = nil,
                             progress: ((Int, Int) -> Void)? = nil) throws -> MaskTracks {
        try propagate(promptMasks(frames: frames, prompts: prompts), through: frames, options: options,
                      propagator: propagator, progress: progress)
    }

    /// Stage 1, prompts to masks: checks the frames and every prompt (once, `checkPrompts`), then
    /// segments each prompt on its frame at the frames' own size.
    public static func promptMasks(frames: [RGBImage], prompts: [ObjectPrompt]) throws -> PromptMasks {
        let (W, H) = try checkFrames(frames, promptCount: prompts.count)
        return try segment(try checkPrompts(prompts, frameCount: frames.count, width: W, height: H), on: frames)
    }

    /// Checks the frames of a tracking request: at least one, all of one size, and some prompt.
    /// Returns the frames' size.
    static func checkFrames(_ frames: [RGBImage], promptCount: Int) throws -> (width: Int, height: Int) {
        guard let first = frames.first else { throw TrackingError.invalidInput("no frames to track") }
        guard promptCount > 0 else { throw TrackingError.invalidInput("no object prompt given") }
        for (i, f) in frames.enumerated() where f.width != first.width || f.height != first.height {
            throw TrackingError.sizeMismatch(what: "frame \(i)", got: (f.width, f.height), expected: (first.width, first.height))
        }
        return (first.width, first.height)
    }

    /// The one check of object prompts: each frame index in `0..<frameCount` and each prompt valid
    /// on a W×H frame (`PromptSegmenter.validate`).
    public static func checkPrompts(_ prompts: [ObjectPrompt], frameCount: Int, width W: Int, height H: Int) throws -> [CheckedObjectPrompt] {
        try prompts.map { p in
            guard p.frame >= 0 && p.frame < frameCount else { throw TrackingError.frameOutOfRange(frame: p.frame, count: frameCount) }
            return CheckedObjectPrompt(name: p.name, frame: p.frame,
                                       prompt: try PromptSegmenter.validate(p.prompt, width: W, height: H, what: p.what))
        }
    }

    /// Segments checked prompts (checked against the frames' size, frames checked) on their frames.
    /// `segmenter`: nil = GrabCut (`PromptSegmenter.maskOrFallback`), else that segmenter with the
    /// same fallback.
    static func segment(_ prompts: [CheckedObjectPrompt], on frames: [RGBImage], segmenter: PromptMaskSegmenter? = nil) throws -> PromptMasks {
        // Objects in order of first appearance of their name.
        var out = PromptMasks(width: frames[0].width, height: frames[0].height)
        for p in prompts where !out.names.contains(p.name) { out.names.append(p.name) }
        for p in prompts {
            let (mask, warning) = try segmenter.map { try PromptSegmenter.maskOrFallback(for: p.prompt, on: frames[p.frame], what: p.what, segmenter: $0) }
                ?? PromptSegmenter.maskOrFallback(for: p.prompt, on: frames[p.frame], what: p.what)
            if let warning { out.warnings.append(warning) }
            out.masks.append(PromptMasks.Entry(object: out.names.firstIndex(of: p.name)!, frame: p.frame, mask: mask))
        }
        return out
    }

    /// Stage 2, propagation: each object forward from each of its prompt masks and backward from
    /// its first one, at the working size; masks come back at the frames' size.
    public static func propagate(_ prompted: PromptMasks, through frames: [RGBImage], options: Options = Options(),
                                 propagator: MaskPropagator? = nil,
                                 progress: ((Int, Int) -> Void)? = nil) throws -> MaskTracks {
        let W = prompted.width, H = prompted.height, names = prompted.names
        guard !frames.isEmpty, !prompted.masks.isEmpty else { throw TrackingError.invalidInput("no frames or no prompt masks to propagate") }
        for (i, f) in frames.enumerated() where f.width != W || f.height != H {
            throw TrackingError.sizeMismatch(what: "frame \(i)", got: (f.width, f.height), expected: (W, H))
        }
        for e in prompted.masks where e.frame < 0 || e.frame >= frames.count {
            throw TrackingError.frameOutOfRange(frame: e.frame, count: frames.count)
        }
        // Working resolution.
        let scale = min(1, Double(options.maxSide) / Double(max(W, H)))
        let w = max(1, Int((Double(W) * scale).rounded())), h = max(1, Int((Double(H) * scale).rounded()))
        let work = frames.map { w == W && h == H ? $0 : resizeRGB($0, width: w, height: h) }
        // Prompt masks at the working size, keyed by frame then object index (a later prompt wins).
        var promptMasks: [Int: [Int: Mask]] = [:]
        for e in prompted.masks { promptMasks[e.frame, default: [:]][e.object] = e.mask.resized(width: w, height: h) }
        let prop = propagator ?? FlowPropagator()
        let n = frames.count
        var results = [[PropagationResult?]](repeating: [PropagationResult?](repeating: nil, count: n), count: names.count)
        let firstPrompt = names.indices.map { o in prompted.masks.filter { $0.object == o }.map(\.frame).min()! }
        let start = firstPrompt.min()!, backStart = firstPrompt.max()!
        let total = (n - start) + (backStart > 0 ? backStart + 1 : 0)
        var done = 0
        // Forward pass.
        prop.reset()
        for t in start..<n {
            let r = prop.step(frame: work[t], prompts: promptMasks[t] ?? [:])
            for (o, res) in r where t >= firstPrompt[o] { results[o][t] = res }
            done += 1; progress?(done, total)
        }
        // Backward pass, for the frames before each object's first prompt.
        if backStart > 0 {
            prop.reset()
            for t in stride(from: backStart, through: 0, by: -1) {
                var starts: [Int: Mask] = [:]
                for o in names.indices where firstPrompt[o] == t { starts[o] = promptMasks[t]![o] }
                let r = prop.step(frame: work[t], prompts: starts)
                for (o, res) in r where t < firstPrompt[o] { results[o][t] = res }
                done += 1; progress?(done, total)
            }
        }
        // Back to the frames' size. Each object keeps its whole mask: regions may overlap or nest.
        var objects: [MaskTrack] = names.map { MaskTrack(name: $0, frames: []) }
        for t in 0..<n {
            for o in names.indices {
                guard let r = results[o][t] else {
                    objects[o].frames.append(TrackedMask(mask: nil, confidence: 0, lost: false)); continue
                }
                let m = r.mask.resized(width: W, height: H)
                objects[o].frames.append(TrackedMask(mask: m.isEmpty ? nil : m, confidence: r.confidence, lost: r.lost))
            }
        }
        return MaskTracks(width: W, height: H, objects: objects, warnings: prompted.warnings)
    }

    /// Area-average resize of an RGB image (box filter over each output pixel's footprint;
    /// bilinear when enlarging).
    public static func resizeRGB(_ img: RGBImage, width w: Int, height h: Int) -> RGBImage {
        var out = RGBImage(width: w, height: h)
        let W = img.width, H = img.height
        let sx = Double(W) / Double(w), sy = Double(H) / Double(h)
        for y in 0..<h {
            let y0 = Int((Double(y) * sy).rounded(.down)), y1 = max(y0 + 1, min(H, Int((Double(y + 1) * sy).rounded(.up))))
            for x in 0..<w {
                let x0 = Int((Double(x) * sx).rounded(.down)), x1 = max(x0 + 1, min(W, Int((Double(x + 1) * sx).rounded(.up))))
                var r = 0, g = 0, b = 0
                for yy in y0..<min(y1, H) { for xx in x0..<min(x1, W) {
                    let k = 3 * (yy * W + xx)
                    r += Int(img.pixels[k]); g += Int(img.pixels[k + 1]); b += Int(img.pixels[k + 2])
                } }
                let c = max(1, (min(y1, H) - y0) * (min(x1, W) - x0))
                let k = 3 * (y * w + x)
                out.pixels[k] = UInt8(r / c); out.pixels[k + 1] = UInt8(g / c); out.pixels[k + 2] = UInt8(b / c)
            }
        }
        return out
    }
}
