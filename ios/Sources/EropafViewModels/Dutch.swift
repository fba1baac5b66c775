// How the screens write dates, sizes and observations for a Dutch reader ("4-12-2026 10:42",
// "1,2 MB"). The words come from the core; dates depend on the phone's time zone, so they
// are put together here. As the Android Dutch.
import Eropaf
import Foundation

public enum Dutch {
    /// "4-12-2026 10:42" in `timeZone`.
    public static func dateTime(_ at: Date, timeZone: TimeZone) -> String {
        format(at, "d-M-yyyy HH:mm", timeZone)
    }

    /// "4-12-2026" in `timeZone`.
    public static func date(_ at: Date, timeZone: TimeZone) -> String {
        format(at, "d-M-yyyy", timeZone)
    }

    /// An observation with its labels first: "Financiën, Niet zelfredzaam: Huurachterstand".
    public static func observation(_ observation: Observation) -> String {
        let labels = [observation.domainLabel, observation.scoreLabel].compactMap { $0 }.joined(separator: ", ")
        return labels.isEmpty ? observation.text : "\(labels): \(observation.text)"
    }

    /// A file's size as a worker reads it: "950 bytes", "300 kB", "1,2 MB".
    public static func size(_ bytes: UInt64) -> String {
        if bytes < 1_000 { return "\(bytes) bytes" }
        if bytes < 1_000_000 { return "\((bytes + 500) / 1_000) kB" }
        // Whole tenths rounded half up, as Android's "%.1f" rounds; the comma is the Dutch one,
        // whatever the phone's locale.
        let tenths = (bytes + 50_000) / 100_000
        return "\(tenths / 10),\(tenths % 10) MB"
    }

    /// A supervisor's verdict with the note, when there is one: "Aanpassing gevraagd: Onderbouw
    /// het bedrag". The checklist and the review queue show earlier verdicts alike.
    static func review(_ review: Review) -> String {
        review.note.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty
            ? review.verdictLabel : "\(review.verdictLabel): \(review.note)"
    }

    /// A date in a fixed pattern in `timeZone`; the sync status line uses it too.
    static func format(_ date: Date, _ pattern: String, _ timeZone: TimeZone) -> String {
        let formatter = DateFormatter()
        // A fixed pattern, not the phone's locale: the digits and order the screens promise.
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = timeZone
        formatter.dateFormat = pattern
        return formatter.string(from: date)
    }
}
