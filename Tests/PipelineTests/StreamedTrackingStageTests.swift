// The video job's streaming tracking pass (issue 13 point 4): `streamedTracking` decodes, segments,
// propagates and drops each tracking frame, and must give exactly the tracks of the two in-memory
// stages (`Tracker.promptMasks` then `Tracker.propagate`) on the same decoded frames — with prompts
// keyed by source frame index, a second region prompted late (a backward pass), and the model's
// frames kept as they stream by.
import Testing
import Tracking
import Video
@testable import Pipeline

@Suite struct StreamedTrackingStageTests {
    @Test func streamedPassEqualsTheInMemoryStages() throws {
        var r = RegionRequest(input: Repo.path("samples/clips/ball.mp4"), spec: PipelineSpec.builtIn(.captionTrackedObject))
        r.quiet = true
        var warnings: [String] = []
        let input = try VideoRegionJob.openSource(r, warnings: &warnings)
        let indices = Array(stride(from: 0, to: input.frameCount, by: 3))
        let ball = try TrackJob.readMask(Repo.path("samples/masks/ball_f0.png"))
        let prompts = [
            CheckedObjectPrompt(name: "<Prompt0>", frame: 0, prompt: try PromptSegmenter.validate(.mask(ball), width: input.width, height: input.height, what: "r0")),
            CheckedObjectPrompt(name: "<Prompt1>", frame: 39, prompt: try PromptSegmenter.validate(.box(PixelBox(x: 250, y: 120, width: 80, height: 80)),
                                                                                                  width: input.width, height: input.height, what: "r1")),
        ]
        let pass = try VideoRegionJob.streamedTracking(r, input, indices, prompts, keep: [0, 39, 60], warnings: &warnings)
        #expect(pass.frames.map(\.index) == indices)
        #expect(Set(pass.kept.keys) == [0, 39, 60] && pass.kept[39]?.image.width == input.width, "640×360 is tracked at its own size: the model's frames are kept")
        // The same through the in-memory stages, prompts moved to positions.
        let frames = try VideoRegionJob.decode(input.source, indices, size: .maxSide(r.spec.tracker.maxSide), label: "decode", quiet: true, warnings: &warnings)
        let images = frames.map(\.image)
        let atPositions = prompts.map { CheckedObjectPrompt(name: $0.name, frame: indices.firstIndex(of: $0.frame)!, prompt: $0.prompt) }
        var options = Tracker.Options()
        options.maxSide = r.spec.tracker.maxSide
        let reference = try Tracker.propagate(Tracker.promptMasks(frames: images, checked: atPositions), through: images, options: options)
        #expect(pass.tracks.warnings == reference.warnings)
        #expect(pass.tracks.objects.map(\.name) == reference.objects.map(\.name))
        for (a, b) in zip(pass.tracks.objects, reference.objects) {
            for t in indices.indices {
                #expect(a.frames[t].mask == b.frames[t].mask && a.frames[t].confidence == b.frames[t].confidence && a.frames[t].lost == b.frames[t].lost,
                        "\(a.name) at frame \(indices[t])")
            }
        }
        let first = pass.tracks.objects[1].frames[0]
        #expect(first.hasMask || first.lost || first.confidence > 0, "the late region is reached on frame 0 by the backward pass")
        // A prompt on a frame the tracking pass does not decode is one error naming the input.
        let off = [CheckedObjectPrompt(name: "<Prompt0>", frame: 1, prompt: prompts[0].prompt)]
        #expect(throws: TrackingError.invalidInput("\(r.input): the prompted frame 1 could not be decoded")) {
            _ = try VideoRegionJob.streamedTracking(r, input, indices, off, keep: [], warnings: &warnings)
        }
    }
}
