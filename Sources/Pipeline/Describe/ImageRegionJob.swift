// `gar describe` and `gar ask` on images: read the image and the region masks (Video's ImageIO,
// PIL-parity decoding), load the model, run the GAR request, and shape the JSON answer.
import Foundation
import Models
import Tensors
import Video

/// One image request: describe (one mask, no question) or ask (one or more masks and one or more
/// questions).
public struct ImageRegionRequest: Sendable {
    public var modelDirectory: String
    public var imagePath: String
    /// Region k = `<Promptk>` = maskPaths[k]. A mask pixel is inside when nonzero.
    public var maskPaths: [String]
    /// Empty → the reference describe prompt (`<Prompt1>`). Several questions share the image's
    /// features and the KV cache of their common prompt prefix.
    public var questions: [String]
    /// The first question (nil → describe); setting it replaces `questions`.
    public var question: String? {
        get { questions.first }
        set { questions = newValue.map { [$0] } ?? [] }
    }
    public var options: RequestOptions
    /// nil = all CPUs.
    public var threads: Int?
    /// Compute precision of the model (the CLI resolves flag > GAR_PRECISION > CPU default).
    public var precision: Precision = .f32
    /// Put the first generation step's logits in the answer (precision checks).
    public var emitLogits = false

    public init(modelDirectory: String, imagePath: String, maskPaths: [String], question: String?,
                options: RequestOptions = RequestOptions(), threads: Int? = nil) {
        self.modelDirectory = modelDirectory
        self.imagePath = imagePath
        self.maskPaths = maskPaths
        self.questions = question.map { [$0] } ?? []
        self.options = options
        self.threads = threads
    }
}

/// The JSON answer of `gar describe --json` / `gar ask --json`.
public struct ImageRegionAnswer: Codable, Sendable {
    public struct Timings: Codable, Sendable {
        public var load: Double
        public var preprocess: Double
        public var vision: Double
        public var replay: Double
        public var prefill: Double
        public var decode: Double
        public var tokensPerSecond: Double
    }

    /// Decoded as the reference demos decode (GAR-SPEC §15.2).
    public var text: String
    /// Generated ids, the stop id included when generated.
    public var tokenIds: [Int]
    public var promptTokens: Int
    public var stoppedOnEos: Bool
    /// [columns, rows] of the tile grid (ncw, nch).
    public var grid: [Int]
    /// Tiles seen by the vision tower (thumbnail + grid).
    public var tiles: Int
    public var image: String
    public var masks: [String]
    public var question: String?
    public var model: String
    public var timings: Timings
    /// The logits of the first generated token (`--emit-logits`), vocabulary order; omitted otherwise.
    public var firstStepLogits: [Float]? = nil
    /// README "JSON outputs" (`describe / ask IMAGE`).
    public var schemaVersion = 1

    public func json() throws -> String { try JSONOutput.string(self) }
}

public enum ImageRegionJob {
    /// Reads an RGB image as PIL's `convert("RGB")` does.
    public static func readImage(_ path: String) throws -> ImageU8 {
        ImageU8(try ImageIO.readRGB(path))
    }

    /// Reads a region mask: any nonzero label is inside (PNG masks 0/255, 0/1 or 16-bit, palette
    /// masks by index, RGB masks where any channel is nonzero).
    public static func readMask(_ path: String) throws -> ImageU8 {
        ImageU8(try ImageIO.readMask(path))
    }

    /// Runs the request with its first question (or describe). `onText` receives the answer's
    /// text as it is generated.
    public static func run(_ r: ImageRegionRequest, model preloaded: GARModel? = nil,
                           onText: ((String) -> Void)? = nil) throws -> ImageRegionAnswer {
        var first = r
        first.question = r.question
        return try runAll(first, model: preloaded, onText: onText.map { f in { _, text in f(text) } })[0]
    }

    /// The request's image and masks, read and checked (one mask to describe, same size as the
    /// image, not empty; no empty question): the input errors, raised before any model loads.
    public static func readInputs(_ r: ImageRegionRequest) throws -> (image: ImageU8, masks: [ImageU8]) {
        guard !r.maskPaths.isEmpty else { throw PipelineError.invalidInput(what: "--mask", reason: "at least one mask is required") }
        if r.question == nil && r.maskPaths.count != 1 {
            throw PipelineError.invalidInput(what: "--mask", reason: "describe takes exactly one mask (use ask for several regions)")
        }
        for q in r.questions where q.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty {
            throw PipelineError.invalidInput(what: "--question", reason: "the question is empty")
        }
        let image = try readImage(r.imagePath)
        let masks = try r.maskPaths.map(readMask)
        for (k, (mask, path)) in zip(masks, r.maskPaths).enumerated() {
            let name = r.question == nil ? "mask \(path)" : "mask \(path) (<Prompt\(k)>)"
            if mask.width != image.width || mask.height != image.height {
                throw PipelineError.invalidInput(what: name, reason: "\(mask.width)×\(mask.height) does not match the image \(r.imagePath) (\(image.width)×\(image.height))")
            }
            if !mask.pixels.contains(where: { $0 != 0 }) {
                throw PipelineError.invalidInput(what: name, reason: "the mask is empty (no nonzero pixel)")
            }
        }
        return (image, masks)
    }

    /// Runs the request: one answer per question (one describe answer without a question), in
    /// order. The image is encoded once, and each question after the first runs only its prompt
    /// rows after the prefix it shares with the previous one. `onText(i, text)` receives answer
    /// i's text as it is generated.
    public static func runAll(_ r: ImageRegionRequest, model preloaded: GARModel? = nil,
                              onText: ((Int, String) -> Void)? = nil) throws -> [ImageRegionAnswer] {
        let (image, masks) = try readInputs(r)   // inputs first: a bad path fails before the model loads
        if let t = r.threads {
            guard t >= 1 else { throw PipelineError.invalidInput(what: "--threads", reason: "must be at least 1, got \(t)") }
            Threading.set(t)
        }
        let t0 = Date()
        let model = try preloaded ?? GARModel.load(directory: r.modelDirectory, precision: r.precision)
        let load = preloaded == nil ? Date().timeIntervalSince(t0) : 0
        // Several questions: one feature-cache entry for the image (same pixels, same union mask).
        let several = r.questions.count > 1
        let session = GARSession(model: model, featureCache: several ? FeatureCache() : nil)
        var options = r.options
        if several && options.featureKey == nil { options.featureKey = "image" }
        let prefix = PromptPrefixCache()
        var answers: [ImageRegionAnswer] = []
        for (i, question) in (r.questions.isEmpty ? [nil] : r.questions.map { Optional($0) }).enumerated() {
            let handler: TokenHandler? = onText.map { f in { token in if !token.text.isEmpty { f(i, token.text) } } }
            let logits = r.emitLogits ? ActivationRecorder(filter: { $0 == "logits.step0" }) : nil
            let result: GARResult
            if let question {
                result = try session.ask(image: image, masks: masks, question: question, options: options, prefix: prefix,
                                         tap: logits, onToken: handler)
            } else {
                result = try session.describe(image: image, mask: masks[0], options: options, tap: logits, onToken: handler)
            }
            let t = result.timings
            var answer = ImageRegionAnswer(text: result.text, tokenIds: result.tokenIDs, promptTokens: result.promptTokens,
                                           stoppedOnEos: result.stoppedOnStopToken,
                                           grid: [result.grid?.columns ?? 1, result.grid?.rows ?? 1], tiles: result.tiles,
                                           image: r.imagePath, masks: r.maskPaths, question: question, model: r.modelDirectory,
                                           timings: .init(load: i == 0 ? load : 0, preprocess: t.preprocess, vision: t.vision,
                                                          replay: t.replay, prefill: t.prefill, decode: t.decode,
                                                          tokensPerSecond: t.tokensPerSecond))
            answer.firstStepLogits = logits?["logits.step0"]
            answers.append(answer)
        }
        return answers
    }
}
