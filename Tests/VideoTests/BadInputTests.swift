// Bad inputs: every case gives one clear line naming the file and the cause.
import Foundation
import Testing
@testable import Video

@Suite(.serialized) struct BadInputTests {
    /// Opens and decodes everything; returns the error.
    static func failure(_ path: String, _ policy: SamplingPolicy = .all) -> VideoError? {
        do {
            _ = try VideoReader(path: path).frames(policy).collect()
            return nil
        } catch let e as VideoError {
            return e
        } catch {
            Issue.record("non-VideoError \(error)")
            return nil
        }
    }

    static func expectOneLine(_ e: VideoError?, naming path: String, _ fragment: String) {
        guard let e else { Issue.record("\(path): no error"); return }
        let text = e.description
        #expect(text.hasPrefix(path + ": "), "\(text)")
        #expect(!text.contains("\n"), "\(text)")
        #expect(text.localizedCaseInsensitiveContains(fragment), "\(text) should mention '\(fragment)'")
    }

    @Test func missingPath() {
        let p = Fixtures.sample("bad/does_not_exist.mp4")
        Self.expectOneLine(Self.failure(p), naming: p, "no such file")
    }

    @Test func directory() {
        let p = Fixtures.sample("clips")
        Self.expectOneLine(Self.failure(p), naming: p, "directory")
    }

    @Test func zeroBytes() {
        let p = Fixtures.sample("bad/empty.mp4")
        Self.expectOneLine(Self.failure(p), naming: p, "empty")
    }

    @Test func notAVideo() {
        let p = Fixtures.sample("bad/not_video.mp4")
        Self.expectOneLine(Self.failure(p), naming: p, "not a readable video")
    }

    @Test func imageIsNotAVideoStreamButReadsAsOneFrame() throws {
        // FFmpeg opens a PNG as a one-frame video; that is fine, not an error.
        let frames = try VideoReader(path: Fixtures.sample("images/rgb.png")).frames(.all).collect()
        #expect(frames.count == 1)
    }

    @Test func audioOnly() {
        let p = Fixtures.sample("bad/audio_only.m4a")
        Self.expectOneLine(Self.failure(p), naming: p, "no video stream")
    }

    @Test func truncatedWithoutIndexCannotOpen() {
        let p = Fixtures.sample("bad/truncated_no_moov.mp4")
        Self.expectOneLine(Self.failure(p), naming: p, "not a readable video")
    }

    @Test func truncatedDecodesWhatIsThereAndSaysHowFar() throws {
        let p = Fixtures.sample("bad/truncated.mp4")
        let reader = try VideoReader(path: p)
        #expect(reader.info.frameCountHeader == 300, "the header still promises 300 frames")
        let stream = try reader.frames(.all)
        let frames = try stream.collect()
        #expect(frames.count > 50 && frames.count < 300, "decoded \(frames.count)")
        #expect(frames.allSatisfy { Fixtures.barcode($0.image) == $0.index }, "the decodable prefix is intact")
        #expect(stream.damageNote != nil, "the stream reports the damage")
        // The index covers exactly what decodes: uniform sampling works over the decodable part.
        #expect(try reader.countFrames() == frames.count)
        let picks = try reader.frames(.uniform(count: 4)).collect()
        #expect(picks.count == 4 && picks.allSatisfy { Fixtures.barcode($0.image) == $0.index })
        // Asking past the end names the file, how far it got, and the frame.
        let e = Self.failure(p, .indices([299]))
        Self.expectOneLine(e, naming: p, "299")
        #expect(e?.description.contains("\(frames.count)") ?? false, "\(String(describing: e))")
    }

    @Test func corruptMiddleStillDecodes() throws {
        let p = Fixtures.sample("bad/corrupt.mp4")
        let reader = try VideoReader(path: p)
        let stream = try reader.frames(.all)
        let frames = try stream.collect()
        // The container is intact (300 frames indexed); the decoder drops the frames whose data is
        // garbage. Those are reported and skipped; every other frame keeps its number.
        #expect(try reader.countFrames() == 300)
        #expect(frames.count >= 250 && frames.count < 300, "decoded \(frames.count)")
        #expect(stream.missingFrames.count == 300 - frames.count)
        #expect(Set(stream.missingFrames).isDisjoint(with: frames.map(\.index)))
        #expect(stream.damageNote?.contains("skipped") ?? false, "\(stream.damageNote ?? "")")
        let mismatched = frames.filter { Fixtures.barcode($0.image) != $0.index }.map(\.index)
        #expect(mismatched.count <= 30, "frames concealed by the decoder may show garbage; the rest show their index")
        #expect(Fixtures.barcode(frames[0].image) == 0)
        #expect(Fixtures.barcode(frames.last!.image) == 299)
        // Sampling by seeking agrees with the full pass on every frame it returns.
        let byIndex = Dictionary(uniqueKeysWithValues: frames.map { ($0.index, $0.image) })
        let sampled = try VideoReader(path: p).frames(.uniform(count: 20)).collect()
        for f in sampled { #expect(byIndex[f.index] == f.image, "frame \(f.index)") }
    }

    @Test func indexPastTheEnd() {
        let p = Fixtures.clip("ball.mp4")
        let e = Self.failure(p, .indices([3, 100]))
        #expect(e == .indexOutOfRange(path: p, index: 100, frameCount: 100))
        Self.expectOneLine(e, naming: p, "past the end")
        // Also without a clean index (AVI: sequential mode finds the end while decoding).
        let avi = Fixtures.clip("mpeg4.avi")
        Self.expectOneLine(Self.failure(avi, .indices([60])), naming: avi, "past the end")
        #expect(Self.failure(avi, .indices([59])) == nil)
    }

    @Test func timePastTheEnd() {
        let p = Fixtures.clip("ball.mp4")
        Self.expectOneLine(Self.failure(p, .times([4.0])), naming: p, "past the end")
        #expect(Self.failure(p, .times([3.99])) == nil)
    }

    /// A PNG whose header claims 100000x100000 (FFmpeg refuses the size and reports 0x0): it used
    /// to open as a 0x0 video, so a prompt failed with "outside the 0x0 frame".
    @Test func impossiblePictureSizeCannotOpen() throws {
        let dir = Fixtures.tempDir("hugepng")
        defer { try? FileManager.default.removeItem(at: dir) }
        let p = dir.appendingPathComponent("huge.png").path
        try Self.pngHeaderOnly(width: 100_000, height: 100_000).write(to: URL(fileURLWithPath: p))
        Self.expectOneLine(Self.failure(p), naming: p, "no valid picture size")
    }

    /// PNG signature + IHDR (8-bit gray) + IEND, no image data.
    static func pngHeaderOnly(width: UInt32, height: UInt32) -> Data {
        func crc32(_ bytes: [UInt8]) -> UInt32 {
            var c: UInt32 = 0xFFFF_FFFF
            for b in bytes {
                c ^= UInt32(b)
                for _ in 0 ..< 8 { c = (c & 1) != 0 ? 0xEDB8_8320 ^ (c >> 1) : c >> 1 }
            }
            return ~c
        }
        func be(_ v: UInt32) -> [UInt8] { [UInt8(v >> 24), UInt8(v >> 16 & 0xFF), UInt8(v >> 8 & 0xFF), UInt8(v & 0xFF)] }
        func chunk(_ type: String, _ body: [UInt8]) -> [UInt8] {
            let typed = Array(type.utf8) + body
            return be(UInt32(body.count)) + typed + be(crc32(typed))
        }
        let ihdr = be(width) + be(height) + [8, 0, 0, 0, 0]
        return Data([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A] + chunk("IHDR", ihdr) + chunk("IEND", []))
    }

    @Test func badImagesForLabels() throws {
        for name in ["bad/empty.mp4", "bad/not_video.mp4", "bad/audio_only.m4a"] {
            let p = Fixtures.sample(name)
            #expect(throws: VideoError.self) { try ImageIO.readLabels(p) }
        }
    }

    /// 100000 decoder threads never finished starting (gar frames --threads 100000 hung); the
    /// count is bounded before FFmpeg sees it.
    @Test func absurdThreadCountIsRefused() throws {
        let p = Fixtures.sample("clips/ball.mp4")
        for threads in [-1, VideoReader.maxThreads + 1, 100_000] {
            #expect(throws: VideoError.invalidRequest(path: p, reason: "decoder threads must be between 0 (one per core) and 64, got \(threads)")) {
                try VideoReader(path: p, threads: threads)
            }
        }
        #expect(try VideoReader(path: p, threads: VideoReader.maxThreads).info.width == 640)
    }
}
