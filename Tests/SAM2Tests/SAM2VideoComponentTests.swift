// SAM 2.1 video-mode components against transformers 4.56.2's `Sam2VideoModel`, each on the
// reference's own inputs recorded during a real propagation (Tests/Fixtures/goldens/sam2/video,
// written by Tests/Fixtures/generate/generate_sam2_video.py, case "a"; weights: the video-mode keys
// of the tiny checkpoint in Tests/Fixtures/sam2video-tiny, stored as BF16).
// Recorded calls: memenc0 = frame 4 object 0 (the prompted frame: binarised mask), memenc2 =
// frame 5 object 0 (first propagated frame: sigmoid of the logits), memattn0 = frame 5 object 0,
// pointer i = the i-th (frame, object) step in the order 4/0, 4/1, 5/0, 5/1, 6/0, 6/1.
import Checkpoints
import Foundation
@testable import SAM2
import Tensors
import Testing

enum SAM2VideoFixtures {
    static let directory = GoldenSet.tiny.root.appendingPathComponent("sam2video-tiny").path
    static func load() throws -> SAM2VideoComponents {
        try SAM2VideoComponents.load(directory: directory)
    }
}

@Suite(.serialized) struct SAM2VideoComponentTests {
    @Test func loadsStrictly() throws {
        let v = try SAM2VideoFixtures.load()
        #expect(v.config.memoryAttentionHiddenSize == 128)
        #expect(v.memoryEncoder.downsample.count == 1)
        #expect(v.memoryAttention.layers.count == 1)
        // The video checkpoint's config.json (model_type sam2_video) also gives the image-mode config.
        let image = try SAM2Config.load(directory: SAM2VideoFixtures.directory)
        #expect(image.modelType == "sam2_video" && image.visionConfig.fpnHiddenSize == 128)
        // A key the video components do not know is refused (strict loading).
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("sam2video-extra-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        try FileManager.default.copyItem(atPath: SAM2VideoFixtures.directory + "/config.json", toPath: dir.path + "/config.json")
        let src = try SafeTensorsFile(path: SAM2VideoFixtures.directory + "/model.safetensors")
        var writer = SafeTensorsWriter()
        for name in src.names where SAM2Model.videoModePrefixes.contains(where: { name.hasPrefix($0) }) {
            writer.entries.append(.init(name: name, tensor: try src.tensor(name)))
        }
        writer.entries.append(.init(name: "unexpected.weight", tensor: Tensor(shape: [1], [0])))
        try writer.write(to: dir.appendingPathComponent("w.safetensors"))
        #expect(throws: (any Error).self) { try SAM2VideoComponents.load(directory: dir.path, weights: dir.path + "/w.safetensors") }
        // A full checkpoint directory: the image-mode keys are left to SAM2Model, the rest is used.
        writer.entries.removeLast()
        writer.entries.append(.init(name: "no_memory_embedding", tensor: Tensor(shape: [1, 1, 128])))
        try writer.write(to: dir.appendingPathComponent("model.safetensors"))
        #expect(try SAM2VideoComponents.load(directory: dir.path).config.numMaskmem == 7)
    }

    @Test func bfloat16RoundingMatchesTorch() {
        // Ties go to even; values already representable are kept.
        #expect(roundToBFloat16(1.0) == 1.0)
        #expect(roundToBFloat16(Float(bitPattern: 0x3F80_8000)) == 1.0)                    // tie, even below
        #expect(roundToBFloat16(Float(bitPattern: 0x3F81_8000)) == Float(bitPattern: 0x3F82_0000))  // tie, even above
        #expect(roundToBFloat16(Float(bitPattern: 0x3F80_8001)) == Float(bitPattern: 0x3F81_0000))
        #expect(roundToBFloat16(.nan).isNaN)
    }

    @Test(arguments: [0, 2]) func memoryEncoderMatches(_ call: Int) throws {
        let v = try SAM2VideoFixtures.load()
        let (_, g) = try SAM2Fixtures.golden("video")
        func t(_ n: String) throws -> Tensor { try g.view("memenc\(call).\(n)").tensor() }
        let score = try t("object_score_logits").storage[0]
        let fromPrompt = try g.view("memenc\(call).is_mask_from_pts").integers() == [1]
        #expect(fromPrompt == (call == 0))
        var intermediates: [String: Tensor] = [:]
        let (features, positional) = v.memoryEncoder(pixelFeatures: try t("pix_feat"), highResMasks: try t("high_res_masks"),
                                                     objectScoreLogit: score, maskFromPrompt: fromPrompt) { intermediates[$0] = $1 }
        var report: [String] = []
        try expectClose("memenc\(call).encoder_features", intermediates["encoder_features"]!.storage, g, report: &report)
        // bfloat16 storage: a value near a rounding boundary may land one bf16 step away (2^-8 relative).
        try expectClose("memenc\(call).features", features.storage, g, rel: 1e-2, report: &report)
        try expectClose("memenc\(call).pos_enc", positional.storage, g, report: &report)
        let ref = try t("features").storage
        let differing = zip(features.storage, ref).filter { $0 != $1 }.count
        report.append("memenc\(call).features: \(differing) of \(ref.count) bf16 values differ")
        #expect(differing <= ref.count / 100)
        print("[video memory encoder]\n" + report.joined(separator: "\n"))
    }

    @Test func memoryBankAndPointersMatch() throws {
        let v = try SAM2VideoFixtures.load()
        let (_, g) = try SAM2Fixtures.golden("video")
        let scores = try g.view("object_score_logits").tensor().storage  // [frame][object]
        var report: [String] = []
        // Pointers: projection of the SAM output token; the stored pointer is the no-object mix.
        for (i, (frame, obj)) in [(4, 0), (4, 1), (5, 0), (5, 1), (6, 0), (6, 1)].enumerated() {
            let token = try g.view("pointer\(i).token").tensor()
            let projected = v.pointers.projection(token.reshaped([1, token.count]))
            try expectClose("pointer\(i).projected", projected.storage, g, report: &report)
            let stored = v.pointers.pointer(token: token, objectScoreLogit: scores[frame * 2 + obj])
            try expectClose("stored_pointer.obj\(obj).frame\(frame)", stored.storage, g, report: &report)
        }
        // An absent object's pointer is the learned no-object pointer.
        let absent = v.pointers.pointer(token: try g.view("pointer0.token").tensor(), objectScoreLogit: -1)
        #expect(absent.storage == v.pointers.noObjectPointer.storage)

        // The memory bank of frame 5, object 0: the prompted frame's memory (temporal slot of a
        // conditioning frame: the last `memory_temporal_positional_encoding` row, as the reference
        // indexes it with −1) and its pointer split in 64-wide tokens with the temporal sine encoding.
        let memory = try g.view("memenc0.features").tensor(), pos = try g.view("memenc0.pos_enc").tensor()
        let last = v.config.numMaskmem - 1, M = v.pointers.memoryWidth
        var bankPE = pos.storage
        for i in 0 ..< bankPE.count { bankPE[i] += v.pointers.memoryTemporalEncoding.storage[last * M + i % M] }
        let pointer = try g.view("stored_pointer.obj0.frame4").tensor()
        let maxDistance = min(8, v.config.maxObjectPointersInEncoder) - 1
        let (tokens, tokenPE) = v.pointers.tokens(pointers: [pointer], diffs: [1], maxDistance: maxDistance)
        try expectClose("memattn0.memory", memory.storage + tokens.storage, g, report: &report)
        try expectClose("memattn0.memory_pos", bankPE + tokenPE.storage, g, report: &report)
        #expect(try g.view("memattn0.num_object_pointer_tokens").integers() == [Int64(tokens.rowCount)])
        print("[video pointers / memory bank]\n" + report.joined(separator: "\n"))
    }

    @Test func memoryAttentionMatches() throws {
        let v = try SAM2VideoFixtures.load()
        let (_, g) = try SAM2Fixtures.golden("video")
        func t(_ n: String) throws -> Tensor { try g.view("memattn0.\(n)").tensor() }
        let pointerTokens = Int(try g.view("memattn0.num_object_pointer_tokens").integers()[0])
        let out = v.memoryAttention(current: try t("current"), currentPE: try t("current_pos"), memory: try t("memory"),
                                    memoryPE: try t("memory_pos"), pointerTokens: pointerTokens)
        var report: [String] = []
        try expectClose("memattn0.output", out.storage, g, report: &report)
        print("[video memory attention]\n" + report.joined(separator: "\n"))
    }
}

/// The memory bank of a tracked frame, assembled from the recorded memories and pointers by the
/// reference's selection rules, then memory attention: frame 5 (forward, one memory), frame 6
/// (forward, prompted + tracked memory, two pointers), frame 3 (backward: the forward pass's
/// frames 5–7 are in the bank, mirrored offsets).
@Suite(.serialized) struct SAM2VideoMemoryBankTests {
    @Test(arguments: [(0, 5, false), (2, 6, false), (6, 3, true)])
    func memoryConditionedFeaturesMatch(_ call: Int, _ frame: Int, _ reverse: Bool) throws {
        let v = try SAM2VideoFixtures.load()
        let (manifest, g) = try SAM2Fixtures.golden("video")
        guard case let .array(attnFrames)? = manifest["memattn_frames"], case let .array(encFrames)? = manifest["memenc_frames"] else {
            Issue.record("manifest lacks the call frames"); return
        }
        #expect(numbers(attnFrames[call]) == [Double(frame), 0, reverse ? 1 : 0])
        let positional = try g.view("memenc0.pos_enc").tensor()
        // Object 0's memories of the frames processed before this call.
        var conditioning: [(frame: Int, memory: SAM2FrameMemory)] = [], tracked: [Int: SAM2FrameMemory] = [:]
        let order = encFrames.map { numbers($0).map { Int($0) } }
        let position = order.firstIndex(of: [frame, 0])!
        for (i, fo) in order.enumerated() where i < position && fo[1] == 0 {
            let m = SAM2FrameMemory(features: try g.view("memenc\(i).features").tensor(), positional: positional,
                                    pointer: try g.view("stored_pointer.obj0.frame\(fo[0])").tensor())
            if fo[0] == 4 { conditioning.append((4, m)) } else { tracked[fo[0]] = m }
        }
        let bank = v.memoryBank(frame: frame, reverse: reverse, numFrames: 8, conditioning: conditioning, tracked: tracked)
        var report: [String] = []
        try expectClose("memattn\(call).memory", bank.memory.storage, g, report: &report)
        try expectClose("memattn\(call).memory_pos", bank.positional.storage, g, report: &report)
        #expect(try g.view("memattn\(call).num_object_pointer_tokens").integers() == [Int64(bank.pointerTokens)])
        let out = v.conditionedFeatures(current: try g.view("memattn\(call).current").tensor(),
                                        currentPE: try g.view("memattn\(call).current_pos").tensor(), bank: bank)
        try expectClose("memattn\(call).output", out.storage, g, report: &report)
        print("[video memory bank, frame \(frame)\(reverse ? " backward" : "")]\n" + report.joined(separator: "\n"))
    }
}
