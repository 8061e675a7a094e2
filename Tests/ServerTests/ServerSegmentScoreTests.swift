// A segment answer's `score` / `object_score` (issue 13): SAM 2.1's predicted IoU of the chosen mask
// and its object score when SAM made the mask; null for the weight-free segmenter, a mask prompt and
// a fallback. Both keys are always present (null, not left out), as the OpenAPI schema requires.
import Foundation
import Pipeline
@testable import Server
import Testing
import Tracking

@Suite struct ServerSegmentScoreTests {
    static func answerJSON(_ a: Routes.SegmentAnswer) throws -> [String: Any] {
        try #require(try JSONSerialization.jsonObject(with: JSONEncoder().encode(a)) as? [String: Any])
    }

    @Test func sam2ScoresItsMasksAndNothingElseIsScored() throws {
        let (service, root) = try ServerSAM2Tests.service()
        defer { service.close(); try? FileManager.default.removeItem(at: root) }
        let v = try service.addVideo(path: root.appendingPathComponent("ball.mp4").path, name: "ball.mp4", uploaded: false)
        for prompt in [PromptJSON(box: [36, 136, 127, 227], points: nil, mask: nil), PromptJSON(box: nil, points: [[80, 180, 1]], mask: nil)] {
            let seg = try service.segment(v, SegmentBody(frame: 0, prompt: prompt))
            if seg.warnings.isEmpty {
                let s = try #require(seg.score, "SAM made the mask: it is scored")
                #expect(s.iou.isFinite && s.objectScore > 0)
            } else {
                #expect(seg.score == nil, "a fallback is not SAM's mask: \(seg.warnings)")
            }
        }
        // A mask prompt is the mask: no score.
        let rle = RLE(Mask(width: v.width, height: v.height) { x, y in x > 40 && x < 120 && y > 140 && y < 220 })
        let masked = try service.segment(v, SegmentBody(frame: 0, prompt: PromptJSON(box: nil, points: nil, mask: rle)))
        #expect(masked.score == nil)
        // The weight-free segmenter: none.
        let flow = try GARService(engine: nil, modelName: "none", root: try MediaRoot(root.path), limits: ServerLimits())
        defer { flow.close() }
        let w = try flow.addVideo(path: root.appendingPathComponent("ball.mp4").path, name: "ball.mp4", uploaded: false)
        let grabcut = try flow.segment(w, SegmentBody(frame: 0, prompt: PromptJSON(box: [36, 136, 127, 227], points: nil, mask: nil)))
        #expect(grabcut.score == nil)
        let json = try Self.answerJSON(Routes.SegmentAnswer(frame: 0, mask: grabcut.mask, score: nil, objectScore: nil, area: 1, warnings: []))
        #expect(json["score"] is NSNull && json["object_score"] is NSNull)
        let scored = try Self.answerJSON(Routes.SegmentAnswer(frame: 0, mask: grabcut.mask, score: 0.5, objectScore: 2, area: 1, warnings: []))
        #expect(scored["score"] as? Double == 0.5 && scored["object_score"] as? Double == 2)
    }
}
