// Locating and reading the committed fixtures (Tests/Fixtures, see its README.md): tiny checkpoints,
// golden cases (manifest.json + tensors.safetensors), unit goldens.
import Checkpoints
import Foundation
import JSONCore
@testable import Models
import Synchronization
import Tensors
import Video

enum Fixtures {
    static let root: URL = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fixtures")

    static func path(_ relative: String) -> String { root.appendingPathComponent(relative).path }

    /// Loaded tiny models, shared by all tests (loading is strict and checked once by its own test).
    private static let models = Mutex<[String: GARModel]>([:])

    /// The tiny checkpoint `name` loaded for `precision` (f32: the exact path of the parity tests).
    static func model(_ name: String, precision: Precision = .f32) throws -> GARModel {
        let key = "\(name)/\(precision.rawValue)"
        if let m = models.withLock({ $0[key] }) { return m }
        let m = try GARModel.load(directory: path(name), precision: precision)
        models.withLock { $0[key] = m }
        return m
    }

    /// RGB image as PIL's `Image.open(p).convert("RGB")` gives it.
    static func image(_ relative: String) throws -> ImageU8 {
        let im = try ImageIO.readRGB(path(relative))
        return ImageU8(width: im.width, height: im.height, channels: 3, pixels: im.pixels)
    }

    /// Mask as the demos read it (`convert("L")` then `astype(bool)`; the fixture masks are mode L).
    static func mask(_ relative: String) throws -> ImageU8 {
        let im = try ImageIO.readLabels(path(relative))
        return ImageU8(width: im.width, height: im.height, channels: 1, pixels: im.pixels.map { $0 != 0 ? 1 : 0 })
    }
}

/// One golden case: manifest + tensors.
struct GoldenCase {
    let name: String
    let manifest: [String: Any]
    let tensors: SafeTensorsFile

    init(_ name: String) throws {
        self.name = name
        let dir = Fixtures.root.appendingPathComponent("goldens").appendingPathComponent(name)
        let data = try Data(contentsOf: dir.appendingPathComponent("manifest.json"))
        manifest = try parseJSON(data) as! [String: Any]
        tensors = try SafeTensorsFile(path: dir.appendingPathComponent("tensors.safetensors").path)
    }

    var inputs: [String: Any] { manifest["inputs"] as! [String: Any] }
    var expected: [String: Any] { manifest["expected"] as! [String: Any] }
    var checkpoint: String { manifest["checkpoint"] as! String }
    var maxNewTokens: Int { manifest["max_new_tokens"] as! Int }

    func has(_ key: String) -> Bool { tensors.names.contains(key) }
    func floats(_ key: String) throws -> [Float] { try tensors.view(key).tensor().storage }
    func shape(_ key: String) throws -> [Int] { try tensors.view(key).info.shape }
    func ints(_ key: String) throws -> [Int] { try tensors.view(key).integers().map { Int($0) } }
    func bytes(_ key: String) throws -> [UInt8] { try tensors.view(key).uint8Values() }

    /// The case's request, its inputs read as the generator read them (PIL-parity PNG decoding).
    func prepare(_ session: GARSession, options: RequestOptions) throws -> PreparedRequest {
        let kind = inputs["kind"] as! String
        switch kind {
        case "describe":
            let image = try Fixtures.image(inputs["image"] as! String)
            let mask = try Fixtures.mask((inputs["masks"] as! [String])[0])
            return try session.prepareDescribe(image: image, mask: mask, options: options)
        case "ask":
            let image = try Fixtures.image(inputs["image"] as! String)
            let masks = try (inputs["masks"] as! [String]).map(Fixtures.mask)
            return try session.prepareAsk(image: image, masks: masks, question: inputs["question"] as! String, options: options)
        case "ask-video":
            let frames = try (inputs["frames"] as! [String]).map(Fixtures.image)
            let masks: [[ImageU8?]] = try (inputs["masks"] as! [[Any]]).map { region in
                try region.map { entry -> ImageU8? in
                    guard let path = entry as? String else { return nil }
                    return try Fixtures.mask(path)
                }
            }
            return try session.prepareVideo(frames: frames, masks: masks, question: inputs["question"] as! String, options: options)
        default:
            throw GoldenCaseError(description: "\(name): unknown case kind \(kind)")
        }
    }
}

struct GoldenCaseError: Error, CustomStringConvertible {
    let description: String
}

/// Unit-golden JSON files.
func unitGoldenJSON(_ name: String) throws -> Any {
    try parseJSON(Data(contentsOf: Fixtures.root.appendingPathComponent("goldens/unit/\(name)")))
}

/// JSON as Foundation-style values, parsed with JSONCore's StrictJSON: Foundation's
/// JSONSerialization on Linux does not round decimal numbers correctly (0.3497297297297297 came
/// back one ulp off), and the goldens' boxes are compared exactly.
func parseJSON(_ data: Data) throws -> Any {
    func convert(_ v: JSONValue) -> Any {
        switch v {
        case let .object(members): return Dictionary(members.map { ($0.0, convert($0.1)) }, uniquingKeysWith: { a, _ in a })
        case let .array(items): return items.map(convert)
        case let .string(s): return s
        case let .integer(i): return Int(i)
        case let .number(d): return d
        case let .bool(b): return b
        case .null: return NSNull()
        }
    }
    let bytes = [UInt8](data)
    return try bytes.withUnsafeBytes { convert(try StrictJSON.parse($0)) }
}
