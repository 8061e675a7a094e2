// A checkpoint may record the replay it was trained with: `"replay": {"corrected_box_scaling": true}`
// in its config.json (models/gar-shapes-demo does; GAR's released checkpoints have no such key and
// keep the reference's double 1/28 scaling). The video jobs honour it: a request replays with the
// corrected box scaling when its spec or its checkpoint asks for it.
import Foundation

public enum CheckpointReplay {
    /// `replay.corrected_box_scaling` of `DIR/config.json`; false when the key (or the file) is
    /// missing or not a boolean (the model loader reports a bad config itself).
    public static func correctedBoxScaling(modelDirectory: String) -> Bool {
        let path = (modelDirectory as NSString).appendingPathComponent("config.json")
        guard (try? InputFile.check(path, maxBytes: 16 << 20)) != nil,
              let data = FileManager.default.contents(atPath: path),
              let config = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any],
              let replay = config["replay"] as? [String: Any] else { return false }
        return replay["corrected_box_scaling"] as? Bool ?? false
    }
}
