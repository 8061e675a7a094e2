// Frame folders, the FrameSource protocol, output sizes, orientation transforms, probe info and
// the video writer.
import Foundation
import Testing
@testable import Video

@Suite(.serialized) struct SourceTests {
    @Test func naturalSort() {
        let names = ["f10.png", "f2.png", "f1.png", "f11.png", "F3.png", "f007.png", "f7.png", "a.png", "f1b.png"]
        #expect(names.sorted(by: FrameFolder.naturalLess) ==
                ["F3.png", "a.png", "f1.png", "f1b.png", "f2.png", "f007.png", "f7.png", "f10.png", "f11.png"])
    }

    @Test func pngFolderIsInNaturalOrderAndMatchesTheVideo() throws {
        let folder = try FrameFolder(path: Fixtures.sample("frames/png_seq"), fps: 25)
        #expect(folder.files == (1...12).map { "f\($0).png" })
        #expect(try folder.countFrames() == 12)
        #expect(folder.frameSize == (160, 120))
        let frames = try folder.frames(.all).collect()
        #expect(frames.map(\.index) == Array(0..<12))
        #expect(frames.map { Fixtures.barcode($0.image, strip: 8) } == Array(0..<12), "f(k+1).png shows frame k")
        #expect(frames[5].pts == 0.2)
        // The same frames from the video, resized as the folder was made (scale=160:120).
        let video = try VideoReader(path: Fixtures.clip("barcode.mp4")).frames(.indices([0, 5, 11]), size: .exact(width: 160, height: 120)).collect()
        for v in video { #expect(Fixtures.maxAbsDiff(v.image, frames[v.index].image) <= 1) }
    }

    @Test func jpegFolderWithPolicies() throws {
        let source = try FrameSources.open(Fixtures.sample("frames/jpg_seq"))
        #expect(source is FrameFolder)
        #expect(source.frameRate == nil)
        #expect(try source.frameIndices(.uniform(count: 4), window: nil) == [0, 2, 5, 7])
        let frames = try source.frames(.every(3), window: nil, size: .maxSide(100), progress: nil).collect()
        #expect(frames.map(\.index) == [0, 3, 6, 9])
        #expect(frames.allSatisfy { $0.image.width == 100 && $0.image.height == 75 })
        // Time-based requests need a frame rate.
        #expect(throws: VideoError.self) { try source.frameIndices(.fps(2), window: nil) }
        #expect(throws: VideoError.self) { try source.frameIndices(.all, window: 0...1) }
        let timed = try FrameFolder(path: Fixtures.sample("frames/jpg_seq"), fps: 5)
        #expect(try timed.frameIndices(.times([0.0, 0.5, 1.9]), window: nil) == [0, 2, 9])
        #expect(throws: VideoError.self) { try timed.frameIndices(.times([2.0]), window: nil) }
    }

    @Test func emptyAndMissingFolders() throws {
        let dir = Fixtures.tempDir("emptyfolder")
        defer { try? FileManager.default.removeItem(at: dir) }
        try Data("x".utf8).write(to: dir.appendingPathComponent("notes.txt"))
        #expect(throws: VideoError.emptyFolder(path: dir.path)) { try FrameFolder(path: dir.path) }
        #expect(throws: VideoError.fileNotFound(path: dir.path + "/nope")) { try FrameFolder(path: dir.path + "/nope") }
    }

    /// A frame of another size used to reach the tracker as "frame 2: size 11x7 does not match
    /// the frame size 160x120" (no file named); now reading it names the file.
    @Test func folderFrameOfAnotherSizeIsNamed() throws {
        let dir = Fixtures.tempDir("mixedsizes")
        defer { try? FileManager.default.removeItem(at: dir) }
        for (name, source) in [("f1.png", "frames/png_seq/f1.png"), ("f2.png", "frames/png_seq/f2.png"), ("f3.png", "images/rgb.png")] {
            try FileManager.default.copyItem(atPath: Fixtures.sample(source), toPath: dir.appendingPathComponent(name).path)
        }
        let folder = try FrameFolder(path: dir.path)
        #expect(try folder.allFrames(.indices([0, 1])).count == 2)
        let bad = dir.appendingPathComponent("f3.png").path
        #expect(throws: VideoError.invalidRequest(path: bad, reason: "is 11x7 but the folder's first frame is 160x120 (the frames of a folder must share one size)")) {
            try folder.allFrames(.all)
        }
    }

    @Test func singleFrameAccess() throws {
        let video: any FrameSource = try VideoReader(path: Fixtures.clip("barcode.mp4"))
        #expect(Fixtures.barcode(try video.frame(123).image) == 123)
        #expect(throws: VideoError.indexOutOfRange(path: Fixtures.clip("barcode.mp4"), index: 300, frameCount: 300)) {
            try video.frame(300)
        }
        let folder: any FrameSource = try FrameFolder(path: Fixtures.sample("frames/png_seq"))
        #expect(Fixtures.barcode(try folder.frame(9).image, strip: 8) == 9)
        #expect(try folder.allFrames(.every(4)).map(\.index) == [0, 4, 8])
    }

    @Test func videoIsAFrameSource() throws {
        let source = try FrameSources.open(Fixtures.clip("ball.mp4"))
        #expect(source is VideoReader)
        #expect(source.frameSize == (640, 360))
        #expect(source.frameRate == 25)
        #expect(try source.countFrames() == 100)
    }

    /// Resizing goes through swscale bicubic like the CLI's scale filter.
    @Test(arguments: [("barcode.mp4", OutputSize.maxSide(160), "scale=160:120:flags=bicubic"),
                      ("ball.mp4", OutputSize.exact(width: 448, height: 448), "scale=448:448:flags=bicubic"),
                      ("rotated90.mp4", OutputSize.maxSide(200), "scale=150:200:flags=bicubic"),
                      ("anamorphic.mp4", OutputSize.maxSide(320), "scale=320:180:flags=bicubic")])
    func resizedFramesMatchFFmpegScale(clip: String, size: OutputSize, filter: String) throws {
        let path = Fixtures.clip(clip)
        let frames = try VideoReader(path: path).frames(.indices([0, 7, 20]), size: size).collect()
        let w = frames[0].image.width, h = frames[0].image.height
        let ref = try Fixtures.ffmpegRGB(path, width: w, height: h, filter: filter)
        for f in frames {
            let d = Fixtures.maxAbsDiff(f.image, ref[f.index])
            #expect(d <= 1, "\(clip) frame \(f.index): max diff \(d)")
        }
    }

    /// Each Orientation equals the ffmpeg filter it is named after, on a real frame.
    @Test(arguments: [(Orientation.identity, "null"), (.hflip, "hflip"), (.vflip, "vflip"), (.rotate180, "hflip,vflip"),
                      (.transpose, "transpose=cclock_flip"), (.clockwise, "transpose=clock"),
                      (.counterClockwise, "transpose=cclock"), (.transverse, "transpose=clock_flip")])
    func orientationMatchesFFmpegFilters(orientation: Orientation, filter: String) throws {
        let path = Fixtures.clip("odd_317x239.webm")           // odd sizes catch off-by-one errors
        let frame = try #require(try VideoReader(path: path).frames(.indices([3])).collect().first)
        let turned = orientation.apply(to: frame.image)
        let (w, h) = orientation.swapsAxes ? (239, 317) : (317, 239)
        #expect(turned.width == w && turned.height == h)
        let ref = try Fixtures.ffmpegRGB(path, width: w, height: h, filter: "format=rgb24,\(filter)")
        #expect(turned == ref[3], "\(orientation) != \(filter)")
    }

    @Test func displayMatrixRules() {
        // FFmpeg display matrices (16.16; [8] is 2.30).
        func m(_ a: Int32, _ b: Int32, _ c: Int32, _ d: Int32) -> [Int32] { [a, b, 0, c, d, 0, 0, 0, 1 << 30] }
        let one: Int32 = 1 << 16
        #expect(Orientation.fromDisplayMatrix(nil) == (.identity, 0))
        #expect(Orientation.fromDisplayMatrix(m(one, 0, 0, one)) == (.identity, 0))
        #expect(Orientation.fromDisplayMatrix(m(0, one, -one, 0)) == (.clockwise, 90))
        #expect(Orientation.fromDisplayMatrix(m(0, one, one, 0)) == (.transpose, 90))
        #expect(Orientation.fromDisplayMatrix(m(-one, 0, 0, -one)) == (.rotate180, 180))
        #expect(Orientation.fromDisplayMatrix(m(0, -one, one, 0)) == (.counterClockwise, 270))
        #expect(Orientation.fromDisplayMatrix(m(one, 0, 0, -one)).orientation == .vflip)
        #expect(Orientation.fromDisplayMatrix(m(-one, 0, 0, one)).orientation == .hflip)
    }

    @Test func probeInfo() throws {
        let info = try VideoReader(path: Fixtures.clip("hevc10.mkv")).info
        #expect(info.codec == "hevc" && info.profile == "Main 10" && info.pixelFormat == "yuv420p10le")
        #expect(info.bitDepth == 10 && info.colorSpace == "bt709" && info.container.contains("matroska"))
        #expect(info.fps == 25 && info.width == 320 && info.height == 240)
        let rot = try VideoReader(path: Fixtures.clip("rotated90.mp4")).info
        #expect(rot.codedWidth == 320 && rot.codedHeight == 240 && rot.width == 240 && rot.height == 320)
        #expect(rot.rotation == 90 && rot.orientation == .clockwise)
        let ana = try VideoReader(path: Fixtures.clip("anamorphic.mp4")).info
        #expect(ana.sampleAspectRatio == "4:3" && ana.width == 427 && ana.height == 240)
        let ts = try VideoReader(path: Fixtures.clip("h264.ts")).info
        #expect(ts.container == "mpegts" && (ts.startTime ?? 0) > 1)
        let vp9 = try VideoReader(path: Fixtures.clip("vp9_p2.webm")).info
        #expect(vp9.profile == "Profile 2" && vp9.bitDepth == 10)
        let frag = try VideoReader(path: Fixtures.clip("fragmented.mp4"))
        #expect(frag.info.frameCountHeader == nil)
        #expect(try frag.countFrames() == 75)
        #expect(frag.info.frameCount == 75)
        // JSON round trip (what gar probe prints).
        let data = try JSONEncoder().encode(info)
        #expect(try JSONDecoder().decode(VideoInfo.self, from: data) == info)
    }

    @Test func editListClipStartsInsideAGOP() throws {
        // make_samples.sh cut the 100-frame source at 1.5 s by stream copy: the decoder starts at a
        // keyframe before the cut and the edit list hides those frames, so frame 0 shows source 37/38.
        let frames = try Fixtures.sequential(Fixtures.clip("editlist.mp4"))
        let first = Fixtures.barcode(frames[0].image)
        #expect((36...38).contains(first), "first frame shows source frame \(first)")
        #expect(frames.enumerated().allSatisfy { Fixtures.barcode($1.image) == first + $0 })
    }

    @Test func vfrFramesShowTheKeptSourceFrames() throws {
        let frames = try Fixtures.sequential(Fixtures.clip("vfr.mp4"))
        #expect(frames.count == 80)
        for f in frames {
            let source = f.index + f.index / 4         // every 5th source frame was dropped
            #expect(Fixtures.barcode(f.image) == source)
            #expect(abs(f.pts - Double(source) / 25) < 1e-6, "frame \(f.index) at \(f.pts) s")
        }
        // Times pick the frame on screen: at 0.17 s source frame 4 is missing, so frame 3 (0.12 s) shows.
        let reader = try VideoReader(path: Fixtures.clip("vfr.mp4"))
        #expect(try reader.frameIndices(.times([0.17, 0.2])) == [3, 4])
    }

    @Test(arguments: ["barcode.mp4", "h264.mkv", "h264.ts", "hevc8.mp4", "vp9_p0.webm", "av1.webm", "mpeg4.avi",
                      "h263.3gp", "fragmented.mp4", "anamorphic.mp4", "odd_317x239.webm", "with_audio.mp4"])
    func framesShowTheirIndex(clip: String) throws {
        // Every frame of a sequential decode shows its own index (source frame k = frame k).
        let frames = try Fixtures.sequential(Fixtures.clip(clip))
        for f in frames { #expect(Fixtures.barcode(f.image) == f.index, "\(clip) frame \(f.index)") }
    }

    @Test func rotatedFramesShowTheirIndexOnceTurnedBack() throws {
        for (clip, back) in [("rotated90.mp4", Orientation.counterClockwise), ("transposed.mov", .transpose)] {
            let frames = try Fixtures.sequential(Fixtures.clip(clip))
            for f in frames { #expect(Fixtures.barcode(back.apply(to: f.image)) == f.index, "\(clip) frame \(f.index)") }
        }
    }

    @Test func writerRoundTrip() throws {
        let dir = Fixtures.tempDir("writer")
        defer { try? FileManager.default.removeItem(at: dir) }
        let source = try Fixtures.sequential(Fixtures.clip("odd_317x239.webm")).prefix(12)
        let out = dir.appendingPathComponent("overlay.mp4").path
        let writer = try VideoWriter(path: out, width: 317, height: 239, fps: 25, quality: 12)
        #expect(writer.outputWidth == 318 && writer.outputHeight == 240)
        for f in source { try writer.append(f.image) }
        #expect(!FileManager.default.fileExists(atPath: out), "nothing at the final path before finish()")
        try writer.finish()
        let back = try VideoReader(path: out)
        #expect(back.info.width == 318 && back.info.height == 240 && back.info.codec == "h264")
        let frames = try back.frames(.all).collect()
        #expect(frames.count == 12)
        for (a, b) in zip(frames, source) {
            #expect(Fixtures.barcode(a.image) == Fixtures.barcode(b.image))
            // Lossy (CRF 12 + 4:2:0 round trip): compare the mean error on the original area.
            var sum = 0
            for y in 0..<239 { for x in 0..<317 { for c in 0..<3 {
                sum += abs(Int(a.image.pixels[(y * 318 + x) * 3 + c]) - Int(b.image.pixels[(y * 317 + x) * 3 + c]))
            } } }
            #expect(Double(sum) / Double(317 * 239 * 3) < 4, "mean error \(Double(sum) / Double(317 * 239 * 3))")
        }
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path) == ["overlay.mp4"])
    }

    @Test func unfinishedWriterLeavesNothing() throws {
        let dir = Fixtures.tempDir("writer2")
        defer { try? FileManager.default.removeItem(at: dir) }
        do {
            let w = try VideoWriter(path: dir.appendingPathComponent("x.mp4").path, width: 64, height: 48, fps: 10)
            try w.append(RGBImage(width: 64, height: 48))
            #expect(throws: VideoError.self) { try w.append(RGBImage(width: 10, height: 10)) }
        }
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path).isEmpty)
    }
}
