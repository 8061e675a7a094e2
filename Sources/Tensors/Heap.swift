// Giving freed memory back to the system between the stages of a request. glibc keeps the pages
// of freed blocks below its (adaptive, up to 32 MB) mmap threshold resident for reuse, so after
// the vision tower frees a batch's activations (~190 MB for 4 GAR-1B tiles) the process would
// carry them into the prefill, where the KV cache grows to its peak.
import CKernels

public enum Heap {
    /// Returns the free pages of every malloc arena to the system (malloc_trim on glibc; nothing
    /// elsewhere). Cheap (milliseconds); call after a stage has freed its large scratch.
    @discardableResult
    public static func returnFreedMemory() -> Bool { gk_heap_trim() != 0 }
}
