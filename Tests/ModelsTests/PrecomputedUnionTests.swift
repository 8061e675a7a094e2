// prepareVideo(unions:): a caller that has computed each frame's union mask (the video job, for
// its feature-cache key) passes it in instead of having it computed again; the prepared request
// is the same, the given union is the one used, and a union of the wrong shape is refused.
@testable import Models
import Tensors
import Testing

@Suite struct PrecomputedUnionTests {
    static func clip() throws -> (GARSession, [ImageU8], [[ImageU8?]]) {
        let model = try Fixtures.model("gar-tiny")
        let frames = try (0 ..< 2).map { try Fixtures.image(String(format: "images/f_video/frames/frame_%03d.png", $0)) }
        let masks: [[ImageU8?]] = try [(0 ..< 2).map { try Fixtures.mask(String(format: "images/f_video/masks/region0_frame_%03d.png", $0)) }]
        return (GARSession(model: model), frames, masks)
    }

    static func union(_ masks: [[ImageU8?]], frame f: Int, count: Int) -> [UInt8] {
        var u = [UInt8](repeating: 0, count: count)
        for row in masks { if let m = row[f] { for i in u.indices where m.pixels[i] != 0 { u[i] = 1 } } }
        return u
    }

    @Test func givenUnionPreparesTheSameRequest() throws {
        let (session, frames, masks) = try Self.clip()
        let unions = frames.indices.map { Self.union(masks, frame: $0, count: frames[$0].width * frames[$0].height) }
        #expect(unions.allSatisfy { $0.contains(1) }, "the fixture's masks are not empty")
        let computed = try session.prepareVideo(frames: frames, masks: masks, question: "<Prompt0>?")
        let given = try session.prepareVideo(frames: frames, masks: masks, unions: unions, question: "<Prompt0>?")
        #expect(given.tiles == computed.tiles)
        #expect(given.prompt.ids == computed.prompt.ids)
        #expect(given.boxes == computed.boxes)
    }

    @Test func givenUnionIsTheOneUsed() throws {
        let (session, frames, masks) = try Self.clip()
        let empty = frames.map { [UInt8](repeating: 0, count: $0.width * $0.height) }
        let computed = try session.prepareVideo(frames: frames, masks: masks, question: "<Prompt0>?")
        let given = try session.prepareVideo(frames: frames, masks: masks, unions: empty, question: "<Prompt0>?")
        #expect(given.tiles.allSatisfy { !$0.mask.contains(1) })
        #expect(given.tiles != computed.tiles)
    }

    @Test func unionOfTheWrongShapeIsRefused() throws {
        let (session, frames, masks) = try Self.clip()
        let n = frames[0].width * frames[0].height
        #expect(throws: ModelError.self) {
            try session.prepareVideo(frames: frames, masks: masks, unions: [[UInt8](repeating: 0, count: n)], question: "<Prompt0>?")
        }
        #expect(throws: ModelError.self) {
            try session.prepareVideo(frames: frames, masks: masks, unions: frames.map { _ in [UInt8](repeating: 0, count: n - 1) }, question: "<Prompt0>?")
        }
    }
}
