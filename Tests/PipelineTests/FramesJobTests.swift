// Pipeline/Frames: option parsing and the frames job in-process (the CLI tests run the binary).
import TestSupport
import Foundation
import Testing
@testable import Pipeline
import Video

@Suite struct FramesJobTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    @Test func policyParsing() throws {
        #expect(try FrameRequest.policy(count: nil, every: nil, fps: nil, indices: nil, times: nil) == .all)
        #expect(try FrameRequest.policy(count: 8, every: nil, fps: nil, indices: nil, times: nil) == .uniform(count: 8, rule: .plm))
        #expect(try FrameRequest.policy(count: 8, rule: "videorefer", every: nil, fps: nil, indices: nil, times: nil) == .uniform(count: 8, rule: .videorefer))
        #expect(try FrameRequest.policy(count: nil, every: 3, fps: nil, indices: nil, times: nil) == .every(3))
        #expect(try FrameRequest.policy(count: nil, every: nil, fps: 2.5, indices: nil, times: nil) == .fps(2.5))
        #expect(try FrameRequest.policy(count: nil, every: nil, fps: nil, indices: "0, 5,9", times: nil) == .indices([0, 5, 9]))
        #expect(try FrameRequest.policy(count: nil, every: nil, fps: nil, indices: nil, times: "0.5,1.25") == .times([0.5, 1.25]))
        #expect(throws: PipelineError.self) { try FrameRequest.policy(count: 1, every: 2, fps: nil, indices: nil, times: nil) }
        #expect(throws: PipelineError.self) { try FrameRequest.policy(count: nil, every: nil, fps: nil, indices: "1,x", times: nil) }
        #expect(throws: PipelineError.self) { try FrameRequest.policy(count: 2, rule: "best", every: nil, fps: nil, indices: nil, times: nil) }
        #expect(throws: PipelineError.self) { try FrameRequest.policy(count: 0, every: nil, fps: nil, indices: nil, times: nil) }
    }

    @Test func windowAndSizeParsing() throws {
        #expect(try FrameRequest.window(start: nil, end: nil) == nil)
        #expect(try FrameRequest.window(start: 1, end: 2) == 1...2)
        #expect(try FrameRequest.window(start: 3, end: nil)?.lowerBound == 3)
        #expect(throws: PipelineError.self) { try FrameRequest.window(start: 3, end: 1) }
        #expect(try FrameRequest.size(nil, maxSide: nil) == .original)
        #expect(try FrameRequest.size("448x448", maxSide: nil) == .exact(width: 448, height: 448))
        #expect(try FrameRequest.size(nil, maxSide: 512) == .maxSide(512))
        #expect(throws: PipelineError.self) { try FrameRequest.size("448", maxSide: nil) }
        #expect(throws: PipelineError.self) { try FrameRequest.size("1x1", maxSide: 3) }
    }

    @Test func framesJobWritesAtomically() throws {
        let dir = TestTemp.directory("gar-framesjob")
        defer { try? FileManager.default.removeItem(at: dir) }
        let out = dir.appendingPathComponent("out").path
        let clip = Self.root.appendingPathComponent("samples/clips/vfr.mp4").path
        let manifest = try FramesJob.run(.init(input: clip, policy: .fps(5), window: 1.0...2.0, outDir: out, quiet: true))
        // VFR: source frames 25...50 minus every 5th; the frame on screen at 1.0, 1.2, ..., 2.0 s.
        #expect(manifest.frames.map(\.index) == [20, 24, 28, 32, 36, 40])
        #expect(manifest.start == 1 && manifest.end == 2)
        #expect(try FileManager.default.contentsOfDirectory(atPath: out).count == 7)
        // A failing request leaves the previous output in place.
        #expect(throws: VideoError.self) {
            try FramesJob.run(.init(input: clip, policy: .indices([500]), outDir: out, quiet: true))
        }
        #expect(try FileManager.default.contentsOfDirectory(atPath: out).count == 7)
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path) == ["out"])
    }
}
