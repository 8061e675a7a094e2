// Still images: PIL parity of readRGB on every PNG layout (goldens from samples/make_images.py),
// label reading rules, PNG round trips (RGB, gray, palette).
import Foundation
import Testing
@testable import Video

@Suite struct ImageIOTests {
    struct Expected: Decodable {
        struct Entry: Decodable {
            var mode: String
            var width: Int
            var height: Int
            var rgb: String
            var labels: String?
        }
        var files: [String: Entry]
    }

    static let expected: Expected = {
        let url = URL(fileURLWithPath: Fixtures.sample("images/expected.json"))
        return try! JSONDecoder().decode(Expected.self, from: Data(contentsOf: url))
    }()

    static func hex(_ s: String) -> [UInt8] {
        var out: [UInt8] = []
        var i = s.startIndex
        while i < s.endIndex {
            let j = s.index(i, offsetBy: 2)
            out.append(UInt8(s[i..<j], radix: 16)!)
            i = j
        }
        return out
    }

    static let pngs = ["rgb.png", "rgba.png", "gray.png", "gray_alpha.png", "palette.png", "palette_trns.png",
                       "palette_4bit.png", "bw_1bit.png", "gray16.png", "labels16.png", "rgb16.png", "rgba16.png",
                       "gray_alpha16.png"]

    @Test(arguments: pngs)
    func readRGBMatchesPIL(file: String) throws {
        let e = try #require(Self.expected.files[file])
        let img = try ImageIO.readRGB(Fixtures.sample("images/\(file)"))
        #expect(img.width == e.width && img.height == e.height)
        #expect(img.pixels == Self.hex(e.rgb), "\(file) (PIL mode \(e.mode)) differs from PIL convert(\"RGB\")")
    }

    @Test(arguments: pngs + ["photo_gray.jpg"])
    func readLabelsFollowsTheRules(file: String) throws {
        let e = try #require(Self.expected.files[file])
        let path = Fixtures.sample("images/\(file)")
        if let labels = e.labels {
            let img = try ImageIO.readLabels(path)
            #expect(img.width == e.width && img.height == e.height)
            #expect(img.pixels == Self.hex(labels), "\(file) (PIL mode \(e.mode))")
        } else {
            #expect(throws: VideoError.self) { try ImageIO.readLabels(path) }
        }
    }

    /// JPEG: FFmpeg's decoder and libjpeg (PIL) round and upsample chroma differently; the
    /// smooth test picture stays within a few levels (measured here: max 3, mean 0.5; bounds 4 and 1).
    @Test(arguments: ["photo.jpg", "photo_gray.jpg"])
    func jpegIsCloseToPIL(file: String) throws {
        let e = try #require(Self.expected.files[file])
        let img = try ImageIO.readRGB(Fixtures.sample("images/\(file)"))
        let ref = RGBImage(width: e.width, height: e.height, pixels: Self.hex(e.rgb))
        let diff = Fixtures.maxAbsDiff(img, ref)
        #expect(diff <= 4, "\(file): max |ours - PIL| = \(diff)")
        let mean = Double(zip(img.pixels, ref.pixels).map { abs(Int($0) - Int($1)) }.reduce(0, +)) / Double(ref.pixels.count)
        #expect(mean <= 1, "\(file): mean |ours - PIL| = \(mean)")
        if file == "photo_gray.jpg" { #expect(diff == 0, "gray JPEG has no chroma: should be exact") }
    }

    @Test func pngRoundTrips() throws {
        let dir = Fixtures.tempDir("imageio")
        defer { try? FileManager.default.removeItem(at: dir) }
        var rng = SystemRandomNumberGenerator()
        let rgb = RGBImage(width: 13, height: 5, pixels: (0..<(13 * 5 * 3)).map { _ in UInt8.random(in: 0...255, using: &rng) })
        let gray = GrayImage(width: 7, height: 9, pixels: (0..<63).map { _ in UInt8.random(in: 0...255, using: &rng) })
        let labels = GrayImage(width: 6, height: 4, pixels: (0..<24).map { UInt8($0 % 5) })
        try ImageIO.writePNG(rgb, to: dir.appendingPathComponent("a.png").path)
        try ImageIO.writePNG(gray, to: dir.appendingPathComponent("b.png").path)
        try ImageIO.writePalettePNG(labels, palette: Array(ImageIO.davisPalette.prefix(5)), to: dir.appendingPathComponent("c.png").path)
        #expect(try ImageIO.readRGB(dir.appendingPathComponent("a.png").path) == rgb)
        #expect(try ImageIO.readLabels(dir.appendingPathComponent("b.png").path) == gray)
        #expect(try ImageIO.readLabels(dir.appendingPathComponent("c.png").path) == labels)
        // The palette PNG shows the DAVIS colours.
        let shown = try ImageIO.readRGB(dir.appendingPathComponent("c.png").path)
        for i in 0..<labels.pixels.count {
            let c = ImageIO.davisPalette[Int(labels.pixels[i])]
            #expect([shown.pixels[3 * i], shown.pixels[3 * i + 1], shown.pixels[3 * i + 2]] == [c.0, c.1, c.2])
        }
        // No temporary files are left next to the outputs.
        let names = try FileManager.default.contentsOfDirectory(atPath: dir.path).sorted()
        #expect(names == ["a.png", "b.png", "c.png"])
    }

    @Test func resizeMatchesFFmpegScale() throws {
        let path = Fixtures.sample("frames/png_seq/f3.png")
        let image = try ImageIO.readRGB(path)
        let small = try ImageIO.resized(image, width: 57, height: 31)
        let ref = try Fixtures.ffmpegRGB(path, width: 57, height: 31, filter: "scale=57:31:flags=bicubic")
        #expect(small.width == 57 && small.height == 31)
        #expect(Fixtures.maxAbsDiff(small, ref[0]) <= 1)
        #expect(try ImageIO.resized(image, width: 160, height: 120) == image)
    }

    @Test func davisPaletteStartsLikeDAVIS() {
        let p = ImageIO.davisPalette
        #expect(p[0] == (0, 0, 0) && p[1] == (128, 0, 0) && p[2] == (0, 128, 0) && p[3] == (128, 128, 0))
        #expect(p[4] == (0, 0, 128) && p[5] == (128, 0, 128) && p[255] == (224, 224, 192))
    }

    @Test func maskSampleIsBinary() throws {
        let mask = try ImageIO.readLabels(Fixtures.sample("masks/ball_f0.png"))
        #expect(mask.width == 640 && mask.height == 360)
        #expect(Set(mask.pixels) == [0, 255])
        let area = mask.pixels.filter { $0 != 0 }.count
        #expect(abs(area - 5027) < 200, "a disc of radius 40 has area ~5027, got \(area)")
    }

    /// readMask is readLabels' nonzero pixels, and also reads a 16-bit 0/65535 mask (which
    /// readLabels refuses as labels above 255; region masks used to be read that way).
    @Test func readMaskIsNonzeroAtAnyDepth() throws {
        let path = Fixtures.sample("masks/ball_f0.png")
        let expected = try ImageIO.readLabels(path).pixels.map { UInt8($0 != 0 ? 1 : 0) }
        #expect(try ImageIO.readMask(path).pixels == expected)
        let dir = Fixtures.tempDir("mask16")
        defer { try? FileManager.default.removeItem(at: dir) }
        let wide = dir.appendingPathComponent("ball16.png").path
        let (status, _, err) = try Fixtures.run(Fixtures.ffmpeg, ["-v", "error", "-i", path, "-pix_fmt", "gray16be", wide])
        try #require(status == 0, "ffmpeg: \(err)")
        #expect(throws: VideoError.self) { try ImageIO.readLabels(wide) }
        let mask = try ImageIO.readMask(wide)
        #expect(mask.width == 640 && mask.height == 360 && mask.pixels == expected)
        for name in ["palette.png", "rgba.png", "rgb16.png", "bw_1bit.png", "labels16.png"] {
            let p = Fixtures.sample("images/" + name)
            #expect(try ImageIO.readMask(p).pixels == ImageIO.readLabels(p).pixels.map { $0 != 0 ? 1 : 0 }, "\(name)")
        }
    }

    @Test func twoObjectMasksAreDisjoint() throws {
        let ball = try ImageIO.readLabels(Fixtures.sample("masks/two_objects_f0_ball.png"))
        let square = try ImageIO.readLabels(Fixtures.sample("masks/two_objects_f0_square.png"))
        #expect(square.pixels.filter { $0 != 0 }.count == 90 * 90)
        #expect(abs(ball.pixels.filter { $0 != 0 }.count - 5027) < 200)
        #expect(zip(ball.pixels, square.pixels).allSatisfy { $0 == 0 || $1 == 0 })
    }

    @Test func badImagesThrowOneLineErrors() throws {
        let dir = Fixtures.tempDir("badimg")
        defer { try? FileManager.default.removeItem(at: dir) }
        let text = dir.appendingPathComponent("x.png").path
        try Data("not an image".utf8).write(to: URL(fileURLWithPath: text))
        let truncated = dir.appendingPathComponent("t.png").path
        let png = try Data(contentsOf: URL(fileURLWithPath: Fixtures.sample("images/rgb.png")))
        try png.prefix(40).write(to: URL(fileURLWithPath: truncated))
        for path in [text, truncated, dir.path, dir.appendingPathComponent("missing.png").path] {
            do {
                _ = try ImageIO.readRGB(path)
                Issue.record("\(path) should not decode")
            } catch let e as VideoError {
                #expect(e.description.contains(path) && !e.description.contains("\n"), "\(e)")
            }
        }
    }
}
