// Tracking module. See ../../README.md and ARCHITECTURE.md §1 for its place in the target DAG.
public enum TrackingModule {
    public static let name = "Tracking"
}
