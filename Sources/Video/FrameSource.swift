// FrameSource: what the tracker and the pipeline read frames from — a video file (VideoReader)
// or a folder of frame images (FrameFolder). Both number frames 0..<count and share the
// sampling policies and output sizes.
import Foundation

public protocol FrameSource: AnyObject {
    /// The video file or folder.
    var path: String { get }
    /// Upright, square-pixel size of the frames at `.original` size (a folder: its first image).
    var frameSize: (width: Int, height: Int) { get }
    /// Frames per second (nil when unknown: a folder without a given rate).
    var frameRate: Double? { get }
    /// Exact number of frames.
    func countFrames() throws -> Int
    /// Damage met so far while counting/indexing the frames, as one-line warnings (empty when
    /// clean; see `VideoReader.warnings`). A stream's own damage is `FrameStream.damageNote`.
    var warnings: [String] { get }
    /// Frame indices a policy selects.
    func frameIndices(_ policy: SamplingPolicy, window: ClosedRange<Double>?) throws -> [Int]
    /// Frames for the policy, in increasing index order, as a stream.
    func frames(_ policy: SamplingPolicy, window: ClosedRange<Double>?, size: OutputSize,
                progress: ((Int, Int?) -> Void)?) throws -> FrameStream
}

extension FrameSource {
    /// One frame by index (a one-element `.indices` request; seeks when that is cheaper).
    public func frame(_ index: Int, size: OutputSize = .original) throws -> Frame {
        let stream = try frames(.indices([index]), window: nil, size: size, progress: nil)
        guard let f = try stream.next() else {
            throw VideoError.indexOutOfRange(path: path, index: index, frameCount: try countFrames())
        }
        return f
    }

    /// Every frame selected by `policy`, collected (mind the memory for long clips).
    public func allFrames(_ policy: SamplingPolicy, window: ClosedRange<Double>? = nil,
                          size: OutputSize = .original) throws -> [Frame] {
        try frames(policy, window: window, size: size, progress: nil).collect()
    }
}

public enum FrameSources {
    /// A directory becomes a FrameFolder (at `folderFPS` frames per second, if given), anything
    /// else a VideoReader with `threads` decoder threads.
    public static func open(_ path: String, threads: Int = 0, folderFPS: Double? = nil) throws -> any FrameSource {
        var isDir: ObjCBool = false
        if FileManager.default.fileExists(atPath: path, isDirectory: &isDir), isDir.boolValue {
            return try FrameFolder(path: path, fps: folderFPS)
        }
        return try VideoReader(path: path, threads: threads)
    }
}

extension VideoReader: FrameSource {
    public var frameSize: (width: Int, height: Int) { (info.width, info.height) }
    public var frameRate: Double? { info.fps }
}

/// A folder of frames: the .png/.jpg/.jpeg files in it (hidden files skipped), in natural order
/// of their names (f2.png before f10.png); frame k is the k-th file. All frames must have the
/// first one's size (reading a frame of another size is an error naming it). Frame k's time is k / fps
/// (without a rate: k, i.e. one frame per second, and time-based requests are refused).
public final class FrameFolder: FrameSource {
    public let path: String
    /// File names in frame order.
    public let files: [String]
    public let frameRate: Double?
    public let frameSize: (width: Int, height: Int)

    public init(path: String, fps: Double? = nil) throws {
        var isDir: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDir) else {
            throw VideoError.fileNotFound(path: path)
        }
        guard isDir.boolValue else {
            throw VideoError.invalidRequest(path: path, reason: "not a folder of frames")
        }
        let names: [String]
        do {
            names = try FileManager.default.contentsOfDirectory(atPath: path)
        } catch {
            throw VideoError.cannotOpen(path: path, reason: "cannot list the folder")
        }
        files = names.filter { name in
            guard !name.hasPrefix(".") else { return false }
            let ext = (name as NSString).pathExtension.lowercased()
            return ext == "png" || ext == "jpg" || ext == "jpeg"
        }.sorted(by: FrameFolder.naturalLess)
        guard let first = files.first else { throw VideoError.emptyFolder(path: path) }
        if let fps, !(fps > 0 && fps.isFinite) {
            throw VideoError.invalidRequest(path: path, reason: "frame rate \(fps) must be > 0")
        }
        self.path = path
        frameRate = fps
        let image = try ImageIO.readRGB((path as NSString).appendingPathComponent(first))
        frameSize = (image.width, image.height)
    }

    /// Full path of frame `k`.
    public func filePath(_ k: Int) -> String { (path as NSString).appendingPathComponent(files[k]) }

    public func countFrames() throws -> Int { files.count }
    /// A folder's frames are read one by one (a bad file is an error naming it): nothing to warn of.
    public var warnings: [String] { [] }

    /// Frame times (k / fps); time-based requests need a frame rate.
    private func times(for policy: SamplingPolicy, window: ClosedRange<Double>?) throws -> [Double] {
        if let fps = frameRate { return (0..<files.count).map { Double($0) / fps } }
        switch policy {
        case .fps, .times:
            throw VideoError.invalidRequest(path: path, reason: "a frame folder has no frame rate: give one for time-based sampling")
        default:
            if window != nil {
                throw VideoError.invalidRequest(path: path, reason: "a frame folder has no frame rate: give one to use a time window")
            }
            return (0..<files.count).map(Double.init)   // placeholder clock, never shown as seconds
        }
    }

    public func frameIndices(_ policy: SamplingPolicy, window: ClosedRange<Double>? = nil) throws -> [Int] {
        let t = try times(for: policy, window: window)
        let step = frameRate.map { 1 / $0 } ?? 1
        return try FrameSelection.resolve(policy, times: t, duration: Double(files.count) * step, window: window, path: path)
    }

    public func frames(_ policy: SamplingPolicy, window: ClosedRange<Double>? = nil, size: OutputSize = .original,
                       progress: ((Int, Int?) -> Void)? = nil) throws -> FrameStream {
        let indices = try frameIndices(policy, window: window)
        return FrameStream(producer: FolderFrameProducer(folder: self, indices: indices, size: size), progress: progress)
    }

    /// Natural order: digit runs compare as numbers (f2 < f10), other runs as text.
    public static func naturalLess(_ a: String, _ b: String) -> Bool {
        let ra = runs(a), rb = runs(b)
        for (x, y) in zip(ra, rb) where x != y {
            if let nx = x.number, let ny = y.number {
                if nx != ny { return nx < ny }
                if x.text.count != y.text.count { return x.text.count > y.text.count }   // "007" before "7"
                continue
            }
            return x.text < y.text
        }
        if ra.count != rb.count { return ra.count < rb.count }
        return a < b
    }

    private struct Run: Equatable { var text: String; var number: Decimal? }

    private static func runs(_ s: String) -> [Run] {
        var out: [Run] = []
        var current = ""
        var digits = false
        func flush() {
            guard !current.isEmpty else { return }
            out.append(Run(text: current, number: digits ? Decimal(string: current) : nil))
            current = ""
        }
        for ch in s {
            let isDigit = ch.isASCII && ch.isNumber
            if isDigit != digits { flush(); digits = isDigit }
            current.append(ch)
        }
        flush()
        return out
    }
}

/// Reads the selected images of a FrameFolder in order.
final class FolderFrameProducer: FrameProducer {
    let path: String
    let expectedCount: Int?
    private(set) var stats = FrameStream.Stats()
    var damageNote: String? { nil }
    var missing: [Int] { [] }

    private let folder: FrameFolder
    private let indices: [Int]
    private let size: OutputSize
    private var cursor = 0
    private let converter = RGBConverter(threads: 1)

    init(folder: FrameFolder, indices: [Int], size: OutputSize) {
        self.folder = folder
        self.indices = indices
        self.size = size
        path = folder.path
        expectedCount = indices.count
    }

    func next() throws -> Frame? {
        guard cursor < indices.count else { return nil }
        let k = indices[cursor]
        cursor += 1
        var image = try ImageIO.readRGB(folder.filePath(k))
        guard (image.width, image.height) == folder.frameSize else {
            throw VideoError.invalidRequest(path: folder.filePath(k), reason: "is \(image.width)x\(image.height) but the folder's first frame is \(folder.frameSize.width)x\(folder.frameSize.height) (the frames of a folder must share one size)")
        }
        let (w, h) = size.resolve(width: image.width, height: image.height)
        if (w, h) != (image.width, image.height) {
            do {
                image = try converter.resize(image, width: w, height: h)
            } catch let RGBConverter.ConvertError.failed(reason) {
                throw VideoError.badImage(path: folder.filePath(k), reason: reason)
            }
        }
        stats.decodedFrames += 1
        return Frame(index: k, pts: folder.frameRate.map { Double(k) / $0 } ?? Double(k), image: image)
    }
}
