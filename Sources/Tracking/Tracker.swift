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
    public var what: String { "object '\(name)' on frame \(frame)" }
}

/// An object prompt whose prompt is checked (`Tracker.checkPrompts`, or `PromptSegmenter.validate`
/// by the caller); `frame` indexes the frames it is tracked on.
public struct CheckedObjectPrompt: Sendable {
    public var name: String
    public var frame: Int
    public var prompt: CheckedPrompt
    public init(name: String, frame: Int, prompt: CheckedPrompt) { self.name = name; self.frame = frame; self.prompt = prompt }
    public var what: String { ObjectPrompt(name: name, frame: frame, prompt: prompt.prompt).what }
}

/// A segmenter's own confidence in a prompt's mask: SAM 2.1's predicted IoU of the chosen mask and
/// its object score logit (> 0: SAM sees an object). The weight-free segmenter (GrabCut) has none.
public struct SegmenterScore: Sendable, Equatable {
    public var iou: Float
    public var objectScore: Float
    public init(iou: Float, objectScore: Float) { self.iou = iou; self.objectScore = objectScore }
}

/// The score of object `object`'s prompt mask on frame `frame` (`MaskTracks.promptScores`).
public struct PromptScore: Sendable, Equatable {
    public var object: Int, frame: Int
    public var score: SegmenterScore
    public init(object: Int, frame: Int, score: SegmenterScore) { self.object = object; self.frame = frame; self.score = score }
}

/// One object on one frame. The mask is kept as COCO RLE (a few KB instead of one byte per
/// pixel: a long clip's tracks stay small) and decoded when read.
public struct TrackedMask: Sendable {
    /// The mask, run-length encoded (nil: no mask).
    public private(set) var rle: RLE?
    /// The mask at the frame's size; nil when the object is not visible there (empty), lost,
    /// or was never reached. Decoded from `rle` on each read.
    public var mask: Mask? {
        get { rle?.mask() }
        set { rle = newValue.map { RLE($0) } }
    }
    /// Whether there is a mask (without decoding it).
    public var hasMask: Bool { rle != nil }
    /// 0...1 (1 on prompted frames).
    public var confidence: Float
    /// The tracker gave up on the object here rather than invent a mask.
    public var lost: Bool
    public init(mask: Mask?, confidence: Float, lost: Bool) { self.rle = mask.map { RLE($0) }; self.confidence = confidence; self.lost = lost }
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
    /// The segmenter's scores of the prompt masks it made (SAM 2.1; empty with GrabCut).
    public var promptScores: [PromptScore] = []
    public var frameCount: Int { objects.first?.frames.count ?? 0 }
    public init(width: Int, height: Int, objects: [MaskTrack], warnings: [String] = [], promptScores: [PromptScore] = []) {
        self.width = width; self.height = height; self.objects = objects; self.warnings = warnings; self.promptScores = promptScores
    }

    /// The score of object `object`'s prompt mask on frame `frame` (nil: none, e.g. GrabCut or a mask prompt).
    public func promptScore(object: Int, frame: Int) -> SegmenterScore? {
        promptScores.last { $0.object == object && $0.frame == frame }?.score
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
    /// One prompt's mask: object index (into `names`), frame index, mask at the frames' size, and
    /// the segmenter's score when it made the mask (SAM 2.1; nil for GrabCut, a mask prompt, a fallback).
    public struct Entry: Sendable {
        public var object: Int, frame: Int, mask: Mask
        public var score: SegmenterScore?
        public init(object: Int, frame: Int, mask: Mask, score: SegmenterScore? = nil) {
            self.object = object; self.frame = frame; self.mask = mask; self.score = score
        }
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
        let W = prompted.width, H = prompted.height
        guard !frames.isEmpty, !prompted.masks.isEmpty else { throw TrackingError.invalidInput("no frames or no prompt masks to propagate") }
        for (i, f) in frames.enumerated() where f.width != W || f.height != H {
            throw TrackingError.sizeMismatch(what: "frame \(i)", got: (f.width, f.height), expected: (W, H))
        }
        for e in prompted.masks where e.frame < 0 || e.frame >= frames.count {
            throw TrackingError.frameOutOfRange(frame: e.frame, count: frames.count)
        }
        var run = PropagationRun(names: prompted.names, promptFrames: prompted.masks.map { ($0.object, $0.frame) }, width: W, height: H,
                                 options: options, propagator: propagator, frameCount: frames.count, progress: progress)
        run.addPromptMasks(prompted.masks)
        for f in frames { try run.add(f) }
        return MaskTracks(width: W, height: H, objects: run.finish(), warnings: prompted.warnings)
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

/// The propagation of prompt masks, fed the frames one at a time in time order — the one
/// propagation path of `Tracker.propagate` (frames in memory) and `Tracker.track(source:)` /
/// `Tracker.track(stream:…)` (frames streamed from the decoder). Frames and prompts are matched by a
/// key that increases with time: the frame's position (0, 1, …) by default, or e.g. its index in
/// the source. The forward pass runs as the frames arrive, from the first prompted frame on; the
/// frames up to the last object's first prompt (the only ones the backward pass needs) are kept at
/// the working size, and `finish` runs the backward pass over them. Each result is stored at once as
/// a `TrackedMask` (RLE) at the frames' size: memory is the kept frames plus the compact masks.
struct PropagationRun {
    let width: Int, height: Int
    /// Working size.
    let w: Int, h: Int
    let names: [String]
    /// Per object, the key of its first prompted frame; the forward pass starts at the earliest,
    /// the backward pass at the latest.
    let firstPrompt: [Int]
    let start: Int, backStart: Int
    let propagator: MaskPropagator
    /// Frames in the whole run, when known in advance (for the progress total).
    let frameCount: Int?
    let progress: ((Int, Int) -> Void)?
    /// Prompt masks at the working size by frame key then object (a later prompt wins).
    var promptMasks: [Int: [Int: Mask]] = [:]
    /// The frames with a key ≤ backStart at the working size, with their key and position.
    var kept: [(key: Int, position: Int, image: RGBImage)] = []
    /// `tracks[o][position]`.
    var tracks: [[TrackedMask]]
    var count = 0, forwardSteps = 0, done = 0
    /// The keys of the frames added.
    var keys: [Int] = []

    /// `promptFrames`: (object, frame key) of every prompt (their masks come through
    /// `addPromptMasks` before their frame is added).
    init(names: [String], promptFrames: [(object: Int, frame: Int)], width W: Int, height H: Int, options: Tracker.Options,
         propagator: MaskPropagator?, frameCount: Int?, progress: ((Int, Int) -> Void)?) {
        width = W; height = H
        let scale = min(1, Double(options.maxSide) / Double(max(W, H)))
        w = max(1, Int((Double(W) * scale).rounded())); h = max(1, Int((Double(H) * scale).rounded()))
        self.names = names
        firstPrompt = names.indices.map { o in promptFrames.filter { $0.object == o }.map(\.frame).min()! }
        start = firstPrompt.min()!; backStart = firstPrompt.max()!
        self.propagator = propagator ?? FlowPropagator()
        self.frameCount = frameCount
        self.progress = progress
        tracks = names.map { _ in [] }
        self.propagator.reset()
    }

    /// Prompt masks (at the frames' size, `frame` = the frame's key), in prompt order.
    mutating func addPromptMasks(_ entries: [PromptMasks.Entry]) {
        for e in entries { promptMasks[e.frame, default: [:]][e.object] = e.mask.resized(width: w, height: h) }
    }

    /// Whether the backward pass runs: some frame before the last object's first prompt.
    var hasBackwardPass: Bool { kept.contains { $0.key < backStart } }

    /// Steps in the whole run: forward from `start`, backward from `backStart` (exact when the
    /// frame count is known and keys are positions; else it grows with the frames seen).
    var total: Int {
        if let n = frameCount { return (n - start) + (backStart > 0 ? backStart + 1 : 0) }
        return forwardSteps + (hasBackwardPass ? kept.count : 0)
    }

    /// The next frame (at the frames' size; `key` default: its position): kept for the backward
    /// pass when needed, stepped forward from the first prompted frame on.
    mutating func add(_ frame: RGBImage, key given: Int? = nil) throws {
        guard frame.width == width && frame.height == height else {
            throw TrackingError.sizeMismatch(what: "frame \(count)", got: (frame.width, frame.height), expected: (width, height))
        }
        let t = count, key = given ?? count
        count += 1
        keys.append(key)
        for o in names.indices { tracks[o].append(TrackedMask(mask: nil, confidence: 0, lost: false)) }
        let work = w == width && h == height ? frame : Tracker.resizeRGB(frame, width: w, height: h)
        if key <= backStart { kept.append((key, t, work)) }
        guard key >= start else { return }
        let r = propagator.step(frame: work, prompts: promptMasks[key] ?? [:])
        for (o, res) in r where key >= firstPrompt[o] { record(res, object: o, position: t) }
        forwardSteps += 1; done += 1; progress?(done, total)
    }

    /// The backward pass, for the frames before each object's first prompt; the tracks.
    mutating func finish() -> [MaskTrack] {
        if hasBackwardPass {
            propagator.reset()
            for f in kept.reversed() {
                var starts: [Int: Mask] = [:]
                for o in names.indices where firstPrompt[o] == f.key { starts[o] = promptMasks[f.key]![o] }
                let r = propagator.step(frame: f.image, prompts: starts)
                for (o, res) in r where f.key < firstPrompt[o] { record(res, object: o, position: f.position) }
                done += 1; progress?(done, total)
            }
        }
        kept = []
        // Each object keeps its whole mask: regions may overlap or nest.
        return zip(names, tracks).map { MaskTrack(name: $0.0, frames: $0.1) }
    }

    /// A result back at the frames' size.
    mutating func record(_ r: PropagationResult, object o: Int, position t: Int) {
        let m = r.mask.resized(width: width, height: height)
        tracks[o][t] = TrackedMask(mask: m.isEmpty ? nil : m, confidence: r.confidence, lost: r.lost)
    }
}
