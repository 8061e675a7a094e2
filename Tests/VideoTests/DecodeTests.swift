// Decoding every sample clip: frame count, RGB against the ffmpeg CLI (within ±1), barcodes.
import Foundation
import Testing
@testable import Video

@Suite(.serialized) struct DecodeTests {
    /// ffmpeg reference filter per clip (the CLI does not correct the sample aspect ratio).
    static func referenceFilter(_ clip: String) -> String? {
        clip == "anamorphic.mp4" ? "scale=427:240:flags=bicubic" : nil
    }

    @Test(arguments: Fixtures.clips)
    func sequentialDecodeMatchesFFmpegCLI(clip: String) throws {
        let path = Fixtures.clip(clip)
        let reader = try VideoReader(path: path)
        let frames = try reader.frames(.all).collect()
        let reference = try Fixtures.ffmpegRGB(path, width: reader.info.width, height: reader.info.height,
                                               filter: Self.referenceFilter(clip))
        #expect(frames.count == reference.count, "\(clip): \(frames.count) frames, ffmpeg CLI \(reference.count)")
        #expect(frames.map(\.index) == Array(0..<frames.count))
        var worst = 0
        for (f, r) in zip(frames, reference) {
            #expect(f.image.width == r.width && f.image.height == r.height)
            worst = max(worst, Fixtures.maxAbsDiff(f.image, r))
        }
        // ±1: same libswscale and flags as the CLI; allow one level for rounding-path differences.
        #expect(worst <= 1, "\(clip): max |ours - ffmpeg| = \(worst)")
    }
}
