// Pipeline module. See ../../README.md and ARCHITECTURE.md §1 for its place in the target DAG.
public enum PipelineModule {
    public static let name = "Pipeline"
}
