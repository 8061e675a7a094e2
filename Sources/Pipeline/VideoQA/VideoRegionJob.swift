// One video-region request end to end: `gar caption`, `gar ask VIDEO`, `gar run`, one item of
// `gar batch` and one question of `gar bench videorefer`.
//
//   1. open the input (video file or frame folder); read and check the region prompts or the
//      annotation — bad inputs fail here, before the model loads;
//   2. plan the frames: the N frames the model sees (spec.frames; fewer if the prompt would not
//      fit the context), and, when tracking, the frames the tracker runs on (every k-th frame at
//      about spec.tracker.fps, plus the sampled and prompted frames);
//   3. decode: tracking frames at the tracking size (long side ≤ 854), streamed into the list
//      the tracker needs; the model's frames at their original size (re-used from the tracking
//      pass when that is already the original size, else a second, seeking pass for just N frames);
//   4. masks: track the prompts (Tracker.track), or read the annotation; per region and sampled
//      frame: mask, confidence, lost flag;
//   5. ask GAR (video protocol v1, template from the spec) each question, through a session whose
//      feature cache is keyed by input + frame + union mask, so later questions on the same clip
//      reuse the vision features (VideoRegionEngine holds the model and cache across requests);
//   6. shape the JSON answer (VideoAnswer) and, if asked, write the overlay video.
//
// Memory: besides the model, the tracking frames (≈1.2 MB each at 854×480) and the N sampled
// frames at full size; the model holds only the N frames' tiles and features.
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

/// One request.
public struct VideoRegionRequest: Sendable {
    /// Video file or folder of frames.
    public var input: String
    /// Frame rate to give a folder of frames (time-based sampling needs one).
    public var folderFPS: Double?
    /// Regions to track, region k = `<Promptk>` (empty when masks come from an annotation).
    public var regions: [ObjectSpec] = []
    /// The region strings as the user gave them (for the JSON), same order as `regions`.
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
    /// Put each answer's first-step logits in the JSON (precision checks).
    public var emitLogits = false
    /// No progress lines on stderr.
    public var quiet = true

    public init(input: String, spec: PipelineSpec) {
        self.input = input
        self.spec = spec
    }
}

public enum VideoRegionJob {
    /// Runs a request. `engine`: a loaded model to reuse (else one is loaded). `onText` receives
    /// the first answer's text as it is generated.
    public static func run(_ r: VideoRegionRequest, engine given: VideoRegionEngine? = nil,
                           onText: ((String) -> Void)? = nil) throws -> VideoAnswer {
        let start = Date()
        var warnings: [String] = []
        if let t = r.threads {
            guard t >= 1 else { throw PipelineError.invalidInput(what: "--threads", reason: "must be at least 1, got \(t)") }
            Threading.set(t)
        }
        let questions = r.questions.isEmpty ? r.spec.questions.map { VideoQuestion($0) } : r.questions
        guard !questions.isEmpty else {
            throw PipelineError.invalidInput(what: "--question", reason: "no question given (and the pipeline \(r.spec.source) has none)")
        }
        for q in questions where q.text.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty {
            throw PipelineError.invalidInput(what: "--question", reason: "the question is empty")
        }

        // 1. Inputs.
        let source = try FrameSources.open(r.input, threads: 0, folderFPS: r.folderFPS)
        let frameCount = try source.countFrames()
        guard frameCount > 0 else { throw PipelineError.invalidInput(what: r.input, reason: "no frame could be decoded") }
        warnings += source.warnings.map { "\(r.input): \($0)" }
        let (W, H) = source.frameSize
        let isFolder = source is FrameFolder
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
        var prompts: [[(frame: Int, prompt: RegionPrompt)]] = []
        if let annotation {
            try annotation.validate(width: W, height: H, frameCount: frameCount)
        } else {
            guard !r.regions.isEmpty else {
                throw PipelineError.invalidInput(what: "region", reason: "no region given (a mask, box, points or scribble to track, or --annotation)")
            }
            for object in r.regions {
                let loaded = try RegionInputs.loadPrompts(object, width: W, height: H)
                for p in loaded where p.frame >= frameCount {
                    throw PipelineError.invalidInput(what: "\(object.name) --frame \(p.frame)",
                                                     reason: "past the end: \(r.input) has \(frameCount) frames")
                }
                prompts.append(loaded)
            }
        }
        let regionCount = annotation?.regions.count ?? prompts.count

        // Model.
        let engine = try given ?? VideoRegionEngine(modelDirectory: try modelDirectory(r), precision: r.precision)
        let model = engine.model
        let load = engine.takeLoadSeconds()
        let suffix = r.spec.prompt.multipleChoiceSuffix

        // 2. Frames the model sees.
        let candidates: [Int]
        if let annotation, r.spec.frames.fromAnnotation {
            candidates = annotation.annotatedFrames
            guard !candidates.isEmpty else { throw PipelineError.invalidInput(what: annotation.source, reason: "no frame is annotated") }
        } else {
            candidates = Array(0 ..< frameCount)
        }
        let rule: UniformRule = r.spec.frames.rule == "videorefer" ? .videorefer : .plm
        var sampled: [Int]
        if let fps = r.spec.frames.fps {
            sampled = try source.frameIndices(.fps(fps), window: nil)
        } else {
            sampled = pick(r.spec.frames.count, of: candidates, rule: rule)
        }
        let requested = sampled.count
        let fit = try framesThatFit(model: model, regions: regionCount, questions: questions.map { $0.prompt(multipleChoiceSuffix: suffix) },
                                    options: r.spec.requestOptions)
        if sampled.count > fit {
            guard r.spec.frames.fitContext, fit >= 1 else {
                let need = "\(sampled.count) frames × \(regionCount) regions"
                throw PipelineError.invalidInput(what: "frames", reason: "\(need) do not fit the model's context (at most \(max(fit, 0)) frames would; lower frames.count or generation.max_new_tokens)")
            }
            sampled = pick(fit, of: sampled, rule: rule)
            warnings.append("using \(sampled.count) of the \(requested) requested frames so that the prompt fits the model's context")
        }

        // 3–4. Decode and masks.
        var decodeSeconds = 0.0, trackSeconds = 0.0
        var modelFrames: [Frame] = []
        var masks: [[Mask?]] = []                     // [region][sampled frame], original size
        var confidence: [[Double]] = [], lost: [[Bool]] = []
        var trackedCount = 0
        if let annotation {
            let t0 = Date()
            modelFrames = try decode(source, sampled, size: .original, label: "decode", quiet: r.quiet, warnings: &warnings)
            decodeSeconds += Date().timeIntervalSince(t0)
            for k in 0 ..< regionCount {
                masks.append(modelFrames.map { annotation.mask(region: k, frame: $0.index) })
                confidence.append(modelFrames.map { _ in 1 })
                lost.append(modelFrames.map { _ in false })
            }
            if let path = r.overlayPath {
                try writeOverlay(frames: modelFrames.map(\.image), labelMaps: modelFrames.indices.map { f in
                    LabelMap(width: W, height: H, masks: masks.map { $0[f] })
                }, fps: 2, to: path)
            }
        } else {
            var step = trackingStep(videoFPS: source.frameRate, trackerFPS: r.spec.tracker.fps)
            let budget = max(1, r.spec.tracker.maxFrames - sampled.count - prompts.count)
            if (frameCount + step - 1) / step > budget {
                let wanted = step
                step = (frameCount + budget - 1) / budget
                warnings.append("tracking one frame in \(step) instead of one in \(wanted): the clip has \(frameCount) frames and tracker.max_frames is \(r.spec.tracker.maxFrames)")
            }
            var tracked = Set(stride(from: 0, to: frameCount, by: step))
            tracked.formUnion(sampled)
            for p in prompts { for q in p { tracked.insert(q.frame) } }
            let trackedIndices = tracked.sorted()
            let t0 = Date()
            let trackFrames = try decode(source, trackedIndices, size: .maxSide(r.spec.tracker.maxSide), label: "decode", quiet: r.quiet,
                                         warnings: &warnings)
            decodeSeconds += Date().timeIntervalSince(t0)
            trackedCount = trackFrames.count
            var position: [Int: Int] = [:]
            for (i, f) in trackFrames.enumerated() { position[f.index] = i }
            let w = trackFrames[0].image.width, h = trackFrames[0].image.height
            var objectPrompts: [ObjectPrompt] = []
            for (k, list) in prompts.enumerated() {
                for p in list {
                    guard let pos = position[p.frame] else {
                        throw PipelineError.invalidInput(what: r.input, reason: "the prompted frame \(p.frame) could not be decoded")
                    }
                    let scaled = Tracker.scaled(p.prompt, sx: Double(w) / Double(W), sy: Double(h) / Double(H), width: w, height: h)
                    objectPrompts.append(ObjectPrompt(name: "<Prompt\(k)>", frame: pos, prompt: scaled))
                }
            }
            let t1 = Date()
            let progress = Progress("track", quiet: r.quiet)
            var options = Tracker.Options()
            options.maxSide = r.spec.tracker.maxSide
            let tracks = try Tracker.track(frames: trackFrames.map(\.image), prompts: objectPrompts, options: options,
                                           progress: { done, total in progress.advance(note: "\(done)/\(total) frame steps") })
            progress.finish(note: "\(trackFrames.count) frames")
            trackSeconds = Date().timeIntervalSince(t1)
            let missing = sampled.filter { position[$0] == nil }
            if !missing.isEmpty {
                warnings.append("frames \(missing.map(String.init).joined(separator: ", ")) could not be decoded and are left out")
                sampled.removeAll { position[$0] == nil }
                guard !sampled.isEmpty else { throw PipelineError.invalidInput(what: r.input, reason: "none of the sampled frames could be decoded") }
            }
            if w == W && h == H {
                modelFrames = sampled.map { trackFrames[position[$0]!] }
            } else {
                let t2 = Date()
                modelFrames = try decode(source, sampled, size: .original, label: "decode (model frames)", quiet: r.quiet,
                                         warnings: &warnings)
                decodeSeconds += Date().timeIntervalSince(t2)
            }
            for k in 0 ..< regionCount {
                let track = tracks.objects[k]
                masks.append(modelFrames.map { f in
                    track.frames[position[f.index]!].mask.map { $0.width == W && $0.height == H ? $0 : $0.resized(width: W, height: H) }
                })
                confidence.append(modelFrames.map { Double(track.frames[position[$0.index]!].confidence) })
                lost.append(modelFrames.map { track.frames[position[$0.index]!].lost })
            }
            if let path = r.overlayPath {
                let fps = (source.frameRate ?? 10) / Double(step)
                try writeOverlay(frames: trackFrames.map(\.image), labelMaps: trackFrames.indices.map { tracks.labelMap(at: $0) },
                                 fps: fps, to: path)
            }
        }
        for k in 0 ..< regionCount where !masks[k].contains(where: { $0.map { !$0.isEmpty } ?? false }) {
            let why = annotation != nil ? "the annotation has no non-empty mask for it on the sampled frames"
                : "the tracker lost it on every sampled frame"
            throw PipelineError.invalidInput(what: "region <Prompt\(k)>", reason: "no mask on any of the \(modelFrames.count) sampled frames (\(why))")
        }

        // 5. GAR.
        let images = modelFrames.map { ImageU8(width: $0.image.width, height: $0.image.height, channels: 3, pixels: $0.image.pixels) }
        let maskImages: [[ImageU8?]] = masks.map { row in
            row.map { m in m.flatMap { $0.isEmpty ? nil : ImageU8(width: $0.width, height: $0.height, channels: 1, pixels: $0.bits) } }
        }
        let identity = inputIdentity(r.input)
        var options = r.spec.requestOptions
        options.frameKeys = modelFrames.indices.map { f in
            var union = Mask(width: W, height: H)
            for k in 0 ..< regionCount { if let m = masks[k][f] { union = union.union(m) } }
            return "\(identity)#frame=\(modelFrames[f].index)#union=\(fnv1a(union.bits))"
        }
        var answers: [VideoAnswer.Answer] = []
        for (qi, q) in questions.enumerated() {
            let asked = q.prompt(multipleChoiceSuffix: suffix)
            let handler: TokenHandler? = (qi == 0 ? onText : nil).map { f in { token in if !token.text.isEmpty { f(token.text) } } }
            let logits = r.emitLogits ? ActivationRecorder(filter: { $0 == "logits.step0" }) : nil
            let result = try engine.session.askVideo(frames: images, masks: maskImages, question: asked, options: options,
                                                     tap: logits, onToken: handler)
            let t = result.timings
            answers.append(VideoAnswer.Answer(
                question: q.text, choices: q.choices.isEmpty ? nil : q.choices, prompt: asked, text: result.text,
                tokenIds: result.tokenIDs, choice: q.choices.isEmpty ? nil : MultipleChoice.officialLetter(result.text),
                promptTokens: result.promptTokens, stoppedOnEos: result.stoppedOnStopToken, framesEncoded: result.tilesEncoded,
                timings: .init(preprocess: t.preprocess, vision: t.vision, replay: t.replay, prefill: t.prefill,
                               generate: t.decode, tokensPerSecond: t.tokensPerSecond),
                firstStepLogits: logits?["logits.step0"]))
        }

        // 6. The answer.
        var regions: [VideoAnswer.Region] = []
        for k in 0 ..< regionCount {
            let prompt = annotation != nil ? "annotation" : (k < r.regionTexts.count ? r.regionTexts[k] : describe(r.regions[k]))
            regions.append(VideoAnswer.Region(name: "<Prompt\(k)>", prompt: prompt, frames: modelFrames.indices.map { f in
                let m = masks[k][f].flatMap { $0.isEmpty ? nil : $0 }
                return VideoAnswer.RegionFrame(
                    index: modelFrames[f].index, visible: m != nil, confidence: confidence[k][f], lost: lost[k][f],
                    bbox: m?.boundingBox.map { [$0.x, $0.y, $0.width, $0.height] },
                    rle: m.map { VideoAnswer.RLEJSON(size: [H, W], counts: RLE($0).compressedString) })
            }))
        }
        func sum(_ key: KeyPath<VideoAnswer.ModelTimings, Double>) -> Double { answers.reduce(0) { $0 + $1.timings[keyPath: key] } }
        let timings = VideoAnswer.Timings(load: load, decode: decodeSeconds, track: trackSeconds, preprocess: sum(\.preprocess),
                                          vision: sum(\.vision), replay: sum(\.replay), prefill: sum(\.prefill),
                                          generate: sum(\.generate), total: Date().timeIntervalSince(start))
        return VideoAnswer(
            input: r.input,
            source: .init(kind: isFolder ? "frames" : "video", frameCount: frameCount, fps: source.frameRate, width: W, height: H),
            model: engine.directory, pipeline: r.spec.source, maskSource: annotation != nil ? "annotation" : "tracker",
            frames: modelFrames.map { .init(index: $0.index, pts: source.frameRate == nil ? nil : $0.pts) }, framesRequested: requested,
            trackedFrames: trackedCount, regions: regions, answers: answers,
            text: answers[0].text, tokenIds: answers[0].tokenIds, choice: answers[0].choice, promptTokens: answers[0].promptTokens,
            warnings: warnings, timings: timings)
    }

    // MARK: planning

    /// The model directory of a request: explicit, else the spec's.
    static func modelDirectory(_ r: VideoRegionRequest) throws -> String {
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
        if let note = stream.damageNote.map({ "\(source.path): \($0)" }), !warnings.contains(note) {
            warnings.append(note)
            if !quiet { printErr("warning: \(note)") }
        }
        guard !frames.isEmpty else {
            throw PipelineError.invalidInput(what: source.path, reason: "none of the \(indices.count) wanted frames could be decoded")
        }
        return frames
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

    /// The prompt of a region as text (when the request carried no original strings).
    static func describe(_ o: ObjectSpec) -> String {
        o.prompts.map { p in
            var items = ["frame=\(p.frame)"]
            if let m = p.maskPath { items.append("mask=\(m)") }
            if let b = p.box { items.append("box=\(b.x),\(b.y),\(b.x2),\(b.y2)") }
            for q in p.points { items.append("point=\(q.x),\(q.y)\(q.positive ? "" : ",neg")") }
            if let s = p.scribblePath { items.append("scribble=\(s)") }
            return items.joined(separator: " ")
        }.joined(separator: " ")
    }

    /// The frames with the regions blended in (TrackJob.overlay: DAVIS palette, region k = colour
    /// k+1, borders opaque), written with VideoWriter (the file appears only when complete).
    static func writeOverlay(frames: [RGBImage], labelMaps: [LabelMap], fps: Double, to path: String) throws {
        guard let first = frames.first else { return }
        let url = URL(fileURLWithPath: path)
        let target = try AtomicOutput.resolvingSymlink(url)   // a symlink stays one, as with --output
        try AtomicOutput.createDirectory(target.deletingLastPathComponent(), for: url)
        let mode = AtomicOutput.permissions(of: target)
        let writer = try VideoWriter(path: target.path, width: first.width, height: first.height, fps: fps)
        InterruptCleanup.register(writer.temporaryPath)
        defer { InterruptCleanup.unregister(writer.temporaryPath) }
        for (img, labels) in zip(frames, labelMaps) {
            try writer.append(TrackJob.overlay(img, labels))
        }
        try writer.finish()
        if let mode { chmod(target.path, mode) }
    }
}
