// Tensors module. See ../../README.md and ARCHITECTURE.md §1 for its place in the target DAG.
public enum TensorsModule {
    public static let name = "Tensors"
}
import COpenBLAS
import CKernels
