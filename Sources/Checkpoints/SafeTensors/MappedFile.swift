// A read-only memory map of a whole file (checkpoints are never read into memory).
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A file mapped read-only with `mmap`. Pages are loaded on first touch and can be dropped by
/// the kernel at any time, so mapping a 3 GB checkpoint costs no resident memory by itself.
public final class MappedFile: @unchecked Sendable {
    // @unchecked: the mapping is immutable after init and unmapped only in deinit.
    public let path: String
    public let bytes: UnsafeRawBufferPointer

    public init(path: String) throws {
        self.path = path
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw CheckpointError.io(path: path, reason: String(cString: strerror(errno))) }
        defer { close(fd) }
        var st = stat()
        guard fstat(fd, &st) == 0 else { throw CheckpointError.io(path: path, reason: String(cString: strerror(errno))) }
        guard (st.st_mode & S_IFMT) == S_IFREG else { throw CheckpointError.io(path: path, reason: "not a regular file") }
        let size = Int(st.st_size)
        if size == 0 {
            bytes = UnsafeRawBufferPointer(start: nil, count: 0)
            return
        }
        let p = mmap(nil, size, PROT_READ, MAP_PRIVATE, fd, 0)
        guard let p, p != MAP_FAILED else {
            throw CheckpointError.io(path: path, reason: "mmap failed: \(String(cString: strerror(errno)))")
        }
        bytes = UnsafeRawBufferPointer(start: p, count: size)
    }

    /// An anonymous mapping holding a copy of `contents` (in-memory files for tests and tools;
    /// readers see exactly what they would see for a file with these bytes).
    public init(copying contents: [UInt8], name: String) throws {
        self.path = name
        if contents.isEmpty {
            bytes = UnsafeRawBufferPointer(start: nil, count: 0)
            return
        }
        let p = mmap(nil, contents.count, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0)
        guard let p, p != MAP_FAILED else {
            throw CheckpointError.io(path: name, reason: "mmap failed: \(String(cString: strerror(errno)))")
        }
        contents.withUnsafeBytes { p.copyMemory(from: $0.baseAddress!, byteCount: contents.count) }
        bytes = UnsafeRawBufferPointer(start: p, count: contents.count)
    }

    /// Drops this process's pages of `range` (clean, file-backed: they are re-read if touched
    /// again). Called after converting a tensor so that resident memory stays near the size of
    /// the converted Float32 weights instead of Float32 + the mapped bf16 file.
    public func release(_ range: Range<Int>) {
        #if os(Linux)
        guard let base = bytes.baseAddress, !range.isEmpty else { return }
        let page = Int(sysconf(Int32(_SC_PAGESIZE)))
        // Only whole pages inside the range: neighbours may still be needed.
        let start = ((range.lowerBound + page - 1) / page) * page
        let end = (range.upperBound / page) * page
        guard end > start else { return }
        _ = madvise(UnsafeMutableRawPointer(mutating: base + start), end - start, MADV_DONTNEED)
        #endif
    }

    deinit {
        if let base = bytes.baseAddress { munmap(UnsafeMutableRawPointer(mutating: base), bytes.count) }
    }
}
