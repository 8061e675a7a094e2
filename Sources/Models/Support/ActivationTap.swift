// Named intermediates (STYLE.md §7 rule 5). Model code calls `tap?.record(name, shape, values)` at
// stable names; a parity test keeps what it compares, a trace tool could dump everything. With no tap
// attached nothing is copied.
//
// Names used (T tiles/frames, N vision tokens per tile incl. CLS, D_v vision width, D LLM width,
// L prompt length, V vocabulary):
//   vision.tile{t}.mask_embeds        [1024, D_v]   mask patch embedding (token order)
//   vision.tile{t}.pos_embedded       [N, D_v]      patch + mask embeds, CLS, + pos_embed
//   vision.tile{t}.norm_pre           [N, D_v]
//   vision.tile{t}.block{i}           [N, D_v]      output of block i
//   vision.tile{t}.out                [N, D_v]      last block output (CLS still included)
//   image_features                    [T, 256, D]   projector + 2×2 pool
//   replay.{i}.roi                    [5]           [0, x1, y1, x2, y2] before roi_align's spatial scale
//   replay.{i}.features               [256, D]
//   inputs_embeds                     [L, D]        after image scatter and replay
//   llm.layer{i}.out                  [rows, D]     decoder layer output of the rows just computed
//   logits.step{s}                    [V]

/// Receives named intermediate tensors during a forward pass.
public protocol ActivationTap: AnyObject {
    /// Whether `record` should be called for `name` (lets callers skip work nobody wants).
    func wants(_ name: String) -> Bool
    /// `values` are only valid during the call: copy what you keep.
    func record(_ name: String, shape: [Int], values: UnsafeBufferPointer<Float>)
}

extension ActivationTap {
    public func wants(_ name: String) -> Bool { true }
}

/// A tap that keeps copies of everything recorded (optionally only names passing `filter`).
public final class ActivationRecorder: ActivationTap {
    public private(set) var tensors: [String: (shape: [Int], values: [Float])] = [:]
    /// Names in the order they were first recorded.
    public private(set) var order: [String] = []
    private let filter: (String) -> Bool

    public init(filter: @escaping (String) -> Bool = { _ in true }) {
        self.filter = filter
    }

    public func wants(_ name: String) -> Bool { filter(name) }

    public func record(_ name: String, shape: [Int], values: UnsafeBufferPointer<Float>) {
        guard filter(name) else { return }
        if tensors[name] == nil { order.append(name) }
        tensors[name] = (shape, Array(values))
    }

    public subscript(_ name: String) -> [Float]? { tensors[name]?.values }
}

extension Optional where Wrapped == any ActivationTap {
    /// Records `count` floats at `pointer` under `name` when a tap is attached and wants it.
    @inline(__always)
    func record(_ name: @autoclosure () -> String, shape: [Int], _ pointer: UnsafePointer<Float>, count: Int) {
        guard let tap = self else { return }
        let n = name()
        guard tap.wants(n) else { return }
        tap.record(n, shape: shape, values: UnsafeBufferPointer(start: pointer, count: count))
    }
}
