// The int8 matmul's row chunks in pooled scratch: chunked products equal the whole product bit for
// bit (rows are independent, int32 sums exact), and the pool reuses, bounds and shares its buffers.
import Foundation
import Tensors
import Testing

@Suite struct ScratchPoolTests {
    @Test(arguments: [1, 7, 64], [true, false])
    func chunkedInt8ProductIsTheWholeProduct(_ chunk: Int, split: Bool) {
        let T = 150, C = 96, OC = 40
        var r = TestRandom(UInt64(chunk) + (split ? 100 : 0))
        let w = r.floats(OC * C), x = r.floats(T * C)
        let m = w.withUnsafeBufferPointer { Int8Matrix(quantizing: $0, rows: OC, cols: C) }
        var whole = [Float](repeating: .nan, count: T * OC), parts = whole
        x.withUnsafeBufferPointer { xb in
            whole.withUnsafeMutableBufferPointer { m.multiply(xb.baseAddress!, rows: T, out: $0.baseAddress!, split: split, chunkRows: T) }
            parts.withUnsafeMutableBufferPointer { m.multiply(xb.baseAddress!, rows: T, out: $0.baseAddress!, split: split, chunkRows: chunk) }
        }
        #expect(parts == whole, "chunks of \(chunk) rows differ from one chunk")
        #expect(!whole.contains { $0.isNaN })
    }

    @Test func poolReusesBoundsAndShares() async {
        let pool = ScratchPool(capacity: 2)
        let first = pool.with(bytes: 1000) { $0 }
        // The buffer given back is reused for a request it fits.
        #expect(pool.with(bytes: 500) { $0 } == first)
        #expect(pool.bytesHeld == 1000)
        // Nested requests get distinct buffers; at most `capacity` are kept, the largest.
        pool.with(bytes: 100) { a in
            pool.with(bytes: 100) { b in
                pool.with(bytes: 5000) { c in
                    #expect(a != b && b != c && a != c)
                    a.storeBytes(of: 1, as: UInt8.self)
                    b.storeBytes(of: 2, as: UInt8.self)
                    #expect(a.load(as: UInt8.self) == 1)
                }
            }
        }
        #expect(pool.bytesHeld == 1000 + 5000)
        // Concurrent users never share a buffer.
        await withTaskGroup(of: Bool.self) { group in
            for i in 0 ..< 8 {
                group.addTask {
                    pool.with(bytes: 4096) { p in
                        let b = p.bindMemory(to: Int.self, capacity: 512)
                        for j in 0 ..< 512 { b[j] = i }
                        for _ in 0 ..< 100 { _ = (0 ..< 64).reduce(0, +) }
                        return (0 ..< 512).allSatisfy { b[$0] == i }
                    }
                }
            }
            for await ok in group { #expect(ok) }
        }
    }
}
