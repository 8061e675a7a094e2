// Multi-object label maps: one byte per pixel, 0 = background, k = object k (1-based), as in
// DAVIS-2017 palette PNGs. Masks may overlap (tracked objects are independent); a label map holds
// one label per pixel, so where masks overlap the earlier object's label is drawn (like the GAR
// prompt's id map). Each object's whole mask is kept elsewhere (e.g. the RLE of masks.json).
import Video

public struct LabelMap: Equatable, Sendable {
    public let width: Int
    public let height: Int
    /// Row-major labels, `labels[y * width + x]`.
    public var labels: [UInt8]

    public init(width: Int, height: Int, labels: [UInt8]) {
        precondition(labels.count == width * height)
        self.width = width; self.height = height; self.labels = labels
    }

    /// Paints masks in order as labels 1, 2, ...; a pixel already taken keeps its first label.
    /// Masks that are nil (object absent) keep their label number but paint nothing.
    public init(width: Int, height: Int, masks: [Mask?]) {
        precondition(masks.count <= 255, "LabelMap: at most 255 objects")
        self.width = width; self.height = height
        labels = [UInt8](repeating: 0, count: width * height)
        for (k, m) in masks.enumerated() {
            guard let m else { continue }
            precondition(m.width == width && m.height == height, "LabelMap: mask size differs")
            let label = UInt8(k + 1)
            for i in 0..<labels.count where m.bits[i] != 0 && labels[i] == 0 { labels[i] = label }
        }
    }

    /// Largest label present (the number of objects a DAVIS first-frame annotation declares).
    public var maxLabel: Int { Int(labels.max() ?? 0) }

    /// The mask of object `label` (pixels equal to `label`).
    public func mask(_ label: Int) -> Mask {
        var m = Mask(width: width, height: height)
        let l = UInt8(truncatingIfNeeded: label)
        for i in 0..<labels.count where labels[i] == l { m.bits[i] = 1 }
        return m
    }

    /// Distinct nonzero labels present, ascending.
    public var presentLabels: [Int] {
        var seen = [Bool](repeating: false, count: 256)
        for v in labels { seen[Int(v)] = true }
        return (1..<256).filter { seen[$0] }
    }
}
