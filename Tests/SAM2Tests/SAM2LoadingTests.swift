// Strict loading and bad input: a changed checkpoint or config is refused with one error naming
// the key or field; the video-mode keys of the official checkpoints are ignored on purpose.
import Checkpoints
import Foundation
@testable import SAM2
import Tensors
import Testing

@Suite struct SAM2LoadingTests {
    /// A copy of the tiny checkpoint with `edit` applied to its tensors (and config text).
    func variant(_ edit: (inout [SafeTensorsWriter.Entry]) -> Void, config: (String) -> String = { $0 }) throws -> String {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("sam2-variant-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let source = try SafeTensorsFile(path: SAM2Fixtures.checkpoint + "/model.safetensors")
        var entries = try source.names.map { SafeTensorsWriter.Entry(name: $0, tensor: try source.view($0).tensor()) }
        edit(&entries)
        var writer = SafeTensorsWriter()
        writer.metadata = ["format": "pt"]
        entries.forEach { writer.add($0) }
        try Data(writer.serialized()).write(to: dir.appendingPathComponent("model.safetensors"))
        let text = try String(contentsOfFile: SAM2Fixtures.checkpoint + "/config.json", encoding: .utf8)
        try config(text).write(to: dir.appendingPathComponent("config.json"), atomically: true, encoding: .utf8)
        return dir.path
    }

    @Test func videoModeKeysAreIgnored() throws {
        let dir = try variant { entries in
            entries.append(.init(name: "memory_attention.layers.0.self_attn.q_proj.weight", tensor: Tensor(shape: [2, 2])))
            entries.append(.init(name: "no_object_pointer", tensor: Tensor(shape: [1, 32])))
        }
        defer { try? FileManager.default.removeItem(atPath: dir) }
        _ = try SAM2Model.load(directory: dir)
    }

    @Test func unknownMissingAndMisshapedKeysAreReported() throws {
        let dir = try variant { entries in
            entries.removeAll { $0.name == "mask_decoder.iou_token.weight" }
            entries.append(.init(name: "mask_decoder.extra.weight", tensor: Tensor(shape: [3])))
            if let i = entries.firstIndex(where: { $0.name == "no_memory_embedding" }) {
                entries[i] = .init(name: "no_memory_embedding", tensor: Tensor(shape: [1, 1, 31]))
            }
        }
        defer { try? FileManager.default.removeItem(atPath: dir) }
        do {
            _ = try SAM2Model.load(directory: dir)
            Issue.record("a damaged checkpoint loaded")
        } catch let CheckpointError.load(report) {
            #expect(report.missing == ["mask_decoder.iou_token.weight"])
            #expect(report.unused == ["mask_decoder.extra.weight"])
            #expect(report.mismatched.map(\.name) == ["no_memory_embedding"])
        }
    }

    @Test func unsupportedConfigIsNamed() throws {
        let dir = try variant({ _ in }, config: { $0.replacingOccurrences(of: "\"fpn_kernel_size\": 1", with: "\"fpn_kernel_size\": 3") })
        defer { try? FileManager.default.removeItem(atPath: dir) }
        #expect(throws: SAM2Error.self) { _ = try SAM2Model.load(directory: dir) }
        do { _ = try SAM2Model.load(directory: dir) } catch {
            #expect("\(error)".contains("config.json") && "\(error)".contains("FPN"), "\(error)")
        }
    }

    @Test func badPromptsAreRefused() throws {
        let model = try #require(SAM2Fixtures.model)
        let features = model.encode(Tensor(shape: [3, 128, 128]))
        #expect(throws: SAM2Error.self) { _ = try model.predict(features, maskPrompt: Tensor(shape: [16, 16])) }
        #expect(throws: SAM2Error.self) { _ = try model.predict(features, points: [SAM2Point(x: 1, y: 1, label: 7)]) }
        #expect(throws: SAM2Error.self) { _ = try SAM2Processing.preprocess(ImageU8(width: 2, height: 2, channels: 1, pixels: [0, 0, 0, 0]), size: 128) }
    }

    /// The predictor (preprocess → model → upscale → binarise) on the golden image and box gives
    /// the reference's binary masks.
    @Test func predictorEndToEnd() throws {
        let model = try #require(SAM2Fixtures.model)
        let (_, imageTensors) = try SAM2Fixtures.golden("image")
        let (_, box) = try SAM2Fixtures.golden("box")
        let image = ImageU8(width: 160, height: 100, channels: 3, pixels: try imageTensors.view("image_u8").uint8Values())
        let predictor = SAM2Predictor(model: model)
        let features = try predictor.encode(image)
        let result = try predictor.segment(features, width: 160, height: 100, box: (72, 20, 136, 72))
        #expect(result.masks.flatMap { $0 } == (try box.view("binary_masks").uint8Values()))
        let refIoU = try box.view("iou_scores").tensor().storage
        #expect(zip(result.iouScores, refIoU).allSatisfy { abs($0 - $1) <= 1e-5 })
    }
}
