// Shared helpers for the Video tests: sample paths (repo-relative, from #filePath), the ffmpeg
// CLI as the reference decoder, and the barcode reader for the sample clips.
import Foundation
import TestSupport
@testable import Video

enum Fixtures {
    /// Repository root (this file is Tests/VideoTests/Fixtures.swift).
    static let root: URL = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    static func sample(_ relative: String) -> String {
        root.appendingPathComponent("samples").appendingPathComponent(relative).path
    }

    static func clip(_ name: String) -> String { sample("clips/\(name)") }

    /// Every committed clip (name, and whether frame k of a sequential decode shows source frame k).
    static let clips: [String] = [
        "barcode.mp4", "h264.mkv", "h264.mov", "h264.ts", "hevc8.mp4", "hevc10.mkv", "vp9_p0.webm",
        "vp9_p2.webm", "av1.webm", "mpeg4.avi", "h263.3gp", "fragmented.mp4", "rotated90.mp4",
        "transposed.mov", "anamorphic.mp4", "odd_317x239.webm", "vfr.mp4", "editlist.mp4", "ball.mp4", "two_objects.mp4", "with_audio.mp4",
    ]

    /// A fresh temporary directory (removed by the caller or left in /tmp).
    static func tempDir(_ tag: String = "video-tests") -> URL {
        TestTemp.directory("gar-\(tag)")
    }

    /// Runs a command, returns (exit status, stdout, stderr).
    @discardableResult
    static func run(_ exe: String, _ args: [String]) throws -> (Int32, Data, String) {
        let r = try ChildProcess.run(exe, args)
        return (r.status, r.stdout, r.stderr)
    }

    static let ffmpeg: String = {
        for dir in ["/usr/bin", "/usr/local/bin", "/bin"] where FileManager.default.isExecutableFile(atPath: dir + "/ffmpeg") {
            return dir + "/ffmpeg"
        }
        return "/usr/bin/ffmpeg"
    }()

    /// All frames as the ffmpeg CLI decodes them to rgb24 (autorotate on, one output frame per
    /// decoded frame), split into images of width x height.
    static func ffmpegRGB(_ path: String, width: Int, height: Int, filter: String? = nil) throws -> [RGBImage] {
        var args = ["-hide_banner", "-v", "error", "-i", path, "-map", "0:v:0"]
        if let filter { args += ["-vf", filter] }
        args += ["-fps_mode", "passthrough", "-pix_fmt", "rgb24", "-f", "rawvideo", "-"]
        let (status, data, err) = try run(ffmpeg, args)
        guard status == 0 else { throw TestError("ffmpeg failed on \(path): \(err)") }
        let frameBytes = width * height * 3
        guard frameBytes > 0, data.count % frameBytes == 0 else {
            throw TestError("ffmpeg output \(data.count) bytes is not a multiple of \(width)x\(height)x3")
        }
        let bytes = [UInt8](data)
        return stride(from: 0, to: bytes.count, by: frameBytes).map {
            RGBImage(width: width, height: height, pixels: Array(bytes[$0 ..< $0 + frameBytes]))
        }
    }

    /// Largest per-channel difference of two same-size images (Int.max if sizes differ).
    static func maxAbsDiff(_ a: RGBImage, _ b: RGBImage) -> Int {
        guard a.width == b.width, a.height == b.height else { return Int.max }
        var m = 0
        for i in 0..<a.pixels.count { m = max(m, abs(Int(a.pixels[i]) - Int(b.pixels[i]))) }
        return m
    }

    /// The source frame number painted by make_samples.sh: 10 stripes of width W/10 in the top 16
    /// rows, bit b (LSB left) white when set. Reads the mean red level in each stripe's centre.
    /// `strip`: the strip's height in this image (8 for frames scaled to half height).
    static func barcode(_ image: RGBImage, strip: Int = 16) -> Int {
        let w = image.width
        var value = 0
        for bit in 0..<10 {
            let x0 = bit * w / 10, x1 = (bit + 1) * w / 10
            var sum = 0, n = 0
            for y in (strip / 4)..<(3 * strip / 4) {
                for x in (x0 + 2)..<(x1 - 2) { sum += Int(image.pixels[(y * w + x) * 3]); n += 1 }
            }
            if sum / max(n, 1) > 128 { value |= 1 << bit }
        }
        return value
    }

    /// Decodes every frame of a clip sequentially through the public API.
    static func sequential(_ path: String, size: OutputSize = .original) throws -> [Frame] {
        try VideoReader(path: path).frames(.all, size: size).collect()
    }
}

struct TestError: Error, CustomStringConvertible {
    let description: String
    init(_ d: String) { description = d }
}
