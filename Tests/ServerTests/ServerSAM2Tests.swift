// `gar serve --sam2 DIR`: the service's segment, track and ask requests use SAM 2.1 (the tiny
// video checkpoint) instead of the weight-free tracker — the same adapter as the CLI's
// `--tracker sam2` (Pipeline's SAM2Tracking).
import Foundation
import Pipeline
@testable import Server
import Testing
import Tracking

@Suite struct ServerSAM2Tests {
    static let repo = LiveServer.repo
    static func service() throws -> (GARService, URL) {
        // One folder per call: suites running at the same time (ServerSegmentScoreTests) each remove theirs.
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("gar-serve-sam2-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
        try FileManager.default.copyItem(at: repo.appendingPathComponent("samples/clips/ball.mp4"), to: root.appendingPathComponent("ball.mp4"))
        let sam2 = try SAM2Tracking.load(repo.appendingPathComponent("Tests/Fixtures/sam2video-tiny").path)
        return (try GARService(engine: nil, modelName: "none", root: try MediaRoot(root.path), limits: ServerLimits(), sam2: sam2), root)
    }

    @Test func segmentTrackAndAskUseSAM2() throws {
        let (service, root) = try Self.service()
        defer { service.close(); try? FileManager.default.removeItem(at: root) }
        let v = try service.addVideo(path: root.appendingPathComponent("ball.mp4").path, name: "ball.mp4", uploaded: false)
        let prompt = PromptJSON(box: [36, 136, 127, 227], points: nil, mask: nil)
        // segment: SAM 2.1's image mode (or the box itself, with a warning, when SAM sees nothing).
        let seg = try service.segment(v, SegmentBody(frame: 0, prompt: prompt))
        #expect(seg.mask.width == v.width && seg.mask.height == v.height)
        #expect(seg.mask.area > 0)
        // track: SAM 2.1's video mode; the prompt frame's mask is the prompt's.
        let (job, prompts, indices) = try service.newTrackJob(v, TrackBody(regions: [RegionJSON(frame: 0, prompt: prompt)], frames: 4))
        service.runTrack(job.id, v, prompts: prompts, indices: indices)
        let done = try service.job(job.id)
        #expect(done.state == "done", "\(done.error ?? "")")
        let frames = try #require(done.result).regions[0].frames
        #expect(frames.count == indices.count && frames[0].visible && frames[0].confidence == 1)
        #expect(frames.allSatisfy { !$0.lost }, "SAM 2 never gives up: out of view is not lost")
        // ask: the request records SAM 2.1 as its tracker.
        let r = try service.regionRequest(v, regions: [RegionJSON(frame: 0, prompt: prompt)], track: nil, question: "What is <Prompt0>?",
                                          choices: nil, maxNewTokens: 4, temperature: nil, seed: nil)
        #expect(r.tracker == .sam2(model: service.sam2!.directory))
    }
}
