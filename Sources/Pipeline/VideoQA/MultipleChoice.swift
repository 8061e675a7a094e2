// Multiple-choice questions as VideoRefer-Bench-Q asks and scores them.
//
// Asking (VideoRefer's inference_videorefer_q_bench.py): the model sees
//     Question + " " + " ".join(options) + ". Answer with the option's letter from the given choices directly."
// (the suffix is `prompt.multiple_choice_suffix` of the pipeline spec).
//
// Scoring (VideoRefer's eval_videorefer_bench_q.py, in alibaba-damo-academy/PixelRefer
// VideoRefer/videorefer/eval/; the same rule in videorefer_videollama3/evaluation/):
//     gt   = the letter in "(X)" of the Answer if there is one, else the whole Answer
//     pred = the first "(X)" in the prediction, else the first "X)", else the first character of
//            the prediction with every "." removed
//     correct when pred.lower() == gt.lower();  X is an ASCII capital A–Z.
// The official script raises IndexError on an empty prediction; here an empty prediction has no
// letter and counts as wrong.
import Foundation

/// A question and, for multiple choice, its options (e.g. "(A) A helmet").
public struct VideoQuestion: Sendable, Equatable, Codable {
    public var text: String
    public var choices: [String]

    public init(_ text: String, choices: [String] = []) {
        self.text = text
        self.choices = choices
    }

    /// The text the model is asked.
    public func prompt(multipleChoiceSuffix suffix: String) -> String {
        choices.isEmpty ? text : text + " " + choices.joined(separator: " ") + suffix
    }
}

public enum MultipleChoice {
    /// The letter the official VideoRefer-Bench-Q script reads from a prediction (nil when the
    /// prediction is empty once "." are removed).
    public static func officialLetter(_ prediction: String) -> String? {
        let s = Array(prediction.unicodeScalars)
        func isCapital(_ c: Unicode.Scalar) -> Bool { c.value >= 65 && c.value <= 90 }
        // re.search(r'\(([A-Z])\)')
        if s.count >= 3 {
            for i in 0 ... (s.count - 3) where s[i] == "(" && isCapital(s[i + 1]) && s[i + 2] == ")" {
                return String(s[i + 1])
            }
        }
        // re.search(r'([A-Z])\)')
        if s.count >= 2 {
            for i in 0 ... (s.count - 2) where isCapital(s[i]) && s[i + 1] == ")" {
                return String(s[i])
            }
        }
        // pred.replace('.', '')[0]
        return s.first { $0 != "." }.map { String($0) }
    }

    /// The ground truth as the official script reads it: the letter of "(X)", else the text.
    public static func officialTruth(_ answer: String) -> String {
        let s = Array(answer.unicodeScalars)
        if s.count >= 3 {
            for i in 0 ... (s.count - 3) where s[i] == "(" && s[i + 1].value >= 65 && s[i + 1].value <= 90 && s[i + 2] == ")" {
                return String(s[i + 1])
            }
        }
        return answer
    }

    /// The official comparison (case-insensitive).
    public static func isCorrect(prediction: String, answer: String) -> Bool {
        guard let letter = officialLetter(prediction) else { return false }
        return letter.lowercased() == officialTruth(answer).lowercased()
    }
}
