import ArgumentParser
import Foundation
import Pipeline
import Video

struct Track: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "track",
        abstract: "Track prompted regions through a video or a folder of frames (weight-free tracker, or SAM 2.1 with --sam2).",
        usage: """
            gar track VIDEO|FRAMES_DIR [--object NAME] [--frame K] (--mask PNG | --box x1,y1,x2,y2 | --point x,y[,neg] ... | --scribble FILE) ... [--count N | --fps R] [--tracker auto|flow|sam2] [--sam2 DIR] --out DIR
            """,
        discussion: """
            Prompt options (read in order; coordinates are pixels of the frames' own size):
              --object NAME          start a new object (default names object1, object2, ...)
              --frame K              the prompt that follows is on tracked frame K (default 0); a second
                                     --frame for the same object re-prompts it there (overrides from K on)
              --mask PNG             a mask image of the frame's size, any PNG mode, nonzero = inside
              --box x1,y1,x2,y2      inclusive pixel corners; GrabCut finds the object inside
              --point x,y[,neg]      a click on the object (or ',neg' on the background); repeatable
              --scribble FILE        strokes, one per line: 'pos|neg WIDTH x,y x,y ...' ('#' comments)
            Without --object, a second --mask or --box starts another object:
              gar track clip.mp4 --mask dog.png --mask cat.png --out tracks/
              gar track frames/ --object dog --box 10,20,200,180 --point 90,100 --object ball --frame 5 --point 300,40 --out tracks/
            By default every frame of a folder or video is tracked; --count N tracks N evenly spaced frames
            and --fps R samples R frames per second (tracking works best on dense frames, <= 15 fps apart).
            Writes OUT/masks/<index>.png (palette PNG, value k = object k), OUT/masks.json (COCO RLE per
            object per frame, index, pts, confidence, lost, status; each prompt with SAM 2.1's score),
            OUT/overlay.mp4 and OUT/contact_sheet.png.
            Tracker: --tracker auto (default: SAM 2.1 when --sam2 DIR or $GAR_SAM2 gives a checkpoint, else
            the weight-free tracker), flow, or sam2 (needs --sam2 DIR or $GAR_SAM2).
            """)

    @Argument(help: "A video file or a folder of frames.") var input: String
    @Option(help: "Output folder (created when missing; only gar's own files in it are written).") var out: String
    @Option(help: "Track N evenly spaced frames.") var count: Int?
    @Option(help: "Track R frames per second.") var fps: Double?
    @Option(help: "Long side of the tracking resolution.") var maxSide = 854
    @Flag(help: "Skip the overlay video.") var noOverlay = false
    @Flag(help: "No progress on stderr.") var quiet = false
    @Flag(help: "Print the summary as JSON.") var json = false
    @OptionGroup var trackerOptions: TrackerOptions
    @Argument(parsing: .allUnrecognized, help: .hidden) var promptArgs: [String] = []

    func validate() throws {
        if count != nil && fps != nil { throw ValidationError("give --count or --fps, not both") }
        if let c = count, c < 1 { throw ValidationError("--count must be at least 1") }
        if let f = fps, !(f > 0 && f.isFinite) { throw ValidationError("--fps must be a finite rate > 0, got \(f)") }
        if maxSide < 64 { throw ValidationError("--max-side must be at least 64") }
    }

    func run() async throws {
        let objects = try parsingOptions { try TrackArguments.parse(promptArgs) }
        let tracker = try trackerOptions.resolve()
        let inputs = [input] + [tracker.sam2Model].compactMap { $0 } + objects.flatMap { $0.prompts.flatMap { [$0.maskPath, $0.scribblePath].compactMap { $0 } } }
        try parsingOptions { try AtomicOutput.refuseInputs(inputs, asFolder: out, option: "--out", writes: TrackJob.writes) }
        var o = TrackJobOptions(input: input, objects: objects, out: URL(fileURLWithPath: out))
        if let c = count { o.sampling = .uniform(count: c) }
        if let f = fps { o.sampling = .fps(f) }
        o.maxSide = maxSide; o.overlay = !noOverlay; o.quiet = quiet; o.tracker = tracker
        let s = try TrackJob.run(o)
        if json {
            print(try JSONOutput.string(s, pretty: true))
        } else {
            print(String(format: "tracked %d frames, %d object(s), %.1f ms/frame -> %@", s.frames, s.objects.count, s.msPerFrame, s.out))
            for n in s.objects {
                print("  \(n.name): visible on \(n.visibleFrames) of \(s.frames) frames, lost on \(n.lostFrames) (the rest: empty or out of view)")
            }
        }
    }
}
