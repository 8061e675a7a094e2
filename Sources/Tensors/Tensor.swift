// Tensor: a shape and a row-major Float32 buffer. See README.md for the layout conventions.

/// A dense, row-major tensor of `Float` values.
///
/// `Tensor` is a value type over a Swift array: copies share storage until one of them is
/// written (copy-on-write), so passing tensors around is cheap and never aliases by surprise.
/// The last dimension is contiguous: element `[i, j, k]` of shape `[A, B, C]` sits at
/// `(i * B + j) * C + k`. Weights keep PyTorch's layout (`nn.Linear.weight` is `[out, in]`).
///
/// bf16/f16 exist only as storage formats (see `Convert`); all arithmetic is Float32.
public struct Tensor: Sendable, Equatable {
    /// Dimensions, outermost first. A scalar has shape `[]` and one element.
    public private(set) var shape: [Int]
    /// The elements in row-major order; `storage.count == shape.reduce(1, *)`.
    public private(set) var storage: [Float]

    /// A tensor of the given shape filled with `value`.
    public init(shape: [Int], repeating value: Float = 0) {
        precondition(shape.allSatisfy { $0 >= 0 }, "negative dimension in \(shape)")
        self.shape = shape
        self.storage = [Float](repeating: value, count: Tensor.count(of: shape))
    }

    /// A tensor over existing values (row-major). `values.count` must equal the shape's size.
    public init(shape: [Int], _ values: [Float]) {
        precondition(shape.allSatisfy { $0 >= 0 }, "negative dimension in \(shape)")
        precondition(values.count == Tensor.count(of: shape),
                     "Tensor: \(values.count) values do not fill shape \(shape)")
        self.shape = shape
        self.storage = values
    }

    /// A tensor whose elements are written by `initializer`, which receives the whole
    /// (uninitialised) buffer and must write every element. Avoids a zero-fill pass.
    public init(shape: [Int], unsafeUninitialized initializer: (UnsafeMutableBufferPointer<Float>) -> Void) {
        precondition(shape.allSatisfy { $0 >= 0 }, "negative dimension in \(shape)")
        let n = Tensor.count(of: shape)
        self.shape = shape
        self.storage = [Float](unsafeUninitializedCapacity: n) { buffer, initialized in
            initializer(buffer)
            initialized = n
        }
    }

    /// Number of elements of a shape.
    public static func count(of shape: [Int]) -> Int { shape.reduce(1, *) }

    /// Number of elements.
    public var count: Int { storage.count }
    /// Number of dimensions.
    public var rank: Int { shape.count }

    /// The same elements under another shape with the same element count (no copy).
    public func reshaped(_ newShape: [Int]) -> Tensor {
        precondition(Tensor.count(of: newShape) == count, "cannot reshape \(shape) to \(newShape)")
        var t = self
        t.shape = newShape
        return t
    }

    /// Element access by a full multi-index (slow path: for tests and small tensors).
    public subscript(_ index: Int...) -> Float {
        get { storage[offset(index)] }
        set { storage[offset(index)] = newValue }
    }

    private func offset(_ index: [Int]) -> Int {
        precondition(index.count == shape.count, "index \(index) does not match shape \(shape)")
        var o = 0
        for (i, d) in zip(index, shape) {
            precondition(i >= 0 && i < d, "index \(index) out of bounds for shape \(shape)")
            o = o * d + i
        }
        return o
    }

    /// Rows of a tensor viewed as a matrix `[count / lastDim, lastDim]`.
    public var rowCount: Int { shape.isEmpty ? 1 : (shape.last! == 0 ? 0 : count / shape.last!) }
    /// Size of the last dimension (1 for a scalar).
    public var rowLength: Int { shape.last ?? 1 }

    /// A copy of rows `range` of the matrix view `[rowCount, rowLength]`, shaped `[range.count, rowLength]`.
    public func rows(_ range: Range<Int>) -> Tensor {
        precondition(range.lowerBound >= 0 && range.upperBound <= rowCount, "rows \(range) out of \(rowCount)")
        let n = rowLength
        return Tensor(shape: [range.count, n], Array(storage[(range.lowerBound * n) ..< (range.upperBound * n)]))
    }

    /// Read access to the elements.
    public func withUnsafeBufferPointer<R>(_ body: (UnsafeBufferPointer<Float>) throws -> R) rethrows -> R {
        try storage.withUnsafeBufferPointer(body)
    }

    /// Write access to the elements (the shape cannot change).
    public mutating func withUnsafeMutableBufferPointer<R>(
        _ body: (UnsafeMutableBufferPointer<Float>) throws -> R
    ) rethrows -> R {
        try storage.withUnsafeMutableBufferPointer { try body($0) }
    }
}

extension Tensor: CustomStringConvertible {
    public var description: String {
        let head = storage.prefix(6).map { String($0) }.joined(separator: ", ")
        return "Tensor(\(shape), [\(head)\(count > 6 ? ", …" : "")])"
    }
}
