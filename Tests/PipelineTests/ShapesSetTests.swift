// Reading shapes held-out sets (Pipeline.ShapesSet, `gar eval shapes`): schema v1 (the default world)
// and v2 (event clips, questions about one or two regions) read into one form, the questions grouped
// by their regions, the swapped control's regions, and the caption scoring words.
import Foundation
import Testing
@testable import Pipeline

@Suite struct ShapesSetTests {
    static let v1 = Repo.path("Tests/Fixtures/shapes-heldout")
    static let v2 = Repo.path("Tests/Fixtures/shapes-events")

    @Test func version1ReadsAsOneRegionQuestionsOnFrameZero() throws {
        let set = try ShapesSet.load(directory: Self.v1)
        #expect(set.schemaVersion == 1 && set.clips.count == 4)
        let clip = set.clips[0]
        #expect(clip.objects.allSatisfy { $0.promptFrame == 0 })
        // 5 questions per object, object k's about regions [k]
        #expect(clip.questions.map(\.regions) == Array(repeating: [0], count: 5) + Array(repeating: [1], count: 5))
        let groups = ShapesEval.groups(clip)
        #expect(groups.map(\.regions) == [[0], [1]])
        #expect(groups[1].questions.map(\.kind) == ["caption", "colour", "shape", "direction", "speed"])
    }

    @Test func version2KeepsRegionsPromptFramesAndGroups() throws {
        let set = try ShapesSet.load(directory: Self.v2)
        #expect(set.schemaVersion == 2 && set.clips.count == 4)
        // clip001 is the leave clip: one object is prompted on a later frame (it is out of view or a
        // sliver at frame 0), which the box prompts must use.
        let leave = set.clips[1]
        #expect(leave.objects.contains { $0.promptFrame != 0 })
        let prompts = try ShapesEval.boxRegions(leave.objects)
        #expect(prompts.map(\.name) == ["<Prompt0>", "<Prompt1>"])
        #expect(prompts.map { $0.prompts.map(\.frame) } == leave.objects.map { [$0.promptFrame] })
        #expect(prompts.allSatisfy { $0.prompts.count == 1 && $0.prompts[0].box != nil })
        // overtake clip: both orders of the pair are asked, each its own group
        let groups = ShapesEval.groups(set.clips[2])
        #expect(groups.map(\.regions) == [[0], [1], [0, 1], [1, 0]])
        #expect(groups[2].questions.contains { $0.kind == "touch" })
        #expect(groups[3].questions.map(\.kind) == ["overtake"])
        let kinds = Set(set.clips.flatMap(\.questions).map(\.kind))
        #expect(kinds.isSuperset(of: ["caption", "relation_start", "touch", "overtake", "leave", "leave_first", "size", "turn"]))
    }

    @Test func swappedControlTakesTheOtherObjectOrTheReverseOrder() {
        #expect(ShapesEval.swapped([0], objects: 2) == [1])
        #expect(ShapesEval.swapped([1], objects: 2) == [0])
        #expect(ShapesEval.swapped([0, 1], objects: 2) == [1, 0])
        #expect(ShapesEval.swapped([1, 0], objects: 2) == [0, 1])
    }

    @Test func captionWordsStopAtTheEventClause() {
        let text = "A red circle moving right quickly, passing behind the blue star."
        #expect(ShapesEval.captionWords(text) == ["colour": "red", "shape": "circle", "direction": "right", "speed": "quickly"])
        #expect(ShapesEval.eventClause(text) == "passing behind the blue star.")
        #expect(ShapesEval.eventClause("A green triangle moving up slowly.") == nil)
        #expect(ShapesEval.captionWords("A red blue square.")["colour"] == nil)
    }

    /// Caption scores per attribute word, three words, and all four (the speed word too): two captions,
    /// one right on every word, one with the wrong speed; a failed item counts wrong.
    @Test func captionScoresCountEveryWord() {
        func asked(_ caption: String?, _ want: String) -> (item: ShapesEvalReport.Item, questions: [ShapesSet.Question]) {
            (ShapesEvalReport.Item(clip: "c.mp4", object: 0, regions: [0], condition: .region, status: caption == nil ? "error" : "ok",
                                   error: nil, caption: caption, choices: [:]),
             [ShapesSet.Question(regions: [0], kind: "caption", text: "Describe.", choices: [], answer: want)])
        }
        let s = ShapesEval.score([asked("A red circle moving right quickly.", "A red circle moving right quickly."),
                                  asked("A blue star moving up slowly.", "A blue star moving up quickly."),
                                  asked(nil, "A green square moving left slowly."),
                                  asked("A green square moving left left.", "A green square moving left slowly.")],
                                 condition: .region, kinds: [], events: false)
        #expect(s.caption == ["colour": 75, "shape": 75, "direction": 75, "speed": 25])
        #expect(s.captionColourShapeDirection == 75)
        #expect(s.captionAllWords == 25)
        #expect(s.errors == 1 && s.multipleChoice == nil)
    }

    /// A set whose question names a region the clip does not have, or that lacks a v2 field, is
    /// refused naming the file.
    @Test func badVersion2SetsAreRefused() throws {
        let data = try Data(contentsOf: URL(fileURLWithPath: "\(Self.v2)/set.json"))
        func refused(_ edit: (inout [String: Any]) throws -> Void) throws -> String {
            var doc = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
            try edit(&doc)
            let dir = Repo.tempDir("shapes-set")
            defer { try? FileManager.default.removeItem(at: dir) }
            try JSONSerialization.data(withJSONObject: doc).write(to: dir.appendingPathComponent("set.json"))
            do {
                _ = try ShapesSet.load(directory: dir.path)
            } catch {
                let message = "\(error)"
                #expect(message.contains("set.json"), "\(message)")
                return message
            }
            Issue.record("accepted")
            return ""
        }
        func editClip0(_ doc: inout [String: Any], _ edit: (inout [String: Any]) -> Void) throws {
            var clips = try #require(doc["clips"] as? [[String: Any]])
            edit(&clips[0])
            doc["clips"] = clips
        }
        let outOfRange = try refused { doc in
            try editClip0(&doc) { clip in
                var qs = clip["questions"] as! [[String: Any]]
                qs[3]["regions"] = [0, 2]
                clip["questions"] = qs
            }
        }
        #expect(outOfRange.contains("region 2 is out of range"), "\(outOfRange)")
        let noRegions = try refused { doc in
            try editClip0(&doc) { clip in
                var qs = clip["questions"] as! [[String: Any]]
                qs[0]["regions"] = nil
                clip["questions"] = qs
            }
        }
        #expect(noRegions.contains("missing key regions"), "\(noRegions)")
        let noPromptFrame = try refused { doc in
            try editClip0(&doc) { clip in
                var objects = clip["objects"] as! [[String: Any]]
                objects[1]["prompt_frame"] = nil
                clip["objects"] = objects
            }
        }
        #expect(noPromptFrame.contains("missing key prompt_frame"), "\(noPromptFrame)")
        let lateFrame = try refused { doc in
            try editClip0(&doc) { clip in
                var objects = clip["objects"] as! [[String: Any]]
                objects[0]["prompt_frame"] = 32
                clip["objects"] = objects
            }
        }
        #expect(lateFrame.contains("prompt_frame 32"), "\(lateFrame)")
        let future = try refused { $0["schema_version"] = 3 }
        #expect(future.contains("schema_version 3 is not supported"), "\(future)")
    }
}
