// The entry points the pipeline and the CLI call: describe one region, ask about several regions of
// an image, ask about regions across video frames. Each request: check the inputs, preprocess
// (tiles, masks, prompt), image features (or the cache), embedding assembly with feature replay,
// prefill, generation. The model is shared and immutable; a session holds per-caller state (the
// optional feature cache, counters); each request allocates its own KV cache and scratch, so
// requests may run concurrently (they then share the CPUs).
import Foundation
import Synchronization
import Tensors

/// Options of the feature replay (GAR-SPEC §6).
public struct ReplayOptions: Sendable, Equatable {
    /// Non-default: RoI boxes in feature units with spatial scale 1, so the replay samples the
    /// region itself instead of the reference's doubly scaled window near the top-left corner
    /// (GAR-SPEC §6.3). The released weights were trained WITH the double scaling.
    public var correctedBoxScaling = false
    /// Non-default (image mode, several regions): each region's own box instead of the reference's
    /// box of the last mask for every region (GAR-SPEC §6.5).
    public var perRegionBoxes = false

    public init(correctedBoxScaling: Bool = false, perRegionBoxes: Bool = false) {
        self.correctedBoxScaling = correctedBoxScaling
        self.perRegionBoxes = perRegionBoxes
    }
}

/// Everything a request can tune besides its inputs.
public struct RequestOptions: Sendable {
    public var generation = GenerationOptions()
    public var replay = ReplayOptions()
    /// Two BOS ids as the reference eval path produces (GAR-SPEC §15.1); false = one (training).
    public var doubleBOS = true
    /// Tiles per vision-tower batch.
    public var tileBatch = GARModel.defaultTileBatch
    /// Prompt rows per prefill pass.
    public var prefillChunk = DecoderState.defaultChunkRows
    /// Image mode: cache key of this image with this union mask (see FeatureCache).
    public var featureKey: String?
    /// Video mode: cache key per frame (pixels + that frame's union mask).
    public var frameKeys: [String]?
    /// Video mode: the user-text template (default: video protocol v1).
    public var videoTemplate: VideoPromptTemplate = .v1
    /// Asked before each generated token after the first; true ends generation there (a server
    /// client that went away). nil = never.
    public var shouldStop: (@Sendable () -> Bool)?

    public init(generation: GenerationOptions = GenerationOptions(), replay: ReplayOptions = ReplayOptions()) {
        self.generation = generation
        self.replay = replay
    }
}

/// Seconds per stage of one request.
public struct StageTimings: Sendable, Codable, Equatable {
    /// Input checks, resizing, mask tiles, prompt ids.
    public var preprocess: Double = 0
    /// Vision tower + projector (0 when every tile came from the cache).
    public var vision: Double = 0
    /// Embedding lookup, image-feature scatter and RoI replay.
    public var replay: Double = 0
    public var prefill: Double = 0
    public var decode: Double = 0
    /// Generated tokens per second of decode time (the first token comes from the prefill).
    public var tokensPerSecond: Double = 0
}

/// The answer to one request.
public struct GARResult: Sendable {
    /// Decoded as the reference demos decode (GAR-SPEC §15.2).
    public var text: String
    /// Generated ids only, the stop id included when generated.
    public var tokenIDs: [Int]
    public var stoppedOnStopToken: Bool
    /// Prompt length L.
    public var promptTokens: Int
    /// Image mode: the tile grid (ncw × nch); nil in video mode.
    public var grid: TileGrid?
    /// Tiles (image mode: 1 + ncw·nch) or frames (video mode) seen by the tower.
    public var tiles: Int
    /// Tiles actually run through the tower (the rest came from the cache).
    public var tilesEncoded: Int
    /// Where each replay span sits, in prompt order.
    public var spans: [ReplaySpan]
    public var timings: StageTimings
    /// Leading prompt tokens whose keys and values came from a `PromptPrefixCache` (not run again).
    public var reusedPromptTokens = 0
}

/// A prepared request: model inputs before any neural network runs.
public struct PreparedRequest: Sendable {
    public var tiles: [TileInput]
    public var grid: TileGrid?
    public var prompt: PromptLayout
    /// One box per span (same order as `prompt.spans`).
    public var boxes: [NormalizedBox]
    /// Image mode: one key for all tiles; video mode: one per frame.
    var cacheKeys: [String]?
    var perFrameCache: Bool
}

public final class GARSession: Sendable {
    public let model: GARModel
    public let featureCache: FeatureCache?
    private let encoded = Atomic<Int>(0)

    /// Tiles run through the vision tower by this session so far.
    public var tilesEncodedTotal: Int { encoded.load(ordering: .relaxed) }

    public init(model: GARModel, featureCache: FeatureCache? = nil) {
        self.model = model
        self.featureCache = featureCache
    }

    // MARK: the three requests

    /// Describes one region (the reference single-region prompt with `<Prompt1>`).
    /// `image`: RGB (3 channels); `mask`: 1 channel, same size, nonzero inside the region.
    public func describe(image: ImageU8, mask: ImageU8, options: RequestOptions = RequestOptions(),
                         tap: (any ActivationTap)? = nil, onToken: TokenHandler? = nil) throws -> GARResult {
        let t0 = Date()
        let request = try prepareDescribe(image: image, mask: mask, options: options)
        return try run(request, options: options, preprocessSeconds: Date().timeIntervalSince(t0), tap: tap, onToken: onToken)
    }

    /// Answers `question` about regions `<Prompt0>`, `<Prompt1>`, … given by `masks` in that order
    /// (the reference multi-region prompt, ascending region order).
    /// `prefix`: see `run`.
    public func ask(image: ImageU8, masks: [ImageU8], question: String, options: RequestOptions = RequestOptions(),
                    prefix: PromptPrefixCache? = nil,
                    tap: (any ActivationTap)? = nil, onToken: TokenHandler? = nil) throws -> GARResult {
        let t0 = Date()
        let request = try prepareAsk(image: image, masks: masks, question: question, options: options)
        return try run(request, options: options, preprocessSeconds: Date().timeIntervalSince(t0), prefix: prefix, tap: tap, onToken: onToken)
    }

    /// Video protocol v1 (ARCHITECTURE.md §4): `frames` in order; `masks[k][f]` is region k's mask
    /// on frame f (nil or empty = not visible there). `unions`: see `prepareVideo`; `prefix`: see `run`.
    public func askVideo(frames: [ImageU8], masks: [[ImageU8?]], unions: [[UInt8]]? = nil, question: String,
                         options: RequestOptions = RequestOptions(), prefix: PromptPrefixCache? = nil,
                         tap: (any ActivationTap)? = nil, onToken: TokenHandler? = nil) throws -> GARResult {
        let t0 = Date()
        let request = try prepareVideo(frames: frames, masks: masks, unions: unions, question: question, options: options)
        return try run(request, options: options, preprocessSeconds: Date().timeIntervalSince(t0), prefix: prefix, tap: tap, onToken: onToken)
    }

    // MARK: preparation (input checks happen here)

    public func prepareDescribe(image: ImageU8, mask: ImageU8, options: RequestOptions = RequestOptions()) throws -> PreparedRequest {
        try checkImage(image, "the image")
        try checkMask(mask, name: "the mask", against: image, imageName: "the image")
        guard let box = NormalizedBox.of(mask: mask.pixels, width: mask.width, height: mask.height) else {
            throw ModelError.emptyMask(what: "the mask")
        }
        let (grid, tiles) = model.imageProcessor.thumbAndTiles(image: image, mask: mask.pixels)
        let prompt = try model.prompts.describe(tiles: tiles.count, doubleBOS: options.doubleBOS)
        return PreparedRequest(tiles: tiles, grid: grid, prompt: prompt, boxes: prompt.spans.map { _ in box },
                               cacheKeys: options.featureKey.map { [$0] }, perFrameCache: false)
    }

    public func prepareAsk(image: ImageU8, masks: [ImageU8], question: String, options: RequestOptions = RequestOptions()) throws -> PreparedRequest {
        try checkImage(image, "the image")
        guard !masks.isEmpty else { throw ModelError.invalidInput("no region mask given") }
        let budget = model.spec.cropTokenIds.count
        guard masks.count <= budget else { throw ModelError.tooManyRegions(count: masks.count, budget: budget) }
        var boxes: [NormalizedBox] = []
        var union = [UInt8](repeating: 0, count: image.width * image.height)
        for (k, mask) in masks.enumerated() {
            try checkMask(mask, name: "mask \(k) (<Prompt\(k)>)", against: image, imageName: "the image")
            guard let box = NormalizedBox.of(mask: mask.pixels, width: mask.width, height: mask.height) else {
                throw ModelError.emptyMask(what: "mask \(k) (<Prompt\(k)>)")
            }
            boxes.append(box)
            for i in union.indices where mask.pixels[i] != 0 { union[i] = 1 }
        }
        try checkQuestion(question, regions: masks.count)
        let (grid, tiles) = model.imageProcessor.thumbAndTiles(image: image, mask: union)
        let prompt = try model.prompts.ask(tiles: tiles.count, regions: masks.count, question: question, doubleBOS: options.doubleBOS)
        // Reference quirk (GAR-SPEC §6.5): every region uses the LAST mask's box.
        let spanBoxes = prompt.spans.map { options.replay.perRegionBoxes ? boxes[$0.region] : boxes[boxes.count - 1] }
        return PreparedRequest(tiles: tiles, grid: grid, prompt: prompt, boxes: spanBoxes,
                               cacheKeys: options.featureKey.map { [$0] }, perFrameCache: false)
    }

    /// Video mode. The vision tower sees each frame with the union of its region masks;
    /// `unions[f]` (width × height bytes, 1 = inside some region's mask on frame f) may be given
    /// by a caller that has already computed it (e.g. for its feature-cache key), else it is
    /// computed here.
    public func prepareVideo(frames: [ImageU8], masks: [[ImageU8?]], unions: [[UInt8]]? = nil, question: String,
                             options: RequestOptions = RequestOptions()) throws -> PreparedRequest {
        guard !frames.isEmpty else { throw ModelError.invalidInput("no frames given") }
        if let unions, unions.count != frames.count {
            throw ModelError.invalidInput("\(unions.count) union masks for \(frames.count) frames")
        }
        guard !masks.isEmpty else { throw ModelError.invalidInput("no region given") }
        let budget = model.spec.cropTokenIds.count
        guard masks.count <= budget else { throw ModelError.tooManyRegions(count: masks.count, budget: budget) }
        if let keys = options.frameKeys, keys.count != frames.count {
            throw ModelError.invalidInput("\(keys.count) frame cache keys for \(frames.count) frames")
        }
        var visible = [[Bool]](repeating: [Bool](repeating: false, count: frames.count), count: masks.count)
        var boxes = [[NormalizedBox?]](repeating: [NormalizedBox?](repeating: nil, count: frames.count), count: masks.count)
        var tiles: [TileInput] = []
        for (f, frame) in frames.enumerated() {
            try checkImage(frame, "frame \(f)")
            if let unions, unions[f].count != frame.width * frame.height {
                throw ModelError.invalidInput("the union mask of frame \(f) has \(unions[f].count) pixels, the frame \(frame.width * frame.height)")
            }
            var union = unions?[f] ?? [UInt8](repeating: 0, count: frame.width * frame.height)
            for k in masks.indices {
                guard masks[k].count == frames.count else {
                    throw ModelError.invalidInput("region \(k) has masks for \(masks[k].count) frames, expected \(frames.count)")
                }
                guard let mask = masks[k][f] else { continue }
                try checkMask(mask, name: "region \(k)'s mask on frame \(f)", against: frame, imageName: "frame \(f)")
                guard let box = NormalizedBox.of(mask: mask.pixels, width: mask.width, height: mask.height) else { continue }
                visible[k][f] = true
                boxes[k][f] = box
                if unions == nil { for i in union.indices where mask.pixels[i] != 0 { union[i] = 1 } }
            }
            tiles.append(model.imageProcessor.singleTile(image: frame, mask: union))
        }
        try checkQuestion(question, regions: masks.count)
        let prompt = try model.prompts.video(frames: frames.count, visible: visible, question: question,
                                             template: options.videoTemplate, doubleBOS: options.doubleBOS)
        var spanBoxes: [NormalizedBox] = []
        for span in prompt.spans {
            // The builder makes a span exactly where visible[k][f], i.e. where a box was found.
            guard let f = span.frame, let box = boxes[span.region][f] else { preconditionFailure("video span without a box") }
            spanBoxes.append(box)
        }
        return PreparedRequest(tiles: tiles, grid: nil, prompt: prompt, boxes: spanBoxes, cacheKeys: options.frameKeys, perFrameCache: true)
    }

    // MARK: running

    /// Runs a prepared request. `prefix`: the KV cache of the caller's previous request (same
    /// clip and regions, another question); the leading prompt rows identical to that request's
    /// are not run again (`GARResult.reusedPromptTokens`), and afterwards it holds this request's.
    public func run(_ request: PreparedRequest, options: RequestOptions = RequestOptions(), preprocessSeconds: Double = 0,
                    prefix: PromptPrefixCache? = nil,
                    tap: (any ActivationTap)? = nil, onToken: TokenHandler? = nil) throws -> GARResult {
        try options.generation.validate()
        let L = request.prompt.ids.count
        let limit = model.spec.text.maxPositionEmbeddings
        // Compared without adding: a huge max_new_tokens must not overflow.
        guard options.generation.maxNewTokens <= limit - L else {
            let needed = L.addingReportingOverflow(options.generation.maxNewTokens)
            throw ModelError.contextOverflow(needed: needed.overflow ? Int.max : needed.partialValue, limit: limit)
        }
        var timings = StageTimings()
        timings.preprocess = preprocessSeconds

        let t0 = Date()
        let (features, encoded) = features(for: request, tileBatch: options.tileBatch, tap: tap)
        timings.vision = Date().timeIntervalSince(t0)

        let t1 = Date()
        let embeds = model.assembleEmbeddings(prompt: request.prompt, features: features, boxes: request.boxes, grid: request.grid,
                                              corrected: options.replay.correctedBoxScaling, tap: tap)
        timings.replay = Date().timeIntervalSince(t1)

        let stops = options.generation.stopTokenIDs ?? model.defaultStopTokens
        let out = Generator.run(decoder: model.decoder, embeds: embeds, rows: L, options: options.generation, stopTokens: stops,
                                tokenizer: model.tokenizer, chunkRows: options.prefillChunk, prefix: prefix, tap: tap, onToken: onToken,
                                shouldStop: options.shouldStop)
        timings.prefill = out.prefillSeconds
        timings.decode = out.decodeSeconds
        // The first token comes out of the prefill; the decode loop produces the others.
        let decoded = max(out.tokenIDs.count - 1, 0)
        timings.tokensPerSecond = out.decodeSeconds > 0 ? Double(decoded) / out.decodeSeconds : 0
        return GARResult(text: model.tokenizer.garDecode(out.tokenIDs), tokenIDs: out.tokenIDs,
                         stoppedOnStopToken: out.stoppedOnStopToken, promptTokens: L, grid: request.grid,
                         tiles: request.tiles.count, tilesEncoded: encoded, spans: request.prompt.spans, timings: timings,
                         reusedPromptTokens: out.reusedRows)
    }

    /// Features of all tiles, from the cache where keys allow.
    private func features(for request: PreparedRequest, tileBatch: Int, tap: (any ActivationTap)?) -> (Tensor, Int) {
        let D = model.textWidth, per = model.tokensPerTile
        guard let cache = featureCache, let keys = request.cacheKeys else {
            let f = model.imageFeatures(request.tiles, tileBatch: tileBatch, tap: tap)
            encoded.add(request.tiles.count, ordering: .relaxed)
            return (f, request.tiles.count)
        }
        if !request.perFrameCache {
            if let hit = cache.get(keys[0]), hit.count == request.tiles.count * per * D { return (hit, 0) }
            let f = model.imageFeatures(request.tiles, tileBatch: tileBatch, tap: tap)
            encoded.add(request.tiles.count, ordering: .relaxed)
            cache.put(keys[0], f)
            return (f, request.tiles.count)
        }
        // Per frame: encode only the missing frames (in one batch run), then assemble.
        var cached: [Tensor?] = keys.map { k in cache.get(k).flatMap { $0.count == per * D ? $0 : nil } }
        let missing = cached.indices.filter { cached[$0] == nil }
        if !missing.isEmpty {
            let f = model.imageFeatures(missing.map { request.tiles[$0] }, tileBatch: tileBatch, tap: tap)
            encoded.add(missing.count, ordering: .relaxed)
            for (j, i) in missing.enumerated() {
                let one = Tensor(shape: [per, D], Array(f.storage[(j * per * D) ..< ((j + 1) * per * D)]))
                cache.put(keys[i], one)
                cached[i] = one
            }
        }
        var all = [Float]()
        all.reserveCapacity(keys.count * per * D)
        for t in cached { all += t?.storage ?? [] }
        return (Tensor(shape: [keys.count * per, D], all), missing.count)
    }

    // MARK: input checks

    private func checkImage(_ image: ImageU8, _ name: String) throws {
        guard image.channels == 3 else { throw ModelError.invalidInput("\(name) has \(image.channels) channels, expected RGB (3)") }
        guard image.width > 0 && image.height > 0 else { throw ModelError.invalidInput("\(name) is empty (\(image.width)×\(image.height))") }
    }

    private func checkMask(_ mask: ImageU8, name: String, against image: ImageU8, imageName: String) throws {
        guard mask.channels == 1 else { throw ModelError.invalidInput("\(name) has \(mask.channels) channels, expected 1") }
        guard mask.width == image.width && mask.height == image.height else {
            throw ModelError.sizeMismatch(what: name, size: (mask.width, mask.height), expected: imageName, expectedSize: (image.width, image.height))
        }
    }

    /// Throws `unknownRegion` when `question` names a `<PromptK>` with K ≥ `regions` (the command
    /// line checks this before any work, the session again for every request).
    public static func checkRegionNames(_ question: String, regions: Int) throws {
        var rest = Substring(question)
        while let r = rest.range(of: "<Prompt") {
            let after = rest[r.upperBound...]
            let digits = after.prefix(while: { $0.isASCII && $0.isNumber })
            if !digits.isEmpty, after.dropFirst(digits.count).first == ">", let k = Int(digits), k >= regions {
                throw ModelError.unknownRegion(name: "<Prompt\(digits)>", regions: regions)
            }
            rest = after
        }
    }

    /// `<PromptK>` names must have masks; the question may not carry the special tokens the
    /// prompt machinery relies on (image, video and crop tokens).
    private func checkQuestion(_ question: String, regions: Int) throws {
        try GARSession.checkRegionNames(question, regions: regions)
        let ids = Set(model.tokenizer.encode(question, addSpecialTokens: false))
        var reserved = Set(model.spec.cropTokenIds)
        reserved.insert(model.spec.imageTokenId)
        if let video = model.spec.videoTokenId { reserved.insert(video) }
        if let bad = ids.intersection(reserved).min() {
            throw ModelError.invalidInput("the question contains the special token \(model.tokenizer.token(of: bad) ?? "#\(bad)"), which the prompt reserves for images and regions")
        }
    }
}
