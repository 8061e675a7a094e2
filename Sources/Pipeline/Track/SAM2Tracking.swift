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
        { [image] prompt, frame in
            let W = frame.width, H = frame.height
            let features = try image.encode(ImageU8(frame))
            let points = SAM2Tracking.points(of: prompt)
            let box = prompt.box.map { (Float($0.x), Float($0.y), Float($0.x2), Float($0.y2)) }
            let single = box == nil && points.count == 1
            let r = try image.segment(features, width: W, height: H, points: points, box: box, multimaskOutput: single)
            guard r.objectScoreLogit > 0 else { return Mask(width: W, height: H) }
            let best = r.iouScores.indices.max { r.iouScores[$0] < r.iouScores[$1] } ?? 0
            return Mask(width: W, height: H, bits: r.masks[single ? best : 0].map { $0 != 0 ? 1 : 0 })
        }
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
    /// backward).
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
        return MaskTracks(width: W, height: H, objects: zip(prompted.names, frames).map { MaskTrack(name: $0.0, frames: $0.1) },
                          warnings: prompted.warnings)
    }

    /// `gar track` with SAM 2.1: the frames `sampling` selects decoded at the tracking size, the
    /// prompts (source pixels) checked, scaled and segmented in image mode, then propagated. The
    /// frames are collected (the video loop asks for them in its own order; not streaming yet).
    public func track(source: any FrameSource, sampling: SamplingPolicy, prompts: [ObjectPrompt], maxSide: Int,
                      decodeProgress: ((Int, Int?) -> Void)? = nil, progress: ((Int, Int) -> Void)? = nil) throws -> SourceTracks {
        let (W, H) = source.frameSize
        let stream = try source.frames(sampling, window: nil, size: .maxSide(maxSide), progress: decodeProgress)
        let decoded = try stream.collect()
        guard !decoded.isEmpty else { throw TrackingError.invalidInput("\(source.path): no frames for this sampling") }
        let images = decoded.map(\.image)
        let prompted = try Tracker.promptMasks(frames: images, sourceWidth: W, sourceHeight: H, prompts: prompts, segmenter: segmenter)
        let tracks = try propagate(prompted, frameCount: images.count, frame: { images[$0] }, progress: progress)
        return SourceTracks(frames: decoded.map { ($0.index, $0.pts) }, width: W, height: H, tracks: tracks,
                            warnings: source.warnings + (stream.damageNote.map { [$0] } ?? []) + tracks.warnings)
    }
}
