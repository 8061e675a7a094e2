import Testing
@testable import Pipeline
import Tracking

/// `gar track` prompt flags, parsed in order into objects and prompts.
@Suite struct TrackArgumentsTests {
    @Test func twoMasksAreTwoObjects() throws {
        let o = try TrackArguments.parse(["--mask", "a.png", "--mask", "b.png"])
        #expect(o.map(\.name) == ["object1", "object2"])
        #expect(o[0].prompts == [PromptSpec(frame: 0, maskPath: "a.png")])
        #expect(o[1].prompts[0].maskPath == "b.png")
    }

    @Test func namedObjectsWithBoxPointsFramesAndReprompt() throws {
        let o = try TrackArguments.parse([
            "--object", "dog", "--box", "10,20,200,180", "--point", "90,100", "--point", "5,5,neg",
            "--frame", "30", "--mask", "dog30.png",
            "--object", "ball", "--frame", "5", "--scribble", "s.txt",
        ])
        #expect(o.map(\.name) == ["dog", "ball"])
        #expect(o[0].prompts.count == 2)
        #expect(o[0].prompts[0].box == PixelBox(x: 10, y: 20, width: 191, height: 161))
        #expect(o[0].prompts[0].points == [PromptPoint(x: 90, y: 100), PromptPoint(x: 5, y: 5, positive: false)])
        #expect(o[0].prompts[1].frame == 30 && o[0].prompts[1].maskPath == "dog30.png")
        #expect(o[1].prompts == [PromptSpec(frame: 5, scribblePath: "s.txt")])
    }

    @Test func badFlagsAreClearErrors() {
        func err(_ a: [String]) -> String {
            do { _ = try TrackArguments.parse(a); return "no error" } catch { return "\(error)" }
        }
        #expect(err([]).contains("give at least one of --mask"))
        #expect(err(["--box", "1,2,3"]).contains("expected x1,y1,x2,y2"))
        #expect(err(["--box", "5,5,1,1"]).contains("x2 must be >= x1"))
        #expect(err(["--point", "1,2,maybe"]).contains("'neg' or 'pos'"))
        #expect(err(["--frame", "-1", "--box", "1,1,2,2"]).contains("frame index >= 0"))
        #expect(err(["--object", "a", "--box", "1,1,2,2", "--mask", "m.png"]).contains("already has a mask or box"))
        #expect(err(["--object", "a", "--box", "1,1,2,2", "--object", "a", "--box", "1,1,2,2"]).contains("used twice"))
        #expect(err(["--box"]).contains("missing value"))
        #expect(err(["--colour", "red"]).contains("unknown option"))
        // A --frame after the last prompt of an object applies to nothing: an error, not ignored.
        #expect(err(["--box", "1,1,2,2", "--frame", "500"]).contains("--frame 500: no prompt follows it"))
        #expect(err(["--object", "a", "--frame", "3", "--object", "b", "--box", "1,1,2,2"]).contains("--frame 3: no prompt follows it"))
        // Two --frame in a row: only the last would apply, so it is refused.
        #expect(err(["--frame", "3", "--frame", "5", "--box", "1,1,2,2"]).contains("--frame 5: follows --frame 3 with no prompt between them"))
        let reprompt = try? TrackArguments.parse(["--mask", "m.png", "--frame", "10", "--box", "1,1,2,2"])
        #expect(reprompt?.count == 1 && reprompt?[0].prompts.map(\.frame) == [0, 10], "a --frame before each prompt is fine")
    }
}
