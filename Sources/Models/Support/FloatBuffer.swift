// Scratch memory that forward passes allocate once per request (or per session) and point into
// many times (STYLE.md §7 rule 8): no Array allocation inside per-token or per-tile loops.

/// An uninitialised Float buffer owned by one forward pass or session (never shared between
/// threads except through the disjoint ranges of `parallelFor`).
final class FloatBuffer {
    let pointer: UnsafeMutablePointer<Float>
    let count: Int

    init(count: Int) {
        precondition(count >= 0, "FloatBuffer: negative size")
        self.count = count
        pointer = UnsafeMutablePointer<Float>.allocate(capacity: max(count, 1))
    }

    var buffer: UnsafeMutableBufferPointer<Float> { UnsafeMutableBufferPointer(start: pointer, count: count) }

    /// Floats `range` as a buffer.
    subscript(_ range: Range<Int>) -> UnsafeMutableBufferPointer<Float> {
        precondition(range.lowerBound >= 0 && range.upperBound <= count, "FloatBuffer: \(range) outside \(count)")
        return UnsafeMutableBufferPointer(start: pointer + range.lowerBound, count: range.count)
    }

    deinit { pointer.deallocate() }
}
