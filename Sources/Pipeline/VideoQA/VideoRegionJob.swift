// One video-region request end to end: `gar caption`, `gar ask VIDEO`, `gar run`, one item of
// `gar batch` and one question of `gar bench videorefer`. The CLI, specs and batch items build a
// `RegionRequest` (typed: no argv here); `VideoRegionJob.run` runs it through named stages, each a
// function that can be called and tested alone:
//
//   openSource      the input (video file or frame folder), its size and frame count
//   readRegions     the region prompts (files read, checked against the frame size and count) or
//                   the annotation — bad inputs fail here, before the model loads
//   pickFrames      the N frames the model sees (spec.frames; fewer if the prompt would not fit the
//                   context)
//   trackingFrames  when tracking: every k-th frame at about spec.tracker.fps, plus the sampled and
//                   prompted frames
//   trackedMasks    track on those at the tracking size (long side ≤ 854): the weight-free tracker
//                   streams them (decoded, segmented, propagated, dropped: streamedTracking); SAM 2.1
//                   streams too (sam2Tracking: a pass to segment the prompts, then its loop
//                   decodes the frames again on demand)
//     promptMasks     prompts (source coordinates, checked by readRegions) scaled and segmented
//     propagate       the prompt masks propagated through the tracking frames
//                   and the model's frames at their original size (kept from the tracking pass
//                   when that is already the original size, else a second, seeking pass for N frames)
//   annotationMasks or: the model's frames and the annotation's masks
//   modelInputs     per region and sampled frame: the mask images (views, no copy) and the frames'
//                   feature-cache keys (input + frame + union mask)
//   generate        per question: the prompt (video protocol v1, template from the spec), vision
//                   or cache replay, generation — through a session whose feature cache lets later
//                   questions on the same clip reuse the vision features (VideoRegionEngine holds
//                   the model and cache across requests), and a PromptPrefixCache so that later
//                   questions run only the prompt rows after the shared prefix (their own text)
//   answer          the JSON answer (VideoAnswer); the overlay video is written by the mask stages
//
// Memory: besides the model, the N sampled frames at full size and the tracks as RLE; the
// weight-free tracker streams (only the frames before the last region's first prompt are kept for
// its backward pass), SAM 2.1's path too (its prompted frames and 16 frames of its backward pass;
// SAM2Tracking.swift's FrameFeed). The model
// holds only the N frames' tiles and features.
import Foundation
import Models
import Tensors
import Tracking
import Video

/// The model, a session with a feature cache, kept across requests.
public final class VideoRegionEngine: @unchecked Sendable {
    // @unchecked: requests run one at a time on an engine (the session's rule).
    public let model: GARModel
    public let session: GARSession
    public let cache: FeatureCache
    public let directory: String
    /// Seconds it took to load the model.
    public let loadSeconds: Double
    private var loadReported = false

    public init(modelDirectory: String, precision: Precision = .f32, cacheBytes: Int = 1 << 30) throws {
        let t0 = Date()
        model = try GARModel.load(directory: modelDirectory, precision: precision)
        loadSeconds = Date().timeIntervalSince(t0)
        cache = FeatureCache(capacityBytes: cacheBytes)
        session = GARSession(model: model, featureCache: cache)
        directory = modelDirectory
    }

    /// The load time the first time it is asked, 0 afterwards (it is paid once).
    func takeLoadSeconds() -> Double {
        defer { loadReported = true }
        return loadReported ? 0 : loadSeconds
    }
}

/// One request: what to look at (source), which regions (prompts with their frames, or an
/// annotation), what to ask, and how — the spec carries the sampling (`frames`), the generation
/// options (`generation`, `requestOptions`) and the tracker settings (`tracker`).
public struct RegionRequest: Sendable {
    /// Video file or folder of frames.
    public var input: String
    /// Frame rate to give a folder of frames (time-based sampling needs one).
    public var folderFPS: Double?
    /// Regions to track, region k = `<Promptk>` (empty when masks come from an annotation).
    public var regions: [ObjectSpec] = []
    /// The region strings as the user gave them (for the JSON), same order as `regions`; when
    /// missing, `RegionInputs.text(of:)` of the region.
    public var regionTexts: [String] = []
    /// VideoRefer-style annotation file (skips tracking).
    public var annotationPath: String?
    /// An annotation already read (the benchmark runner); wins over `annotationPath`.
    public var annotation: RegionAnnotation?
    /// Questions; empty = the spec's questions.
    public var questions: [VideoQuestion] = []
    public var spec: PipelineSpec
    /// Model directory; nil = the spec's `model`.
    public var modelDirectory: String?
    /// Write the tracked frames with the masks blended in here (mp4).
    public var overlayPath: String?
    /// Model threads (nil = all CPUs).
    public var threads: Int?
    /// Compute precision of the model (the CLI resolves flag > spec > GAR_PRECISION > CPU default).
    public var precision: Precision = .f32
    /// The tracker (the CLI resolves --tracker/--sam2 > spec tracker.kind/sam2_model > GAR_SAM2:
    /// `TrackerChoice.resolve`; library default the weight-free tracker).
    public var tracker: TrackerChoice = .flow
    /// Put each answer's first-step logits in the JSON (precision checks).
    public var emitLogits = false
    /// No progress lines on stderr.
    public var quiet = true
    /// Asked between generated tokens; true stops the generation (`gar serve`: the client left).
    public var shouldStop: (@Sendable () -> Bool)?

    public init(input: String, spec: PipelineSpec) {
        self.input = input
        self.spec = spec
    }

    /// Sets the regions from `--region` strings (region k = `<Promptk>`), keeping the strings for
    /// the JSON.
    public mutating func setRegions(_ texts: [String]) throws {
        regions = try texts.enumerated().map { try RegionInputs.parseRegion($0.element, index: $0.offset) }
        regionTexts = texts
    }
}

public enum VideoRegionJob {
    /// The opened input.
    struct Source {
        var source: any FrameSource
        var frameCount: Int
        var width: Int, height: Int
        var isFolder: Bool
    }

    /// Where the regions' masks come from, read and checked.
    enum Regions {
        /// Per region, its prompts (frame index in the source, prompt in the source's pixels).
        case prompts([[(frame: Int, prompt: CheckedPrompt)]])
        case annotation(RegionAnnotation)

        var count: Int {
            switch self {
            case .prompts(let p): return p.count
            case .annotation(let a): return a.regions.count
            }
        }
        var annotation: RegionAnnotation? {
            if case .annotation(let a) = self { return a }
            return nil
        }
    }

    /// The frames the model sees and each region's mask on them.
    struct RegionMasks {
        /// The model's frames, original size.
        var frames: [Frame] = []
        /// `masks[k][f]`: region k on model frame f (original size; nil = not visible).
        var masks: [[Mask?]] = []
        var confidence: [[Double]] = [], lost: [[Bool]] = []
        /// Frames the tracker ran on (0 with an annotation).
        var trackedCount = 0
        var decodeSeconds = 0.0, trackSeconds = 0.0
    }

    /// What the model is given besides the question.
    struct ModelInputs {
        var images: [ImageU8]
        var masks: [[ImageU8?]]
        /// Per frame, the union of the region masks (what the vision tower sees; also hashed
        /// into the frame's feature-cache key), computed once here for both.
        var unions: [[UInt8]]
        var options: RequestOptions
    }

    /// Runs a request. `engine`: a loaded model to reuse (else one is loaded); `sam2`: SAM 2.1
    /// loaded from `r.tracker`'s checkpoint to reuse (else it is loaded when the request tracks with
    /// it). `onText` receives the first answer's text as it is generated.
    public static func run(_ request: RegionRequest, engine given: VideoRegionEngine? = nil, sam2 loaded: SAM2Tracking? = nil,
                           onText: ((String) -> Void)? = nil) throws -> VideoAnswer {
        let start = Date()
        var r = request
        var warnings: [String] = []
        if let t = r.threads {
            guard t >= 1 else { throw PipelineError.invalidInput(what: "--threads", reason: "must be at least 1, got \(t)") }
            Threading.set(t)
        }
        let questions = try questions(of: r)
        let input = try openSource(r, warnings: &warnings)
        let regions = try readRegions(r, input)
        let sam2 = try loadTracker(r, regions: regions, loaded: loaded)
        let engine = try given ?? VideoRegionEngine(modelDirectory: try modelDirectory(r), precision: r.precision)
        let load = engine.takeLoadSeconds()
        if CheckpointReplay.correctedBoxScaling(modelDirectory: engine.directory) { r.spec.correctedBoxScaling = true }
        let (sampled, requested) = try pickFrames(r, input, regions: regions, questions: questions, model: engine.model,
                                                  warnings: &warnings)
        let masks: RegionMasks
        switch regions {
        case .annotation(let annotation):
            masks = try annotationMasks(r, input, annotation, frames: sampled, warnings: &warnings)
        case .prompts(let prompts):
            masks = try trackedMasks(r, input, prompts, sampled: sampled, sam2: sam2, warnings: &warnings)
        }
        try checkEveryRegionSeen(masks, fromAnnotation: regions.annotation != nil)
        let inputs = modelInputs(r, masks, width: input.width, height: input.height)
        let answers = try generate(questions, inputs, spec: r.spec, session: engine.session, emitLogits: r.emitLogits, onText: onText)
        return answer(r, input, regions: regions, masks: masks, answers: answers, framesRequested: requested,
                      warnings: warnings, model: engine.directory, load: load, start: start)
    }

    // MARK: stages

    /// SAM 2.1 loaded when the request tracks with it (before the GAR model: a bad checkpoint
    /// fails first); nil for the weight-free tracker or masks from an annotation.
    static func loadTracker(_ r: RegionRequest, regions: Regions, loaded: SAM2Tracking? = nil) throws -> SAM2Tracking? {
        guard case .prompts = regions, let dir = r.tracker.sam2Model else { return nil }
        if let loaded, loaded.directory == dir { return loaded }
        return try SAM2Tracking.load(dir)
    }

    /// The request's questions (the spec's when it gives none), none empty.
    static func questions(of r: RegionRequest) throws -> [VideoQuestion] {
        let questions = r.questions.isEmpty ? r.spec.questions.map { VideoQuestion($0) } : r.questions
        guard !questions.isEmpty else {
            throw PipelineError.invalidInput(what: "--question", reason: "no question given (and the pipeline \(r.spec.source) has none)")
        }
        for q in questions where q.text.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty {
            throw PipelineError.invalidInput(what: "--question", reason: "the question is empty")
        }
        return questions
    }

    /// Opens the video or frame folder and counts its frames.
    static func openSource(_ r: RegionRequest, warnings: inout [String]) throws -> Source {
        let source = try FrameSources.open(r.input, threads: 0, folderFPS: r.folderFPS)
        let frameCount = try source.countFrames()
        guard frameCount > 0 else { throw PipelineError.invalidInput(what: r.input, reason: "no frame could be decoded") }
        warnings += source.warnings.map { "\(r.input): \($0)" }
        let (W, H) = source.frameSize
        return Source(source: source, frameCount: frameCount, width: W, height: H, isFolder: source is FrameFolder)
    }

    /// The region prompts (files read, checked against the frame size and count) or the
    /// annotation (checked the same way). The one place inputs are validated before the model loads.
    static func readRegions(_ r: RegionRequest, _ input: Source) throws -> Regions {
        let annotation: RegionAnnotation?
        if let a = r.annotation {
            annotation = a
        } else if let path = r.annotationPath {
            annotation = try RegionAnnotation.load(path)
        } else {
            annotation = nil
        }
        if annotation != nil && !r.regions.isEmpty {
            throw PipelineError.invalidInput(what: "--annotation", reason: "give either region prompts or an annotation, not both")
        }
        if let annotation {
            try annotation.validate(width: input.width, height: input.height, frameCount: input.frameCount)
            return .annotation(annotation)
        }
        guard !r.regions.isEmpty else {
            throw PipelineError.invalidInput(what: "region", reason: "no region given (a mask, box, points or scribble to track, or --annotation)")
        }
        var prompts: [[(frame: Int, prompt: CheckedPrompt)]] = []
        for object in r.regions {
            let loaded = try RegionInputs.loadPrompts(object, width: input.width, height: input.height)
            for p in loaded where p.frame >= input.frameCount {
                throw PipelineError.invalidInput(what: "\(object.name) --frame \(p.frame)",
                                                 reason: "past the end: \(r.input) has \(input.frameCount) frames")
            }
            prompts.append(loaded)
        }
        return .prompts(prompts)
    }

    /// The frames the model sees (source indices, ascending) and how many were asked for: the
    /// spec's count or rate, fewer when the prompt would not fit the model's context.
    static func pickFrames(_ r: RegionRequest, _ input: Source, regions: Regions, questions: [VideoQuestion], model: GARModel,
                           warnings: inout [String]) throws -> (frames: [Int], requested: Int) {
        let candidates: [Int]
        if let annotation = regions.annotation, r.spec.frames.fromAnnotation {
            candidates = annotation.annotatedFrames
            guard !candidates.isEmpty else { throw PipelineError.invalidInput(what: annotation.source, reason: "no frame is annotated") }
        } else {
            candidates = Array(0 ..< input.frameCount)
        }
        let rule = r.spec.frames.uniformRule
        var sampled: [Int]
        if let fps = r.spec.frames.fps {
            sampled = try input.source.frameIndices(.fps(fps), window: nil)
        } else {
            sampled = pick(r.spec.frames.count, of: candidates, rule: rule)
        }
        let requested = sampled.count
        let suffix = r.spec.prompt.multipleChoiceSuffix
        let fit = try framesThatFit(model: model, regions: regions.count, questions: questions.map { $0.prompt(multipleChoiceSuffix: suffix) },
                                    options: r.spec.requestOptions)
        if sampled.count > fit {
            guard r.spec.frames.fitContext, fit >= 1 else {
                let need = "\(sampled.count) frames × \(regions.count) regions"
                throw PipelineError.invalidInput(what: "frames", reason: "\(need) do not fit the model's context (at most \(max(fit, 0)) frames would; lower frames.count or generation.max_new_tokens)")
            }
            sampled = pick(fit, of: sampled, rule: rule)
            warnings.append("using \(sampled.count) of the \(requested) requested frames so that the prompt fits the model's context")
        }
        return (sampled, requested)
    }

    /// The model's frames, decoded at their original size, and the annotation's masks on them
    /// (confidence 1, never lost). Writes the overlay when asked.
    static func annotationMasks(_ r: RegionRequest, _ input: Source, _ annotation: RegionAnnotation, frames sampled: [Int],
                                warnings: inout [String]) throws -> RegionMasks {
        var out = RegionMasks()
        let t0 = Date()
        out.frames = try decode(input.source, sampled, size: .original, label: "decode", quiet: r.quiet, warnings: &warnings)
        out.decodeSeconds = Date().timeIntervalSince(t0)
        for k in annotation.regions.indices {
            out.masks.append(out.frames.map { annotation.mask(region: k, frame: $0.index) })
            out.confidence.append(out.frames.map { _ in 1 })
            out.lost.append(out.frames.map { _ in false })
        }
        if let path = r.overlayPath {
            var f = 0
            try writeOverlay(fps: 2, to: path) {
                guard f < out.frames.count else { return nil }
                defer { f += 1 }
                return (out.frames[f].image, LabelMap(width: input.width, height: input.height, masks: out.masks.map { $0[f] }))
            }
        }
        return out
    }

    /// The frames to track (source indices, ascending): one in `step` (about spec.tracker.fps,
    /// fewer when tracker.max_frames would be exceeded), plus the sampled and prompted frames.
    static func trackingFrames(_ r: RegionRequest, _ input: Source, prompts: [[(frame: Int, prompt: CheckedPrompt)]], sampled: [Int],
                               warnings: inout [String]) -> (indices: [Int], step: Int) {
        let frameCount = input.frameCount
        var step = trackingStep(videoFPS: input.source.frameRate, trackerFPS: r.spec.tracker.fps)
        let budget = max(1, r.spec.tracker.maxFrames - sampled.count - prompts.count)
        if (frameCount + step - 1) / step > budget {
            let wanted = step
            step = (frameCount + budget - 1) / budget
            warnings.append("tracking one frame in \(step) instead of one in \(wanted): the clip has \(frameCount) frames and tracker.max_frames is \(r.spec.tracker.maxFrames)")
        }
        var tracked = Set(stride(from: 0, to: frameCount, by: step))
        tracked.formUnion(sampled)
        for p in prompts { for q in p { tracked.insert(q.frame) } }
        return (tracked.sorted(), step)
    }

    /// Tracks the prompted regions (decode at the tracking size, prompts to masks, propagation)
    /// and gives their masks on the model's frames at the original size. Sampled frames that could
    /// not be decoded are left out (with a warning). Writes the overlay when asked.
    /// `sam2`: track with SAM 2.1 (`r.tracker`, loaded by `loadTracker`), nil = the weight-free tracker.
    static func trackedMasks(_ r: RegionRequest, _ input: Source, _ prompts: [[(frame: Int, prompt: CheckedPrompt)]], sampled given: [Int],
                             sam2: SAM2Tracking? = nil, warnings: inout [String]) throws -> RegionMasks {
        var out = RegionMasks()
        var sampled = given
        let W = input.width, H = input.height
        let (trackedIndices, step) = trackingFrames(r, input, prompts: prompts, sampled: sampled, warnings: &warnings)
        // Region k's prompts, `frame` = the frame's index in the source.
        let objectPrompts = prompts.enumerated().flatMap { k, list in
            list.map { CheckedObjectPrompt(name: "<Prompt\(k)>", frame: $0.frame, prompt: $0.prompt) }
        }
        let t0 = Date()
        let pass = try sam2.map { try sam2Tracking(r, input, trackedIndices, objectPrompts, sam2: $0, keep: Set(sampled), warnings: &warnings) }
            ?? streamedTracking(r, input, trackedIndices, objectPrompts, keep: Set(sampled), warnings: &warnings)
        out.trackSeconds = Date().timeIntervalSince(t0)
        let tracks = pass.tracks
        out.trackedCount = pass.frames.count
        var position: [Int: Int] = [:]
        for (i, f) in pass.frames.enumerated() { position[f.index] = i }
        warnings += tracks.warnings
        if !r.quiet { for w in tracks.warnings { printErr("warning: \(w)") } }
        let missing = sampled.filter { position[$0] == nil }
        if !missing.isEmpty {
            warnings.append("frames \(missing.map(String.init).joined(separator: ", ")) could not be decoded and are left out")
            sampled.removeAll { position[$0] == nil }
            guard !sampled.isEmpty else { throw PipelineError.invalidInput(what: r.input, reason: "none of the sampled frames could be decoded") }
        }
        if tracks.width == W && tracks.height == H {
            out.frames = sampled.map { pass.kept[$0]! }
        } else {
            let t2 = Date()
            out.frames = try decode(input.source, sampled, size: .original, label: "decode (model frames)", quiet: r.quiet,
                                    warnings: &warnings)
            out.decodeSeconds += Date().timeIntervalSince(t2)
        }
        for track in tracks.objects {
            let on = out.frames.map { track.frames[position[$0.index]!] }
            out.masks.append(on.map { t in t.mask.map { $0.width == W && $0.height == H ? $0 : $0.resized(width: W, height: H) } })
            out.confidence.append(on.map { Double($0.confidence) })
            out.lost.append(on.map(\.lost))
        }
        if let path = r.overlayPath {
            // From a second decode of the tracked frames: the tracking pass kept none of them.
            let fps = (input.source.frameRate ?? 10) / Double(step)
            let stream = try input.source.frames(.indices(pass.frames.map(\.index)), window: nil, size: .maxSide(r.spec.tracker.maxSide), progress: nil)
            try writeOverlay(fps: fps, to: path) {
                guard let f = try stream.next() else { return nil }
                guard let t = position[f.index] else { return (f.image, LabelMap(width: f.image.width, height: f.image.height, masks: [])) }
                return (f.image, tracks.labelMap(at: t))
            }
        }
        return out
    }

    /// What a tracking pass gives: the tracked frames (source index, time), the tracks (masks at the
    /// tracking size), and the `keep` frames whose tracking size is the original size.
    struct TrackingPass {
        var frames: [(index: Int, pts: Double)]
        var tracks: MaskTracks
        var kept: [Int: Frame]
    }

    /// The weight-free tracker, streaming (`Tracker.track(stream:…)`): each tracking frame is
    /// decoded, its prompts segmented (`promptMasks`' rule), propagated and dropped — except the
    /// frames `keep` names when they are already at their original size (the model's frames).
    static func streamedTracking(_ r: RegionRequest, _ input: Source, _ indices: [Int], _ prompts: [CheckedObjectPrompt], keep: Set<Int>,
                                 warnings: inout [String]) throws -> TrackingPass {
        let progress = Progress("track", quiet: r.quiet)
        var options = Tracker.Options()
        options.maxSide = r.spec.tracker.maxSide
        let stream = try input.source.frames(.indices(indices), window: nil, size: .maxSide(r.spec.tracker.maxSide), progress: nil)
        var kept: [Int: Frame] = [:]
        let (frames, tracks) = try Tracker.track(stream: stream, source: input.source.path, sourceWidth: input.width, sourceHeight: input.height,
                                                 checked: prompts, promptFrame: .sourceIndex, options: options,
                                                 progress: { done, total in progress.advance(note: "\(done)/\(total) frame steps") },
                                                 onFrame: { f in
                                                     if keep.contains(f.index) && f.image.width == input.width && f.image.height == input.height { kept[f.index] = f }
                                                 })
        progress.finish(note: "\(frames.count) frames (decoded and tracked)")
        noteDamage(stream, of: input.source, quiet: r.quiet, warnings: &warnings)
        return TrackingPass(frames: frames, tracks: tracks, kept: kept)
    }

    /// SAM 2.1, streaming as well (`SAM2Tracking.track(stream:…)`): this decode pass counts the
    /// tracking frames, segments the prompts and keeps the `keep` frames already at their original
    /// size; SAM 2's loop then decodes the tracking frames again on demand.
    static func sam2Tracking(_ r: RegionRequest, _ input: Source, _ indices: [Int], _ prompts: [CheckedObjectPrompt], sam2: SAM2Tracking,
                             keep: Set<Int>, warnings: inout [String]) throws -> TrackingPass {
        let progress = Progress("track", quiet: r.quiet)
        let stream = try input.source.frames(.indices(indices), window: nil, size: .maxSide(r.spec.tracker.maxSide), progress: nil)
        var kept: [Int: Frame] = [:]
        let (frames, tracks) = try sam2.track(stream: stream, source: input.source, checked: prompts, promptFrame: .sourceIndex,
                                              maxSide: r.spec.tracker.maxSide,
                                              progress: { done, total in progress.advance(note: "\(done)/\(total) frame steps") },
                                              onFrame: { f in
                                                  if keep.contains(f.index) && f.image.width == input.width && f.image.height == input.height { kept[f.index] = f }
                                              })
        progress.finish(note: "\(frames.count) frames (decoded and tracked)")
        noteDamage(stream, of: input.source, quiet: r.quiet, warnings: &warnings)
        return TrackingPass(frames: frames, tracks: tracks, kept: kept)
    }

    /// Prompts to masks: the region prompts (checked by `readRegions` in the source's pixels,
    /// `frame` indexing `frames`) scaled to the tracking size and segmented on their frames.
    /// With `sam2`, SAM 2.1's image mode segments them (SAM2Tracking.swift), else GrabCut.
    static func promptMasks(_ frames: [RGBImage], _ prompts: [CheckedObjectPrompt], sam2: SAM2Tracking? = nil) throws -> PromptMasks {
        try Tracker.promptMasks(frames: frames, checked: prompts, segmenter: sam2?.segmenter)
    }

    /// Propagation of the prompt masks through the tracked frames (with progress on stderr).
    /// With `sam2`, SAM 2.1's video mode propagates them, else the weight-free tracker.
    static func propagate(_ r: RegionRequest, _ prompted: PromptMasks, through frames: [RGBImage], sam2: SAM2Tracking? = nil) throws -> MaskTracks {
        let progress = Progress("track", quiet: r.quiet)
        let note: (Int, Int) -> Void = { done, total in progress.advance(note: "\(done)/\(total) frame steps") }
        let tracks: MaskTracks
        if let sam2 {
            tracks = try sam2.propagate(prompted, frameCount: frames.count, frame: { frames[$0] }, progress: note)
        } else {
            var options = Tracker.Options()
            options.maxSide = r.spec.tracker.maxSide
            tracks = try Tracker.propagate(prompted, through: frames, options: options, progress: note)
        }
        progress.finish(note: "\(frames.count) frames")
        return tracks
    }

    /// Refuses a region with no mask on any of the model's frames (the model could not see it).
    static func checkEveryRegionSeen(_ m: RegionMasks, fromAnnotation: Bool) throws {
        for k in m.masks.indices where !m.masks[k].contains(where: { $0.map { !$0.isEmpty } ?? false }) {
            let why = fromAnnotation ? "the annotation has no non-empty mask for it on the sampled frames"
                : "the tracker lost it on every sampled frame"
            throw PipelineError.invalidInput(what: "region <Prompt\(k)>", reason: "no mask on any of the \(m.frames.count) sampled frames (\(why))")
        }
    }

    /// The frames and masks as the model takes them, with per-frame feature-cache keys: input
    /// identity + frame index + hash of the frame's union mask (what the vision tower sees).
    static func modelInputs(_ r: RegionRequest, _ m: RegionMasks, width W: Int, height H: Int) -> ModelInputs {
        let images = m.frames.map { ImageU8($0.image) }
        let maskImages: [[ImageU8?]] = m.masks.map { row in
            row.map { m in m.flatMap { $0.isEmpty ? nil : ImageU8($0) } }
        }
        let identity = inputIdentity(r.input)
        var options = r.spec.requestOptions
        options.shouldStop = r.shouldStop
        let unions: [[UInt8]] = m.frames.indices.map { f in
            var union = Mask(width: W, height: H)
            for row in m.masks { if let mask = row[f] { union = union.union(mask) } }
            return union.bits
        }
        options.frameKeys = m.frames.indices.map { f in "\(identity)#frame=\(m.frames[f].index)#union=\(fnv1a(unions[f]))" }
        return ModelInputs(images: images, masks: maskImages, unions: unions, options: options)
    }

    /// Asks each question: prompt preparation (template, boxes, tiles), then vision (or replay
    /// from the feature cache) and generation. `onText` streams the first answer.
    static func generate(_ questions: [VideoQuestion], _ inputs: ModelInputs, spec: PipelineSpec, session: GARSession,
                         emitLogits: Bool = false, onText: ((String) -> Void)?) throws -> [VideoAnswer.Answer] {
        var answers: [VideoAnswer.Answer] = []
        // The questions share the prompt up to their own text: its KV cache is computed once.
        let prefix = PromptPrefixCache()
        for (qi, q) in questions.enumerated() {
            let asked = q.prompt(multipleChoiceSuffix: spec.prompt.multipleChoiceSuffix)
            let handler: TokenHandler? = (qi == 0 ? onText : nil).map { f in { token in if !token.text.isEmpty { f(token.text) } } }
            let logits = emitLogits ? ActivationRecorder(filter: { $0 == "logits.step0" }) : nil
            let result = try session.askVideo(frames: inputs.images, masks: inputs.masks, unions: inputs.unions, question: asked, options: inputs.options,
                                              prefix: prefix, tap: logits, onToken: handler)
            let t = result.timings
            answers.append(VideoAnswer.Answer(
                question: q.text, choices: q.choices.isEmpty ? nil : q.choices, prompt: asked, text: result.text,
                tokenIds: result.tokenIDs, choice: q.choices.isEmpty ? nil : MultipleChoice.officialLetter(result.text),
                promptTokens: result.promptTokens, stoppedOnEos: result.stoppedOnStopToken, framesEncoded: result.tilesEncoded,
                timings: .init(preprocess: t.preprocess, vision: t.vision, replay: t.replay, prefill: t.prefill,
                               generate: t.decode, tokensPerSecond: t.tokensPerSecond),
                firstStepLogits: logits?["logits.step0"]))
        }
        return answers
    }

    /// The JSON answer: source, frames, per region and frame its mask (RLE, box, confidence),
    /// the answers, warnings and timings.
    static func answer(_ r: RegionRequest, _ input: Source, regions: Regions, masks m: RegionMasks, answers: [VideoAnswer.Answer],
                       framesRequested: Int, warnings: [String], model: String, load: Double, start: Date) -> VideoAnswer {
        let W = input.width, H = input.height
        let fromAnnotation = regions.annotation != nil
        var out: [VideoAnswer.Region] = []
        for k in 0 ..< regions.count {
            let prompt = fromAnnotation ? "annotation" : (k < r.regionTexts.count ? r.regionTexts[k] : RegionInputs.text(of: r.regions[k]))
            out.append(VideoAnswer.Region(name: "<Prompt\(k)>", prompt: prompt, frames: m.frames.indices.map { f in
                let mask = m.masks[k][f].flatMap { $0.isEmpty ? nil : $0 }
                return VideoAnswer.RegionFrame(
                    index: m.frames[f].index, visible: mask != nil, confidence: m.confidence[k][f], lost: m.lost[k][f],
                    status: FrameStatus(hasMask: mask != nil, lost: m.lost[k][f]).rawValue,
                    bbox: mask?.boundingBox.map { [$0.x, $0.y, $0.width, $0.height] },
                    rle: mask.map { VideoAnswer.RLEJSON(size: [H, W], counts: RLE($0).compressedString) })
            }))
        }
        func sum(_ key: KeyPath<VideoAnswer.ModelTimings, Double>) -> Double { answers.reduce(0) { $0 + $1.timings[keyPath: key] } }
        let timings = VideoAnswer.Timings(load: load, decode: m.decodeSeconds, track: m.trackSeconds, preprocess: sum(\.preprocess),
                                          vision: sum(\.vision), replay: sum(\.replay), prefill: sum(\.prefill),
                                          generate: sum(\.generate), total: Date().timeIntervalSince(start))
        let rate = input.source.frameRate
        return VideoAnswer(
            input: r.input,
            source: .init(kind: input.isFolder ? "frames" : "video", frameCount: input.frameCount, fps: rate, width: W, height: H),
            model: model, pipeline: r.spec.source, maskSource: fromAnnotation ? "annotation" : "tracker",
            tracker: fromAnnotation ? nil : r.tracker.name, sam2Model: fromAnnotation ? nil : r.tracker.sam2Model,
            frames: m.frames.map { .init(index: $0.index, pts: rate == nil ? nil : $0.pts) }, framesRequested: framesRequested,
            trackedFrames: m.trackedCount, regions: out, answers: answers,
            text: answers[0].text, tokenIds: answers[0].tokenIds, choice: answers[0].choice, promptTokens: answers[0].promptTokens,
            warnings: warnings, timings: timings)
    }

    // MARK: planning

    /// The model directory of a request: explicit, else the spec's.
    static func modelDirectory(_ r: RegionRequest) throws -> String {
        if let m = r.modelDirectory { return m }
        if let m = r.spec.model { return m }
        throw PipelineError.invalidInput(what: "--model", reason: "no model directory given (and the pipeline \(r.spec.source) names none)")
    }

    /// `count` of `candidates` by a uniform rule (all of them when count ≥ their number).
    static func pick(_ count: Int, of candidates: [Int], rule: UniformRule) -> [Int] {
        let positions = rule == .plm ? FrameSelection.uniformPLM(total: candidates.count, count: count)
            : FrameSelection.uniformVideoRefer(total: candidates.count, count: count)
        return positions.map { candidates[$0] }
    }

    /// Every k-th frame for a tracking density of `trackerFPS` (0 or an unknown video rate:
    /// every frame).
    static func trackingStep(videoFPS: Double?, trackerFPS: Double) -> Int {
        guard trackerFPS > 0, let fps = videoFPS, fps > 0 else { return 1 }
        // A tiny rate means "only the sampled and prompted frames"; capped so that the
        // arithmetic on it cannot overflow.
        let step = (fps / trackerFPS).rounded()
        return step < Double(1 << 31) ? max(1, Int(step)) : 1 << 31
    }

    /// Most frames whose prompt fits the context when every region is visible on every frame:
    /// text + frames · tokensPerTile · (1 + regions) + max_new_tokens ≤ max positions. The text
    /// part is measured exactly by building the prompt with no frame.
    static func framesThatFit(model: GARModel, regions: Int, questions: [String], options: RequestOptions) throws -> Int {
        var text = 0
        for q in questions {
            let layout = try model.prompts.video(frames: 0, visible: [[Bool]](repeating: [], count: regions), question: q,
                                                 template: options.videoTemplate, doubleBOS: options.doubleBOS)
            text = max(text, layout.ids.count)
        }
        let limit = model.spec.text.maxPositionEmbeddings
        guard options.generation.maxNewTokens <= limit else { return 0 }   // (and no overflow below)
        let room = limit - options.generation.maxNewTokens - text
        return room / (model.tokensPerTile * (1 + regions))
    }

    // MARK: decoding

    /// The frames at `indices` (ascending), streamed from the source. Damaged data met (undecodable
    /// packets, wanted frames skipped) is added to `warnings` (once) and printed unless `quiet`.
    static func decode(_ source: any FrameSource, _ indices: [Int], size: OutputSize, label: String, quiet: Bool,
                       warnings: inout [String]) throws -> [Frame] {
        let progress = Progress(label, total: indices.count, quiet: quiet)
        let stream = try source.frames(.indices(indices), window: nil, size: size, progress: { _, _ in progress.advance() })
        var frames: [Frame] = []
        frames.reserveCapacity(indices.count)
        while let f = try stream.next() { frames.append(f) }
        progress.finish()
        noteDamage(stream, of: source, quiet: quiet, warnings: &warnings)
        guard !frames.isEmpty else {
            throw PipelineError.invalidInput(what: source.path, reason: "none of the \(indices.count) wanted frames could be decoded")
        }
        return frames
    }

    /// A decode pass's damaged data (undecodable packets, wanted frames skipped), added to
    /// `warnings` once and printed unless `quiet`.
    static func noteDamage(_ stream: FrameStream, of source: any FrameSource, quiet: Bool, warnings: inout [String]) {
        if let note = stream.damageNote.map({ "\(source.path): \($0)" }), !warnings.contains(note) {
            warnings.append(note)
            if !quiet { printErr("warning: \(note)") }
        }
    }

    // MARK: helpers

    /// Identifies the input's content for the feature cache: path, size and modification time
    /// (a folder: its path and its frame files' count).
    static func inputIdentity(_ path: String) -> String {
        let attrs = try? FileManager.default.attributesOfItem(atPath: path)
        let size = (attrs?[.size] as? NSNumber)?.int64Value ?? -1
        let mtime = (attrs?[.modificationDate] as? Date)?.timeIntervalSince1970 ?? 0
        return "\(path)|\(size)|\(mtime)"
    }

    /// FNV-1a 64 of bytes (cache keys of masks).
    static func fnv1a(_ bytes: [UInt8]) -> String {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        for b in bytes {
            h ^= UInt64(b)
            h = h &* 0x0000_0100_0000_01b3
        }
        return String(h, radix: 16)
    }

    /// The frames with the regions blended in (TrackJob.overlay: DAVIS palette, region k = colour
    /// k+1, borders opaque), written with VideoWriter (the file appears only when complete).
    /// `next()` gives each frame and its label map, nil at the end (frames written as they come).
    static func writeOverlay(fps: Double, to path: String, next: () throws -> (RGBImage, LabelMap)?) throws {
        guard let first = try next() else { return }
        let url = URL(fileURLWithPath: path)
        let target = try AtomicOutput.resolvingSymlink(url)   // a symlink stays one, as with --output
        try AtomicOutput.createDirectory(target.deletingLastPathComponent(), for: url)
        let mode = AtomicOutput.permissions(of: target)
        let writer = try VideoWriter(path: target.path, width: first.0.width, height: first.0.height, fps: fps)
        InterruptCleanup.register(writer.temporaryPath)
        defer { InterruptCleanup.unregister(writer.temporaryPath) }
        var item: (RGBImage, LabelMap)? = first
        while let (img, labels) = item {
            try writer.append(TrackJob.overlay(img, labels))
            item = try next()
        }
        try writer.finish()
        if let mode { chmod(target.path, mode) }
    }
}
