// The thumb+tile grid choice of the PerceptionLM image processor (GAR-SPEC §3.2), ported from
// transformers 4.56.2 `image_processing_perception_lm_fast.py` (_find_supported_aspect_ratios,
// _get_image_height_width, _fit_image_to_canvas, _find_closest_aspect_ratio). The Python code keys a
// dict by the float ratio n_w / n_h; iteration order (first-seen keys, arrangements in discovery
// order) and the "≥" comparisons decide ties, so both are mirrored exactly: Double division is
// correctly rounded, so equal ratios give equal keys, as in Python.

/// A grid of `columns × rows` tiles (`ncw × nch`).
public struct TileGrid: Sendable, Equatable, CustomStringConvertible {
    public var columns: Int
    public var rows: Int
    /// True when no arrangement fits the image without downsampling and the closest aspect ratio
    /// was taken instead (§3.2 step 3).
    public var fallback: Bool

    public init(columns: Int, rows: Int, fallback: Bool = false) {
        self.columns = columns
        self.rows = rows
        self.fallback = fallback
    }

    public var tileCount: Int { columns * rows }
    public var description: String { "\(columns)x\(rows)" }

    /// Arrangements `(n_w, n_h)` grouped by ratio key, keys in first-seen order, for
    /// `chunk = maxTiles … 1` and the divisors of each chunk in ascending order.
    static func supportedAspectRatios(maxTiles: Int) -> [(key: Double, arrangements: [(w: Int, h: Int)])] {
        var groups: [(key: Double, arrangements: [(w: Int, h: Int)])] = []
        var index: [Double: Int] = [:]
        for chunk in stride(from: maxTiles, through: 1, by: -1) {
            for x in 1 ... chunk where chunk % x == 0 {
                let arrangement = (w: x, h: chunk / x)
                let key = Double(arrangement.w) / Double(arrangement.h)
                if let i = index[key] {
                    groups[i].arrangements.append(arrangement)
                } else {
                    index[key] = groups.count
                    groups.append((key, [arrangement]))
                }
            }
        }
        return groups
    }

    /// The flattened candidate order (the golden `candidate_order_max16`).
    static func candidateOrder(maxTiles: Int) -> [(w: Int, h: Int)] {
        supportedAspectRatios(maxTiles: maxTiles).flatMap(\.arrangements)
    }

    /// `_get_image_height_width`: the aspect-preserving size inside a `targetW × targetH` canvas.
    /// One coordinate stays a float, as in Python.
    static func fittedSize(width: Int, height: Int, targetWidth: Int, targetHeight: Int) -> (w: Double, h: Double) {
        let scale = Double(width) / Double(height)
        let factor = min(Double(targetWidth) / Double(width), Double(targetHeight) / Double(height))
        if scale > 1.0 {
            let newW = factor * Double(width)
            return (newW, (newW / scale).rounded(.down))
        } else {
            let newH = factor * Double(height)
            return ((newH * scale).rounded(.down), newH)
        }
    }

    /// The grid the reference chooses for a `width × height` image with at most `maxTiles` tiles
    /// of `tileSize` pixels.
    public static func choose(width: Int, height: Int, maxTiles: Int, tileSize: Int) -> TileGrid {
        precondition(width > 0 && height > 0 && maxTiles > 0 && tileSize > 0, "TileGrid.choose: sizes must be positive")
        if maxTiles == 1 { return TileGrid(columns: 1, rows: 1) }
        let groups = supportedAspectRatios(maxTiles: maxTiles)
        let scale = Double(width) / Double(height)

        // _fit_image_to_canvas: among canvases holding the image without downsampling, prefer the
        // biggest upscale; "≥" lets later arrangements win ties.
        var best: (w: Int, h: Int)?
        var bestSize = (w: 0.0, h: 0.0)
        for arrangement in groups.flatMap(\.arrangements) {
            let cw = arrangement.w * tileSize, ch = arrangement.h * tileSize
            guard cw >= width && ch >= height else { continue }
            let size = fittedSize(width: width, height: height, targetWidth: cw, targetHeight: ch)
            if best == nil || (scale < 1.0 && size.w >= bestSize.w) || (scale >= 1.0 && size.h >= bestSize.h) {
                best = arrangement
                bestSize = size
            }
        }
        if let best { return TileGrid(columns: best.w, rows: best.h) }

        // _find_closest_aspect_ratio: Python min() keeps the first of equal keys, max() the first
        // of equal arrangements.
        var chosen: (key: Double, arrangements: [(w: Int, h: Int)])?
        var bestDistance = Double.infinity
        for group in groups {
            let eligible = scale >= 1 ? group.key <= scale : group.key > scale
            guard eligible else { continue }
            let distance = scale >= 1 ? abs(group.key - scale) : abs(1 / group.key - 1 / scale)
            if distance < bestDistance {
                bestDistance = distance
                chosen = group
            }
        }
        // Key 1.0 (the 1×1 arrangement) is always present and eligible on one side or the other.
        let arrangements = chosen!.arrangements
        var pick = arrangements[0]
        for a in arrangements.dropFirst() where scale >= 1 ? a.w > pick.w : a.h > pick.h { pick = a }
        return TileGrid(columns: pick.w, rows: pick.h, fallback: true)
    }
}
