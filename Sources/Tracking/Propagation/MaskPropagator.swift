// The propagation protocol. A propagator walks through frames in one direction (the caller
// feeds them in time order, or reversed for backward tracking) and keeps one state per object.
// Callers never see the method: the weight-free `FlowPropagator` is the default, and a learned
// tracker (ViT-feature label propagation, SAM 2) can implement the same two calls.
import Video

/// Result for one object on one frame.
public struct PropagationResult: Sendable {
    /// The object's mask at the propagator's working size; empty when the object is not
    /// visible or lost.
    public var mask: Mask
    /// 0...1; 1 on a prompted frame. See the implementation for its definition.
    public var confidence: Float
    /// True when the tracker gave up on the object on this frame (the mask is then empty)
    /// rather than invent a mask.
    public var lost: Bool

    public init(mask: Mask, confidence: Float, lost: Bool) {
        self.mask = mask; self.confidence = confidence; self.lost = lost
    }
}

public protocol MaskPropagator: AnyObject {
    /// Forgets every object (call between independent passes, e.g. forward then backward).
    func reset()

    /// Advances to `frame`. Objects listed in `prompts` are (re)started on this frame with the
    /// given mask (a prompt overrides what was tracked); every other active object is propagated
    /// from the previous frame. Returns a result for every active object, keyed by object id.
    /// All frames of one pass must have the same size.
    func step(frame: RGBImage, prompts: [Int: Mask]) -> [Int: PropagationResult]
}
