// Errors of the Video module. Each description is ONE line that names the input and the
// problem, so the CLI can print it as is.

public enum VideoError: Error, CustomStringConvertible, Equatable {
    /// The path does not exist.
    case fileNotFound(path: String)
    /// A directory was given where a file was expected.
    case isDirectory(path: String)
    /// The file has zero bytes.
    case emptyFile(path: String)
    /// The path cannot be read as a file: a symlink loop, a FIFO or device, no permission.
    case unreadable(path: String, reason: String)
    /// FFmpeg could not open or recognise the file (not a media file, damaged header, ...).
    case cannotOpen(path: String, reason: String)
    /// The file opened but holds no video stream (e.g. audio only).
    case noVideoStream(path: String)
    /// No decoder (or encoder) for the codec in this FFmpeg build.
    case unsupportedCodec(path: String, codec: String)
    /// The decoder or scaler failed in a way that stops all further work.
    case decodeFailed(path: String, reason: String)
    /// A requested frame index is past the last frame.
    case indexOutOfRange(path: String, index: Int, frameCount: Int)
    /// The stream ended (truncated or corrupt data) before a requested frame.
    case truncated(path: String, framesDecoded: Int, wanted: Int, reason: String)
    /// A bad argument for this input (empty sampling window, zero count, ...).
    case invalidRequest(path: String, reason: String)
    /// The file is not an image FFmpeg can read, or has a layout we do not convert.
    case badImage(path: String, reason: String)
    /// A frame folder holds no PNG/JPEG files.
    case emptyFolder(path: String)
    /// Writing an output file failed.
    case writeFailed(path: String, reason: String)

    public var description: String {
        switch self {
        case let .fileNotFound(path):
            return "\(path): no such file"
        case let .isDirectory(path):
            return "\(path): is a directory, expected a video file"
        case let .emptyFile(path):
            return "\(path): file is empty (0 bytes)"
        case let .unreadable(path, reason):
            return "\(path): \(reason)"
        case let .cannotOpen(path, reason):
            return "\(path): not a readable video or image (\(reason))"
        case let .noVideoStream(path):
            return "\(path): contains no video stream"
        case let .unsupportedCodec(path, codec):
            return "\(path): no FFmpeg decoder/encoder for codec '\(codec)'"
        case let .decodeFailed(path, reason):
            return "\(path): decoding failed (\(reason))"
        case let .indexOutOfRange(path, index, frameCount):
            return "\(path): frame index \(index) is past the end (the video has \(frameCount) frames, 0...\(frameCount - 1))"
        case let .truncated(path, framesDecoded, wanted, reason):
            return "\(path): stream ended after \(framesDecoded) decodable frames, frame \(wanted) was requested (\(reason))"
        case let .invalidRequest(path, reason):
            return "\(path): \(reason)"
        case let .badImage(path, reason):
            return "\(path): cannot read image (\(reason))"
        case let .emptyFolder(path):
            return "\(path): folder holds no .png/.jpg/.jpeg frames"
        case let .writeFailed(path, reason):
            return "\(path): cannot write (\(reason))"
        }
    }
}
