// Video module. See ../../README.md and ARCHITECTURE.md §1 for its place in the target DAG.
public enum VideoModule {
    public static let name = "Video"
}
import CFFmpeg
/// FFmpeg's libavformat version string (for `gar probe` and diagnostics).
public func ffmpegVersion() -> String { String(cString: av_version_info()) }
