// Tracking straight from a video or a frame folder (Video's FrameSource): the entry point the
// pipeline uses. Frames are decoded at the tracking size (long side ≤ `Tracker.Options.maxSide`);
// prompts are given in the source's own pixel coordinates and scaled here. Streaming: each frame
// is decoded, its prompts segmented, propagated forward and dropped; only the frames before the
// last object's first prompt are kept (for the backward pass), and the masks as RLE
// (`PropagationRun`). Memory does not grow with the clip's length beyond the RLE masks.
import Video

/// Tracks of a frame source: which frames were tracked and the masks at the tracking size.
public struct SourceTracks: Sendable {
    /// The tracked frames: index in the source and presentation time (seconds).
    public var frames: [(index: Int, pts: Double)]
    /// Source frame size (what prompts and `mask(object:frame:)` use).
    public var width: Int, height: Int
    /// Masks at the tracking size (`tracks.width` × `tracks.height`).
    public var tracks: MaskTracks
    /// Damaged data met while reading the source, then the prompts that fell back to their own
    /// area (`MaskTracks.warnings`); one line each, empty when clean.
    public var warnings: [String]

    public init(frames: [(index: Int, pts: Double)], width: Int, height: Int, tracks: MaskTracks, warnings: [String]) {
        self.frames = frames; self.width = width; self.height = height; self.tracks = tracks; self.warnings = warnings
    }

    /// Object `object`'s mask on tracked frame `t`, at the source's size (nil: not visible/lost).
    public func mask(object: Int, frame t: Int) -> Mask? {
        tracks.objects[object].frames[t].mask?.resized(width: width, height: height)
    }
}

extension Tracker {
    /// Decodes the frames `sampling` selects (dense sampling is best: every frame, or ≥ 10 fps)
    /// and tracks the prompted objects, streaming (see the top of this file; the masks are the same
    /// as `track(frames:sourceWidth:…)` on the collected frames). `ObjectPrompt.frame` indexes the
    /// sampled frames; prompt coordinates and mask sizes are those of `source.frameSize`. Each
    /// decoded frame is also handed to `onFrame` (e.g. to write it or keep a few).
    /// `progress(done, total)`: frame steps; `total` grows with the frames decoded (a stream's
    /// length is not known in advance).
    public static func track(source: any FrameSource, sampling: SamplingPolicy = .all, prompts: [ObjectPrompt],
                             options: Options = Options(), propagator: MaskPropagator? = nil,
                             decodeProgress: ((Int, Int?) -> Void)? = nil,
                             progress: ((Int, Int) -> Void)? = nil, onFrame: ((Frame) throws -> Void)? = nil) throws -> SourceTracks {
        let (W, H) = source.frameSize
        // Prompts checked once against the source size; their frame indices once the frames are counted.
        let checked = try prompts.map { p in
            CheckedObjectPrompt(name: p.name, frame: p.frame, prompt: try PromptSegmenter.validate(p.prompt, width: W, height: H, what: p.what))
        }
        let stream = try source.frames(sampling, window: nil, size: .maxSide(options.maxSide), progress: decodeProgress)
        let (frames, tracks) = try track(stream: stream, source: source.path, sourceWidth: W, sourceHeight: H, checked: checked,
                                         options: options, propagator: propagator, progress: progress, onFrame: onFrame)
        return SourceTracks(frames: frames, width: W, height: H, tracks: tracks,
                            warnings: source.warnings + (stream.damageNote.map { [$0] } ?? []) + tracks.warnings)
    }

    /// Where a prompt's `frame` points in `track(stream:…)`.
    public enum PromptFrame: Sendable {
        /// The position among the decoded frames (0 = the first one decoded): `gar track`.
        case position
        /// The frame's index in the source (`Frame.index`): the video job, whose tracked frames
        /// are a subset of the source's.
        case sourceIndex
    }

    /// The streaming tracker on an open stream of frames at the tracking size (`source` names it
    /// in errors): prompts checked at the source size (W×H) are scaled to the first frame's size,
    /// each segmented when its frame arrives, then propagated (`PropagationRun`); each frame is
    /// handed to `onFrame` and dropped. Returns the decoded frames' indices and times and the tracks
    /// (masks at the tracking size). A prompt whose frame never came is an error.
    public static func track(stream: FrameStream, source: String, sourceWidth W: Int, sourceHeight H: Int,
                             checked: [CheckedObjectPrompt], promptFrame: PromptFrame = .position,
                             options: Options = Options(), propagator: MaskPropagator? = nil,
                             progress: ((Int, Int) -> Void)? = nil,
                             onFrame: ((Frame) throws -> Void)? = nil) throws -> (frames: [(index: Int, pts: Double)], tracks: MaskTracks) {
        guard !checked.isEmpty else { throw TrackingError.invalidInput("no object prompt given") }
        var names: [String] = []
        for p in checked where !names.contains(p.name) { names.append(p.name) }
        let objectOf = checked.map { names.firstIndex(of: $0.name)! }
        var run: PropagationRun? = nil
        var scaled: [CheckedObjectPrompt] = []
        var warnings: [String?] = Array(repeating: nil, count: checked.count)
        var frames: [(index: Int, pts: Double)] = []
        while let f = try stream.next() {
            let key = promptFrame == .position ? frames.count : f.index
            if run == nil {   // the first frame gives the tracking size
                let (w, h) = (f.image.width, f.image.height)
                scaled = try checked.map { try scaledToFrames($0, width: w, height: h) }
                run = PropagationRun(names: names, promptFrames: zip(objectOf, checked).map { ($0.0, $0.1.frame) }, width: w, height: h,
                                     options: options, propagator: propagator, frameCount: nil, progress: progress)
            }
            var entries: [PromptMasks.Entry] = []
            for (i, p) in scaled.enumerated() where p.frame == key {
                let (mask, warning) = PromptSegmenter.maskOrFallback(for: p.prompt, on: f.image, what: p.what)
                warnings[i] = warning
                entries.append(PromptMasks.Entry(object: objectOf[i], frame: key, mask: mask))
            }
            run!.addPromptMasks(entries)
            try run!.add(f.image, key: key)
            frames.append((f.index, f.pts))
            try onFrame?(f)
        }
        guard var run else { throw TrackingError.invalidInput("\(source): no frames for this sampling") }
        for p in checked where !run.keys.contains(p.frame) {
            switch promptFrame {
            case .position: throw TrackingError.frameOutOfRange(frame: p.frame, count: frames.count)
            case .sourceIndex: throw TrackingError.invalidInput("\(source): the prompted frame \(p.frame) could not be decoded")
            }
        }
        return (frames, MaskTracks(width: run.width, height: run.height, objects: run.finish(), warnings: warnings.compactMap { $0 }))
    }

    /// Tracks prompts given in a source's pixel coordinates (W×H) on its frames decoded at the
    /// tracking size (`ObjectPrompt.frame` indexes `frames`): `promptMasks(frames:sourceWidth:…)`
    /// then `propagate`.
    public static func track(frames: [RGBImage], sourceWidth W: Int, sourceHeight H: Int, prompts: [ObjectPrompt],
                             options: Options = Options(), propagator: MaskPropagator? = nil,
                             progress: ((Int, Int) -> Void)? = nil) throws -> MaskTracks {
        try propagate(promptMasks(frames: frames, sourceWidth: W, sourceHeight: H, prompts: prompts), through: frames,
                      options: options, propagator: propagator, progress: progress)
    }

    /// Prompts to masks for prompts in a source's pixel coordinates (W×H): each prompt is checked
    /// once against the source size (`checkPrompts`), then `promptMasks(frames:checked:)`.
    public static func promptMasks(frames: [RGBImage], sourceWidth W: Int, sourceHeight H: Int,
                                   prompts: [ObjectPrompt], segmenter: PromptMaskSegmenter? = nil) throws -> PromptMasks {
        guard !frames.isEmpty else { throw TrackingError.invalidInput("no frames to track") }
        return try promptMasks(frames: frames, checked: checkPrompts(prompts, frameCount: frames.count, width: W, height: H), segmenter: segmenter)
    }

    /// Prompts to masks for prompts already checked against the source size (`frame` indexes
    /// `frames`): scaled to the frames' size (`scaledToFrames`, which only checks that no mask
    /// vanishes), then segmented there (`segmenter`: nil = GrabCut, else e.g. SAM 2.1's image mode,
    /// with the same fallback). The prompts are not checked again.
    public static func promptMasks(frames: [RGBImage], checked prompts: [CheckedObjectPrompt],
                                   segmenter: PromptMaskSegmenter? = nil) throws -> PromptMasks {
        guard !frames.isEmpty else { throw TrackingError.invalidInput("no frames to track") }
        for p in prompts where p.frame < 0 || p.frame >= frames.count {
            throw TrackingError.frameOutOfRange(frame: p.frame, count: frames.count)
        }
        let (w, h) = try checkFrames(frames, promptCount: prompts.count)
        return try segment(try prompts.map { try scaledToFrames($0, width: w, height: h) }, on: frames, segmenter: segmenter)
    }

    /// A checked prompt moved to the w×h frames (`scaled`). Scaling keeps boxes, clicks and strokes
    /// inside the frame; the one thing it can break is a mask: a thin one can vanish when shrunk,
    /// and that is an error (the same as an empty mask).
    public static func scaledToFrames(_ p: CheckedObjectPrompt, width w: Int, height h: Int) throws -> CheckedObjectPrompt {
        let W = p.prompt.width, H = p.prompt.height
        let q = scaled(p.prompt.prompt, sx: Double(w) / Double(W), sy: Double(h) / Double(H), width: w, height: h)
        if let m = q.mask, m.isEmpty { throw TrackingError.emptyMask(what: "\(p.what) mask") }
        return CheckedObjectPrompt(name: p.name, frame: p.frame, prompt: CheckedPrompt(unchecked: q, width: w, height: h))
    }

    /// A prompt moved to a w×h image: masks nearest-resized, coordinates scaled by (sx, sy).
    public static func scaled(_ p: RegionPrompt, sx: Double, sy: Double, width w: Int, height h: Int) -> RegionPrompt {
        if sx == 1 && sy == 1 { return p }
        func sc(_ x: Int, _ s: Double, _ n: Int) -> Int { min(n - 1, max(0, Int((Double(x) + 0.5) * s))) }
        var q = p
        q.mask = p.mask?.resized(width: w, height: h)
        if let b = p.box {
            let x1 = sc(b.x, sx, w), y1 = sc(b.y, sy, h), x2 = sc(b.x2, sx, w), y2 = sc(b.y2, sy, h)
            q.box = PixelBox(x: x1, y: y1, width: max(1, x2 - x1 + 1), height: max(1, y2 - y1 + 1))
        }
        q.points = p.points.map { PromptPoint(x: sc($0.x, sx, w), y: sc($0.y, sy, h), positive: $0.positive) }
        q.strokes = p.strokes.map { s in
            Stroke(points: s.points.map { PromptPoint(x: sc($0.x, sx, w), y: sc($0.y, sy, h)) },
                   width: min(PromptPoint.maxCoordinate, max(1, Int((Double(s.width) * sx).rounded()))), positive: s.positive)
        }
        return q
    }
}
