// preprocessor_config.json (PLM fast image processor, GAR-SPEC §2.6) and
// generation_config.json (optional eos ids).
import Foundation

/// `preprocessor_config.json` as stored. Use `resolved()` for values with defaults applied.
public struct PreprocessorConfig: Decodable, Sendable {
    public var maxNumTiles: Int?
    public var maxFrameTiles: Int?
    public var tileSize: Int?
    public var resample: Int?
    public var imageMean: [Double]?
    public var imageStd: [Double]?
    public var rescaleFactor: Double?
    public var doConvertRgb: Bool?
    public var doNormalize: Bool?
    public var doRescale: Bool?
    public var visionInputType: String?

    enum CodingKeys: String, CodingKey {
        case maxNumTiles = "max_num_tiles"
        case maxFrameTiles = "max_frame_tiles"
        case tileSize = "tile_size"
        case resample
        case imageMean = "image_mean"
        case imageStd = "image_std"
        case rescaleFactor = "rescale_factor"
        case doConvertRgb = "do_convert_rgb"
        case doNormalize = "do_normalize"
        case doRescale = "do_rescale"
        case visionInputType = "vision_input_type"
    }

    /// Resolved values (transformers PerceptionLMImageProcessorFast defaults for absent keys).
    public struct Resolved: Sendable, Equatable, Codable {
        public var maxNumTiles: Int
        public var maxFrameTiles: Int
        public var tileSize: Int
        /// PIL resampling code: 3 = BICUBIC (the only one the image path supports).
        public var resample: Int
        public var imageMean: [Float]
        public var imageStd: [Float]
        public var rescaleFactor: Float
        public var visionInputType: String
    }

    public func resolved(fileName: String = "preprocessor_config.json") throws -> Resolved {
        func fail(_ field: String, _ problem: String) -> CheckpointError { .config(file: fileName, field: field, problem: problem) }
        let tiles = maxNumTiles ?? 36
        // The tile-grid search enumerates every grid of at most `tiles` tiles (PLM uses 36).
        guard tiles > 0, tiles <= 1024 else { throw fail("max_num_tiles", "must be between 1 and 1024, got \(tiles)") }
        let tile = tileSize ?? 448
        guard tile > 0 else { throw fail("tile_size", "must be positive, got \(tile)") }
        let mean = imageMean ?? [0.5, 0.5, 0.5], std = imageStd ?? [0.5, 0.5, 0.5]
        guard mean.count == 3 else { throw fail("image_mean", "expected 3 values, got \(mean.count)") }
        guard std.count == 3, std.allSatisfy({ $0 > 0 }) else { throw fail("image_std", "expected 3 positive values") }
        let r = resample ?? 3
        guard r == 3 else { throw fail("resample", "\(r) is not supported (expected 3 = BICUBIC)") }
        let kind = visionInputType ?? "thumb+tile"
        guard kind == "thumb+tile" || kind == "vanilla" else {
            throw fail("vision_input_type", "\"\(kind)\" is not supported (expected \"thumb+tile\" or \"vanilla\")")
        }
        return Resolved(maxNumTiles: tiles, maxFrameTiles: maxFrameTiles ?? 1, tileSize: tile, resample: r,
                        imageMean: mean.map(Float.init), imageStd: std.map(Float.init),
                        rescaleFactor: Float(rescaleFactor ?? 1.0 / 255.0), visionInputType: kind)
    }

    public static func load(_ path: String) throws -> Resolved {
        let file = ConfigFile.resolveFile(path, defaultName: "preprocessor_config.json")
        return try ConfigFile.decode(PreprocessorConfig.self, path: file).resolved(fileName: file)
    }
}

/// `generation_config.json` (all fields optional).
public struct GenerationConfig: Decodable, Sendable, Equatable {
    public var bosTokenId: Int?
    public var eosTokenId: IntOrList?
    public var padTokenId: Int?
    public var maxNewTokens: Int?
    public var doSample: Bool?
    public var temperature: Double?
    public var topP: Double?

    enum CodingKeys: String, CodingKey {
        case bosTokenId = "bos_token_id"
        case eosTokenId = "eos_token_id"
        case padTokenId = "pad_token_id"
        case maxNewTokens = "max_new_tokens"
        case doSample = "do_sample"
        case temperature
        case topP = "top_p"
    }

    public var eosTokenIds: [Int] { eosTokenId?.values ?? [] }

    /// Reads `generation_config.json` if the directory has one (nil otherwise).
    public static func loadIfPresent(_ directory: String) throws -> GenerationConfig? {
        let file = URL(fileURLWithPath: directory).appendingPathComponent("generation_config.json").path
        guard FileManager.default.fileExists(atPath: file) else { return nil }
        return try ConfigFile.decode(GenerationConfig.self, path: file)
    }
}

extension ConfigFile {
    /// `path` itself if it is a file, else `path/defaultName`.
    static func resolveFile(_ path: String, defaultName: String) -> String {
        var isDir: ObjCBool = false
        if FileManager.default.fileExists(atPath: path, isDirectory: &isDir), isDir.boolValue {
            return URL(fileURLWithPath: path).appendingPathComponent(defaultName).path
        }
        return path
    }
}
