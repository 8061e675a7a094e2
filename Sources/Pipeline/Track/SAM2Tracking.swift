// SAM 2.1 as the tracker (`--tracker sam2`, TrackerChoice.swift): the adapter between Tracking's
// types (prompts, PromptMasks, MaskTracks) and the SAM2 module's API, so that Tracking does not
// depend on SAM2. The two tracking stages keep their shape:
//
//   promptMasks  each prompt → a mask on its frame with SAM 2.1's image mode (`segmenter`, plugged
//                into `Tracker.promptMasks(frames:checked:segmenter:)`):
//                  box       → box prompt
//                  clicks    → point prompts (label 1 positive, 0 negative)
//                  scribble  → point prompts sampled along each stroke: its vertices' polyline
//                              at `strokeSamples` points evenly spaced by arc length (ends
//                              included; a one-vertex stroke gives that point), label as the stroke
//                  mask      → the mask itself
//                a box and clicks/strokes together go in one call; one click alone asks for SAM's 3
//                masks and takes the best predicted IoU (as SAM's own demos), otherwise one mask.
//                An object score ≤ 0 (SAM sees nothing) → the prompt's own area, with the warning
//                every tracker gives (PromptSegmenter.maskOrFallback).
//   propagate    the prompt masks, as mask prompts, through SAM 2.1's video mode
//                (`SAM2VideoPredictor.track`): per frame and object the mask, visible (object
//                score > 0) and confidence = sigmoid(object score) (1 on prompted frames). SAM 2
//                never gives up on an object: `lost` is always false; an object out of view is
//                `visible: false`.
//
// Streaming (`track(stream:…)`): the decode pass that counts the frames segments each prompt when
// its frame arrives and keeps only the prompted frames; SAM 2's loop then gets its frames from a
// `FrameFeed` that decodes them again on demand (forward: one stream read on; backward: chunks of 16
// re-decoded). Held: the prompted frames, ≤ 16 frames, SAM 2's bounded memory bank and the masks as
// RLE (`TrackedMask`) — not the clip. The price: the tracking frames are decoded twice.
//
// Scores: a prompt mask SAM 2.1's image mode made carries its predicted IoU and object score
// (`SegmenterScore`, `MaskTracks.promptScores`); a mask prompt or a fallback has none.
//
// Frames and masks are at the tracking size (the caller's frames); SAM 2 resizes to its own input.
import Foundation
import SAM2
import Tensors
import Tracking
import Video

public final class SAM2Tracking: Sendable {
    /// Points sampled along each scribble stroke.
    public static let strokeSamples = 5

    public let directory: String
    let image: SAM2Predictor
    let video: SAM2VideoPredictor

    init(directory: String, image: SAM2Predictor, video: SAM2VideoPredictor) {
        self.directory = directory; self.image = image; self.video = video
    }

    /// Loads the checkpoint (image mode and video mode). A directory that is missing or does not
    /// hold a usable SAM 2.1 checkpoint is one error naming it.
    public static func load(_ directory: String) throws -> SAM2Tracking {
        var isDir: ObjCBool = false
        guard FileManager.default.fileExists(atPath: directory, isDirectory: &isDir), isDir.boolValue else {
            throw PipelineError.io(path: directory, reason: "no such SAM 2.1 checkpoint directory (--sam2 / tracker.sam2_model / \(TrackerChoice.environmentVariable))")
        }
        do {
            // One load: the image mode of the video checkpoint segments the prompts. The CPU's fast
            // precision (bf16 where native, f32 elsewhere: SAM2Model.defaultPrecision).
            let video = try SAM2VideoPredictor.load(directory: directory, precision: SAM2Model.defaultPrecision)
            return SAM2Tracking(directory: directory, image: SAM2Predictor(model: video.model), video: video)
        } catch {
            throw PipelineError.io(path: directory, reason: "not a usable SAM 2.1 checkpoint: \(error)")
        }
    }

    /// SAM 2.1 image mode as the prompt segmenter (see the top of this file).
    public var segmenter: PromptMaskSegmenter {
        { [self] prompt, frame in try scoredMask(prompt, on: frame).mask }
    }

    /// SAM 2.1's mask for a box / click / scribble prompt on `frame`, with its scores: the predicted
    /// IoU of the chosen mask and the object score logit. SAM sees no object (score ≤ 0): an empty
    /// mask (the caller falls back to the prompt's own area) and no score.
    public func scoredMask(_ prompt: RegionPrompt, on frame: RGBImage) throws -> (mask: Mask, score: SegmenterScore?) {
        let W = frame.width, H = frame.height
        let features = try image.encode(ImageU8(frame))
        let points = SAM2Tracking.points(of: prompt)
        let box = prompt.box.map { (Float($0.x), Float($0.y), Float($0.x2), Float($0.y2)) }
        let single = box == nil && points.count == 1
        let r = try image.segment(features, width: W, height: H, points: points, box: box, multimaskOutput: single)
        guard r.objectScoreLogit > 0 else { return (Mask(width: W, height: H), nil) }
        let chosen = single ? r.iouScores.indices.max { r.iouScores[$0] < r.iouScores[$1] } ?? 0 : 0
        return (Mask(width: W, height: H, bits: r.masks[chosen].map { $0 != 0 ? 1 : 0 }),
                SegmenterScore(iou: r.iouScores[chosen], objectScore: r.objectScoreLogit))
    }

    /// `PromptSegmenter.maskOrFallback` with SAM 2.1 (a prompt checked for `frame`'s size): the mask,
    /// the fallback warning, and SAM's scores when its mask is the one used (nil for a mask prompt
    /// or a fallback).
    public func promptMask(_ p: CheckedPrompt, on frame: RGBImage, what: String) throws -> (mask: Mask, warning: String?, score: SegmenterScore?) {
        var score: SegmenterScore?
        let (mask, warning) = try PromptSegmenter.maskOrFallback(for: p, on: frame, what: what) { prompt, frame in
            let r = try scoredMask(prompt, on: frame)
            score = r.score
            return r.mask
        }
        return (mask, warning, warning == nil ? score : nil)
    }

    /// The click and scribble prompts as SAM point prompts (clicks first, then each stroke's samples).
    static func points(of p: RegionPrompt) -> [(x: Float, y: Float, label: Int)] {
        var out = p.points.map { (x: Float($0.x), y: Float($0.y), label: $0.positive ? 1 : 0) }
        for s in p.strokes {
            out += strokePoints(s.points.map { (Double($0.x), Double($0.y)) }, count: strokeSamples)
                .map { (x: Float($0.0), y: Float($0.1), label: s.positive ? 1 : 0) }
        }
        return out
    }

    /// `count` points evenly spaced by arc length along a polyline, both ends included (one point
    /// for a single vertex or a zero-length line).
    static func strokePoints(_ v: [(Double, Double)], count: Int) -> [(Double, Double)] {
        guard let first = v.first else { return [] }
        var cumulative = [0.0]
        for i in 1 ..< max(1, v.count) { cumulative.append(cumulative[i - 1] + hypot(v[i].0 - v[i - 1].0, v[i].1 - v[i - 1].1)) }
        let length = cumulative.last!
        guard length > 0, count > 1 else { return [first] }
        var out: [(Double, Double)] = []
        var seg = 1
        for k in 0 ..< count {
            let d = length * Double(k) / Double(count - 1)
            while seg < v.count - 1 && cumulative[seg] < d { seg += 1 }
            let a = cumulative[seg - 1], b = cumulative[seg]
            let f = b > a ? (d - a) / (b - a) : 0
            out.append((v[seg - 1].0 + f * (v[seg].0 - v[seg - 1].0), v[seg - 1].1 + f * (v[seg].1 - v[seg - 1].1)))
        }
        return out.map { ($0.0.rounded(), $0.1.rounded()) }
    }

    /// The prompt masks propagated through `frameCount` frames by SAM 2.1's video mode. `frame(t)`
    /// gives frame t at the prompt masks' size (called in SAM 2's order: prompted frames, forward,
    /// backward; `FrameFeed` serves that order from the decoder without keeping the frames).
    public func propagate(_ prompted: PromptMasks, frameCount n: Int, frame: (Int) throws -> RGBImage,
                          progress: ((Int, Int) -> Void)? = nil) throws -> MaskTracks {
        let W = prompted.width, H = prompted.height
        guard n > 0, !prompted.masks.isEmpty else { throw PipelineError.invalidInput(what: "tracker", reason: "no frames or no prompt masks to propagate") }
        // One mask prompt per object and frame (a later prompt of an object on a frame wins).
        var latest: [Int: [Int: Mask]] = [:]
        for e in prompted.masks { latest[e.object, default: [:]][e.frame] = e.mask }
        let prompts = latest.keys.sorted().flatMap { o in
            latest[o]!.keys.sorted().map { t in SAM2ObjectPrompt(object: o, frame: t, prompt: .mask(latest[o]![t]!.bits)) }
        }
        // Per frame only the result is kept, as RLE (`TrackedMask`): a few KB per object and frame.
        var frames = [[TrackedMask]](repeating: [TrackedMask](repeating: TrackedMask(mask: nil, confidence: 0, lost: false), count: n),
                                     count: prompted.names.count)
        try video.track(frameCount: n, width: W, height: H, prompts: prompts, frame: { t in
            let f = try frame(t)
            guard f.width == W && f.height == H else {
                throw TrackingError.sizeMismatch(what: "frame \(t)", got: (f.width, f.height), expected: (W, H))
            }
            return ImageU8(f)
        }, progress: progress, output: { out in
            guard frames.indices.contains(out.object), (0 ..< n).contains(out.frame), out.mask.count == W * H else {
                throw PipelineError.invalidInput(what: "tracker", reason: "SAM 2 returned object \(out.object) on frame \(out.frame) with \(out.mask.count) mask values (expected \(W)×\(H))")
            }
            // On its prompt frame a region's mask is its prompt (as with the flow tracker); SAM 2's
            // own output there is the prompt through a 4× down/up-sampling.
            let given = latest[out.object]?[out.frame]
            let prompted = given != nil
            let mask = given ?? (out.visible ? Mask(width: W, height: H, bits: out.mask.map { $0 != 0 ? 1 : 0 }) : nil)
            frames[out.object][out.frame] = TrackedMask(mask: mask.flatMap { $0.isEmpty ? nil : $0 },
                                                        confidence: prompted ? 1 : 1 / (1 + exp(-out.objectScoreLogit)), lost: false)
        })
        let scores = prompted.masks.compactMap { e in e.score.map { PromptScore(object: e.object, frame: e.frame, score: $0) } }
        return MaskTracks(width: W, height: H, objects: zip(prompted.names, frames).map { MaskTrack(name: $0.0, frames: $0.1) },
                          warnings: prompted.warnings, promptScores: scores)
    }

    /// `gar track` with SAM 2.1: the frames `sampling` selects decoded at the tracking size, the
    /// prompts (source pixels, `frame` = position among the sampled frames) checked, then
    /// `track(stream:…)`: streaming.
    public func track(source: any FrameSource, sampling: SamplingPolicy, prompts: [ObjectPrompt], maxSide: Int,
                      decodeProgress: ((Int, Int?) -> Void)? = nil, progress: ((Int, Int) -> Void)? = nil) throws -> SourceTracks {
        let (W, H) = source.frameSize
        let checked = try prompts.map { p in
            CheckedObjectPrompt(name: p.name, frame: p.frame, prompt: try PromptSegmenter.validate(p.prompt, width: W, height: H, what: p.what))
        }
        let stream = try source.frames(sampling, window: nil, size: .maxSide(maxSide), progress: decodeProgress)
        let (frames, tracks) = try track(stream: stream, source: source, checked: checked, maxSide: maxSide, progress: progress)
        return SourceTracks(frames: frames, width: W, height: H, tracks: tracks,
                            warnings: source.warnings + (stream.damageNote.map { [$0] } ?? []) + tracks.warnings)
    }

    /// SAM 2.1 on an open stream of `source`'s frames at the tracking size (long side ≤ `maxSide`),
    /// streaming (see the top of this file): the stream is the first pass — it counts the frames,
    /// each prompt (checked at the source size, pointing at frames by position or source index as
    /// in `Tracker.track(stream:…)`) is segmented by SAM 2.1's image mode when its frame arrives,
    /// only the prompted frames are kept, each frame is handed to `onFrame`. Then SAM 2's loop reads
    /// the frames again from `source` through a `FrameFeed` (the same indices and size: forward in
    /// decode order, backward in re-decoded chunks). Memory: the prompted frames, `FrameFeed.chunk`
    /// frames (16), SAM 2's bounded memory bank and the masks as RLE — not the clip.
    public func track(stream: FrameStream, source: any FrameSource, checked: [CheckedObjectPrompt],
                      promptFrame: Tracker.PromptFrame = .position, maxSide: Int, progress: ((Int, Int) -> Void)? = nil,
                      onFrame: ((Frame) throws -> Void)? = nil) throws -> (frames: [(index: Int, pts: Double)], tracks: MaskTracks) {
        guard !checked.isEmpty else { throw TrackingError.invalidInput("no object prompt given") }
        var names: [String] = []
        for p in checked where !names.contains(p.name) { names.append(p.name) }
        var frames: [(index: Int, pts: Double)] = []
        var scaled: [CheckedObjectPrompt] = []
        var entries = [PromptMasks.Entry?](repeating: nil, count: checked.count)
        var warnings = [String?](repeating: nil, count: checked.count)
        var promptedFrames: [Int: RGBImage] = [:]
        var size = (width: 0, height: 0)
        while let f = try stream.next() {
            let position = frames.count, key = promptFrame == .position ? position : f.index
            if position == 0 {   // the first frame gives the tracking size
                size = (f.image.width, f.image.height)
                scaled = try checked.map { try Tracker.scaledToFrames($0, width: size.width, height: size.height) }
            }
            for (i, p) in scaled.enumerated() where p.frame == key {
                let r = try promptMask(p.prompt, on: f.image, what: p.what)
                entries[i] = PromptMasks.Entry(object: names.firstIndex(of: p.name)!, frame: position, mask: r.mask, score: r.score)
                warnings[i] = r.warning
                promptedFrames[position] = f.image
            }
            frames.append((f.index, f.pts))
            try onFrame?(f)
        }
        guard !frames.isEmpty else { throw TrackingError.invalidInput("\(source.path): no frames for this sampling") }
        for (i, p) in checked.enumerated() where entries[i] == nil {
            switch promptFrame {
            case .position: throw TrackingError.frameOutOfRange(frame: p.frame, count: frames.count)
            case .sourceIndex: throw TrackingError.invalidInput("\(source.path): the prompted frame \(p.frame) could not be decoded")
            }
        }
        var prompted = PromptMasks(width: size.width, height: size.height)
        prompted.names = names
        prompted.masks = entries.compactMap { $0 }
        prompted.warnings = warnings.compactMap { $0 }
        // Then SAM 2's loop, the frames decoded again on demand (same indices, same size).
        let feed = FrameFeed(count: frames.count, kept: promptedFrames) { positions in
            let again = try source.frames(.indices(positions.map { frames[$0].index }), window: nil, size: .maxSide(maxSide), progress: nil)
            var k = 0
            return {
                guard k < positions.count else { return nil }
                let wanted = frames[positions[k]].index
                guard let f = try again.next(), f.index == wanted else {
                    throw PipelineError.invalidInput(what: source.path, reason: "frame \(wanted) could not be decoded again for tracking")
                }
                k += 1
                return f.image
            }
        }
        return (frames, try propagate(prompted, frameCount: frames.count, frame: feed.frame, progress: progress))
    }
}

/// SAM 2's frames by position, read from the decoder when the loop asks for them (prompted frames,
/// the forward pass ascending, the backward pass descending; any order works, these are cheap):
///   - a prompted frame: from `kept` (the first pass keeps them: one per prompted frame);
///   - ascending: one decode stream, opened at the first frame asked for and read on (frames the
///     loop skips are decoded and dropped);
///   - descending: the `chunk` frames ending at the one asked for, decoded again as one `.indices`
///     request (the decoder seeks to the keyframe before them) and kept until the loop leaves them.
/// So at most `kept` + `chunk` frames are held, whatever the clip's length; the price is a second
/// decode of the tracked frames (a third for those before the first prompt, plus up to a GOP per
/// chunk) — small next to SAM 2's seconds per frame.
final class FrameFeed {
    typealias Reader = () throws -> RGBImage?
    let count: Int
    let kept: [Int: RGBImage]
    /// Frames decoded again per backward step (16 by default: ≈ 20 MB at 854×480).
    let chunk: Int
    /// Decodes the frames at these positions (ascending), one per call, nil after the last.
    let open: ([Int]) throws -> Reader
    private var forward: (read: Reader, next: Int)?
    private var buffer: (start: Int, images: [RGBImage]) = (0, [])
    /// The last position read from the decoder (the direction of the loop).
    private var last = -1

    init(count: Int, kept: [Int: RGBImage], chunk: Int = 16, open: @escaping ([Int]) throws -> Reader) {
        self.count = count; self.kept = kept; self.chunk = chunk; self.open = open
    }

    func frame(_ t: Int) throws -> RGBImage {
        precondition((0 ..< count).contains(t), "frame \(t) of \(count)")
        if let image = kept[t] { return image }
        defer { last = t }
        if t >= buffer.start && t < buffer.start + buffer.images.count { return buffer.images[t - buffer.start] }
        if let f = forward, t >= f.next { return try readOn(to: t) }
        if t > last {
            // Ascending (the forward pass): one stream from t to the end.
            buffer = (0, [])
            forward = (try open(Array(t ..< count)), t)
            return try readOn(to: t)
        }
        // Descending (the backward pass): the chunk ending at t.
        forward = nil
        buffer = (0, [])
        let start = max(0, t - chunk + 1), read = try open(Array(start ... t))
        var images: [RGBImage] = []
        while let image = try read() { images.append(image) }
        guard images.count == t - start + 1 else { throw TrackingError.invalidInput("frames \(start)–\(t) could not be read again") }
        buffer = (start, images)
        return images[t - start]
    }

    /// Reads the forward stream on to position t (dropping the frames before it).
    private func readOn(to t: Int) throws -> RGBImage {
        while var f = forward {
            guard let image = try f.read() else { break }
            f.next += 1
            forward = f
            if f.next - 1 == t { return image }
        }
        throw TrackingError.invalidInput("frame \(t) could not be read again")
    }
}
