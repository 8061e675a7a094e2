// SAM 2.1 image-mode parity with transformers 4.56.2 on the tiny random checkpoint
// (Tests/Fixtures/sam2-tiny, goldens in Tests/Fixtures/goldens/sam2, written by
// Tests/Fixtures/generate/generate_sam2.py). Every named intermediate is compared, in forward order,
// so a failure names the first diverging stage.
//
// Tolerances: the preprocessing resize is bit-exact (uint8), pixel values within 1 ulp-scale
// (1e-6 absolute); float stages max |Δ| ≤ 1e-5 · max |reference| (the reference ran in fp32;
// the difference is summation order, measured ≤ 2e-6 relative at every stage); binary
// masks identical, or IoU ≥ 0.999 (a pixel whose logit sits at 0 may flip).
import Checkpoints
import Foundation
import JSONCore
@testable import SAM2
import Synchronization
import Tensors
import Testing

/// A set of goldens: the committed tiny one, or the hiera-tiny-shaped one that
/// `generate_sam2.py --size hiera-tiny --out DIR` writes (not committed, ~150 MB: the tests run on
/// it when GAR_SAM2_HIERA_TINY=DIR is set, and skip it otherwise).
struct GoldenSet: Sendable, CustomStringConvertible {
    let root: URL
    let checkpointName: String
    /// Relative tolerance of the float stages.
    let rel: Float

    var description: String { checkpointName }
    var checkpoint: String { root.appendingPathComponent(checkpointName).path }

    static let tiny = GoldenSet(root: URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fixtures"), checkpointName: "sam2-tiny", rel: 1e-5)
    static let hieraTiny: GoldenSet? = ProcessInfo.processInfo.environment["GAR_SAM2_HIERA_TINY"].map {
        GoldenSet(root: URL(fileURLWithPath: $0), checkpointName: "sam2-hiera-tiny", rel: 1e-4)
    }
    static var all: [GoldenSet] { [tiny] + (hieraTiny.map { [$0] } ?? []) }

    func golden(_ name: String) throws -> (manifest: [String: JSONValue], tensors: SafeTensorsFile) {
        let dir = root.appendingPathComponent("goldens/sam2/\(name)")
        let bytes = try [UInt8](Data(contentsOf: dir.appendingPathComponent("manifest.json")))
        guard case let .object(members) = try bytes.withUnsafeBytes({ try StrictJSON.parse($0) }) else {
            throw SAM2Error.invalidInput("\(name)/manifest.json is not an object")
        }
        return (Dictionary(members, uniquingKeysWith: { a, _ in a }), try SafeTensorsFile(path: dir.appendingPathComponent("tensors.safetensors").path))
    }

    private static let models = Mutex<[String: SAM2Model]>([:])
    func model(precision: Precision = .f32) throws -> SAM2Model {
        let key = "\(checkpoint) \(precision)"
        if let m = GoldenSet.models.withLock({ $0[key] }) { return m }
        let m = try SAM2Model.load(directory: checkpoint, precision: precision)
        GoldenSet.models.withLock { $0[key] = m }
        return m
    }
}

enum SAM2Fixtures {
    static var checkpoint: String { GoldenSet.tiny.checkpoint }
    static let model: SAM2Model? = try? GoldenSet.tiny.model()
    static func golden(_ name: String) throws -> (manifest: [String: JSONValue], tensors: SafeTensorsFile) { try GoldenSet.tiny.golden(name) }
}

func number(_ v: JSONValue?) -> Double? {
    switch v {
    case let .integer(i)?: return Double(i)
    case let .number(d)?: return d
    default: return nil
    }
}

func numbers(_ v: JSONValue?) -> [Double] {
    guard case let .array(items)? = v else { return [] }
    return items.compactMap { number($0) }
}

/// max |a − b| and max |b|.
func maxError(_ a: [Float], _ b: [Float]) -> (Float, Float) {
    var e: Float = 0, m: Float = 0
    for i in 0 ..< min(a.count, b.count) {
        e = max(e, abs(a[i] - b[i]))
        m = max(m, abs(b[i]))
    }
    return (a.count == b.count ? e : .infinity, m)
}

/// Compares one float stage with the golden tensor of the same name; records the error.
func expectClose(_ name: String, _ value: [Float], _ golden: SafeTensorsFile, rel: Float = 1e-5,
                 report: inout [String]) throws {
    let ref = try golden.view(name).tensor().storage
    let (err, scale) = maxError(value, ref)
    report.append("\(name): max |Δ| \(err) (max |ref| \(scale), \(value.count) values)")
    #expect(value.count == ref.count, "\(name): \(value.count) values, reference has \(ref.count)")
    #expect(err <= rel * max(scale, 1e-6), "\(name): max |Δ| \(err) > \(rel) · \(scale)")
}

/// The prompts of a golden case in model-input coordinates, normalised as the processor does
/// (checked against the processor's values), with the case's tensors.
func goldenPrompt(_ set: GoldenSet, _ name: String, imageSize: Int) throws
    -> (points: [SAM2Point], box: SAM2Box?, maskPrompt: Tensor?, multimask: Bool, width: Int, height: Int, tensors: SafeTensorsFile) {
    let (manifest, tensors) = try set.golden(name)
    guard case let .object(inputMembers)? = manifest["inputs"] else { throw SAM2Error.invalidInput("\(name): no inputs") }
    let inputs = Dictionary(inputMembers, uniquingKeysWith: { a, _ in a })
    let H = Int(number(inputs["image_height"])!), W = Int(number(inputs["image_width"])!)
    let S = imageSize

    // Prompts in original pixels, normalised as the processor does (compared with its values).
    var points: [SAM2Point] = []
    if case let .array(pts)? = inputs["points"] {
        let labels = numbers(inputs["labels"])
        for (i, p) in pts.enumerated() {
            let xy = numbers(p)
            let (x, y) = SAM2Processing.normalize(x: Float(xy[0]), y: Float(xy[1]), width: W, height: H, size: S)
            points.append(SAM2Point(x: x, y: y, label: Int(labels[i])))
        }
        let refNorm: [Float]
        if case let .array(rows)? = inputs["normalized_points"] { refNorm = rows.flatMap { numbers($0).map(Float.init) } } else { refNorm = [] }
        #expect(points.flatMap { [$0.x, $0.y] } == refNorm, "normalised points")
    }
    var box: SAM2Box? = nil
    let b = numbers(inputs["box"])
    if b.count == 4 {
        let (x0, y0) = SAM2Processing.normalize(x: Float(b[0]), y: Float(b[1]), width: W, height: H, size: S)
        let (x1, y1) = SAM2Processing.normalize(x: Float(b[2]), y: Float(b[3]), width: W, height: H, size: S)
        box = SAM2Box(x0: x0, y0: y0, x1: x1, y1: y1)
        #expect([x0, y0, x1, y1] == numbers(inputs["normalized_box"]).map(Float.init), "normalised box")
    }
    let maskPrompt = tensors.names.contains("input_masks") ? try tensors.view("input_masks").tensor() : nil
    var multimask = true
    if case let .bool(m)? = inputs["multimask_output"] { multimask = m }
    return (points, box, maskPrompt, multimask, W, H, tensors)
}

@Suite(.serialized) struct SAM2GoldenTests {
    @Test func loadsStrictly() throws {
        let model = try SAM2Model.load(directory: SAM2Fixtures.checkpoint)
        #expect(model.config.imageSize == 128)
        #expect(model.hiera.blocks.count == 6)
        #expect(model.hiera.blocks.map(\.window) == [8, 8, 4, 0, 6, 6])
        #expect(model.hiera.blocks.map(\.queryStride) == [1, 2, 2, 1, 1, 2])
    }

    @Test(arguments: GoldenSet.all) func preprocessingMatches(_ set: GoldenSet) throws {
        let model = try set.model()
        let (manifest, tensors) = try set.golden("image")
        guard case let .object(inputs)? = manifest["inputs"] else { Issue.record("no inputs"); return }
        let dict = Dictionary(inputs, uniquingKeysWith: { a, _ in a })
        let H = Int(number(dict["image_height"])!), W = Int(number(dict["image_width"])!)
        let image = ImageU8(width: W, height: H, channels: 3, pixels: try tensors.view("image_u8").uint8Values())
        let pixels = try SAM2Processing.preprocess(image, size: model.config.imageSize)
        let ref = try tensors.view("pixel_values").tensor().storage
        let (err, _) = maxError(pixels.storage, ref)
        #expect(err <= 1e-6, "pixel values: max |Δ| \(err)")
    }

    @Test(arguments: GoldenSet.all) func imageEncoderMatches(_ set: GoldenSet) throws {
        let model = try set.model()
        let (manifest, tensors) = try set.golden("image")
        let pixels = try tensors.view("pixel_values").tensor()
        var stages: [(String, Tensor)] = []
        _ = model.encode(pixels) { stages.append(($0, $1)) }
        var report: [String] = []
        for (name, value) in stages { try expectClose(name, value.storage, tensors, rel: set.rel, report: &report) }
        print("[\(set) image]\n" + report.joined(separator: "\n"))
        guard case let .object(expected)? = manifest["expected"] else { Issue.record("no expected"); return }
        let blocks = Int(number(Dictionary(expected, uniquingKeysWith: { a, _ in a })["num_blocks"])!)
        #expect(stages.count == blocks + 4 + 3 + 3 + 1)
    }

    @Test(arguments: GoldenSet.all, ["box", "clicks", "click_single", "box_click", "mask"])
    func promptMatches(_ set: GoldenSet, _ name: String) throws {
        let model = try set.model()
        let (_, imageTensors) = try set.golden("image")
        let (points, box, maskPrompt, multimask, W, H, tensors) = try goldenPrompt(set, name, imageSize: model.config.imageSize)

        // Image features from the golden pixel values (the encoder is checked on its own above).
        let features = model.encode(try imageTensors.view("pixel_values").tensor())
        var taps: [String: Tensor] = [:]
        let prediction = try model.predict(features, points: points, box: box, maskPrompt: maskPrompt, multimaskOutput: multimask) { taps[$0] = $1 }
        var report: [String] = []
        try expectClose("sparse_embeddings", taps["sparse_embeddings"]!.storage, tensors, rel: set.rel, report: &report)
        try expectClose("dense_embeddings", taps["dense_embeddings"]!.storage, tensors, rel: set.rel, report: &report)
        try expectClose("multimask_decoder_masks", prediction.decoder.masks.storage, tensors, rel: set.rel, report: &report)
        try expectClose("multimask_decoder_iou", prediction.decoder.iou, tensors, rel: set.rel, report: &report)
        try expectClose("pred_masks", prediction.lowResMasks.storage, tensors, rel: set.rel, report: &report)
        try expectClose("iou_scores", prediction.iouScores, tensors, rel: set.rel, report: &report)
        try expectClose("object_score_logits", [prediction.objectScoreLogit], tensors, rel: set.rel, report: &report)

        // Upscaled logits and binary masks at the original size.
        let logits = SAM2Processing.upscale(prediction.lowResMasks, width: W, height: H)
        if tensors.names.contains("upscaled_logits") {
            try expectClose("upscaled_logits", logits.storage, tensors, rel: set.rel, report: &report)
        }
        let binary = SAM2Processing.binarize(logits).flatMap { $0 }
        let refBinary = try tensors.view("binary_masks").uint8Values()
        let differing = zip(binary, refBinary).filter { $0 != $1 }.count
        report.append("binary_masks: \(differing) of \(refBinary.count) pixels differ")
        if differing > 0 {
            let inter = zip(binary, refBinary).filter { $0 == 1 && $1 == 1 }.count
            let union = zip(binary, refBinary).filter { $0 == 1 || $1 == 1 }.count
            #expect(Double(inter) / Double(max(union, 1)) >= 0.999, "binary masks: IoU \(Double(inter) / Double(max(union, 1)))")
        }
        #expect(binary.count == refBinary.count)
        print("[\(set) \(name)]\n" + report.joined(separator: "\n"))
    }
}
