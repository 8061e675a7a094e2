// Small helpers over the FFmpeg C API shared by the reader, writer and image I/O.
import CFFmpeg
import Foundation

/// FFmpeg's libavformat version string (for `gar probe` and diagnostics).
public func ffmpegVersion() -> String { String(cString: av_version_info()) }

/// The text of an FFmpeg error code (what `av_err2str` gives in C).
func ffError(_ code: Int32) -> String {
    var buf = [CChar](repeating: 0, count: 256)
    return buf.withUnsafeMutableBufferPointer { b in
        String(cString: cff_err2str(code, b.baseAddress, b.count))
    }
}

let AVERROR_EOF_CODE: Int32 = cff_averror_eof()
let AVERROR_EAGAIN_CODE: Int32 = cff_averror_eagain()
let AV_NOPTS: Int64 = cff_nopts_value()

/// Checks that `path` names a non-empty regular file; throws the matching `VideoError` otherwise
/// (a symlink loop, a FIFO or a device is named as such, not as a missing or empty file).
func checkInputFile(_ path: String) throws {
    var st = stat()
    guard stat(path, &st) == 0 else {
        switch errno {
        case ENOENT: throw VideoError.fileNotFound(path: path)
        case ELOOP: throw VideoError.unreadable(path: path, reason: "too many levels of symbolic links (a symlink loop)")
        default: throw VideoError.unreadable(path: path, reason: String(cString: strerror(errno)))
        }
    }
    switch st.st_mode & S_IFMT {
    case S_IFREG: break
    case S_IFDIR: throw VideoError.isDirectory(path: path)
    case S_IFIFO: throw VideoError.unreadable(path: path, reason: "is a FIFO (named pipe), not a regular file")
    case S_IFCHR, S_IFBLK: throw VideoError.unreadable(path: path, reason: "is a device, not a regular file")
    case S_IFSOCK: throw VideoError.unreadable(path: path, reason: "is a socket, not a regular file")
    default: throw VideoError.unreadable(path: path, reason: "is not a regular file")
    }
    if st.st_size == 0 { throw VideoError.emptyFile(path: path) }
}

/// Silences FFmpeg's own stderr logging (we report errors ourselves, one line each).
/// `GAR_FFMPEG_LOG=debug|verbose|info|warning|error` restores it for debugging.
let ffmpegLogSetup: Void = {
    let level: Int32
    switch ProcessInfo.processInfo.environment["GAR_FFMPEG_LOG"] {
    case "debug": level = AV_LOG_DEBUG
    case "verbose": level = AV_LOG_VERBOSE
    case "info": level = AV_LOG_INFO
    case "warning": level = AV_LOG_WARNING
    case "error": level = AV_LOG_ERROR
    default: level = AV_LOG_QUIET
    }
    av_log_set_level(level)
}()

/// The 8 data pointers of an AVFrame as an array (Swift imports the C array as a tuple).
func planes(_ f: UnsafePointer<AVFrame>) -> [UnsafeMutablePointer<UInt8>?] {
    let d = f.pointee.data
    return [d.0, d.1, d.2, d.3, d.4, d.5, d.6, d.7]
}

/// The 8 line sizes (bytes per row, may exceed width and may be padded) of an AVFrame.
func strides(_ f: UnsafePointer<AVFrame>) -> [Int] {
    let l = f.pointee.linesize
    return [l.0, l.1, l.2, l.3, l.4, l.5, l.6, l.7].map(Int.init)
}

/// Name of a pixel format ("yuv420p", ...), or "none".
func pixelFormatName(_ fmt: Int32) -> String {
    guard let name = av_get_pix_fmt_name(AVPixelFormat(rawValue: fmt)) else { return "none" }
    return String(cString: name)
}

/// Writes `data` to `path` through a temporary sibling file and a rename, so a crash never
/// leaves a half-written file (the Pipeline has the same rule for whole output folders).
func writeAtomically(_ data: Data, to path: String) throws {
    let url = URL(fileURLWithPath: path)
    let tmp = url.deletingLastPathComponent()
        .appendingPathComponent(".\(url.lastPathComponent).tmp-\(getpid())-\(UInt32.random(in: 0 ... .max))")
    do {
        try data.write(to: tmp)
    } catch {
        throw VideoError.writeFailed(path: path, reason: "\(error.localizedDescription)")
    }
    if rename(tmp.path, url.path) != 0 {
        let reason = String(cString: strerror(errno))
        try? FileManager.default.removeItem(at: tmp)
        throw VideoError.writeFailed(path: path, reason: reason)
    }
}

/// Number of active CPU cores.
func ProcessInfo_activeCores() -> Int { max(1, ProcessInfo.processInfo.activeProcessorCount) }
