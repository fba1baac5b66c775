// The supervisor's review queue: the decisions that depart from standard policy, oldest first
// as the core orders them, each opened with its full justification and backed, sent back with a
// question, or escalated. The rules (who may review, what needs a note) are the core's.
import Eropaf
import Foundation

/// Not locked: the screen calls it and reads `state` on one thread, the main one in the app.
public final class ReviewQueueViewModel {
    public struct Row: Equatable, Identifiable {
        public var caseId: String
        public var assessmentId: String
        public var resident: String
        public var question: String
        /// "Sanne · 4-12-2026 · € 1.500,00 · Teamleider".
        public var details: String
        public var statusLabel: String

        public var id: String { assessmentId }
    }

    /// The decision opened for review.
    public struct Open: Equatable {
        public var caseId: String
        public var assessmentId: String
        public var resident: String
        public var justification: String
        /// Earlier verdicts on it, e.g. after the worker answered a question.
        public var history: [String]
    }

    public struct State: ScreenState {
        public var rows: [Row] = []
        public var open: Open?
        /// "Niets te toetsen" when the queue is empty, for the screen to say so.
        public var empty: String?
        public var error: String?
        public var locked = false

        public init() {}
    }

    /// Called with the new state whenever it differs from the last, as a screen re-renders.
    public var onChange: ((State) -> Void)?
    public private(set) var state = State() {
        didSet { if state != oldValue { onChange?(state) } }
    }

    private let eropaf: Eropaf
    private let timeZone: TimeZone

    public init(eropaf: Eropaf, timeZone: TimeZone = .current) {
        self.eropaf = eropaf
        self.timeZone = timeZone
    }

    public func refresh() {
        act { try load() }
    }

    public func open(_ row: Row) {
        act {
            let view = try eropaf.assessment(caseId: row.caseId, assessmentId: row.assessmentId)
            let status = try eropaf.reviewStatus(caseId: row.caseId, assessmentId: row.assessmentId)
            state.open = Open(
                caseId: row.caseId, assessmentId: row.assessmentId, resident: row.resident,
                justification: view.justification, history: status.reviews.map(Dutch.review)
            )
        }
    }

    public func close() {
        var next = state
        next.open = nil
        next.error = nil
        state = next
    }

    /// Backs the open decision, sends it back, or escalates it. Asking for changes and escalating
    /// need a note; without one the core refuses, nothing is written and the decision stays open.
    public func decide(_ action: ReviewAction, note: String) {
        act {
            guard let open = state.open else { return }
            _ = try eropaf.reviewAssessment(
                caseId: open.caseId, assessmentId: open.assessmentId, action: action, note: note
            )
            state.open = nil
            try load()
        }
    }

    /// The buttons, in Dutch.
    public static func label(_ action: ReviewAction) -> String {
        switch action {
        case .approve: return "Akkoord"
        case .requestChanges: return "Wijziging vragen"
        case .escalate: return "Escaleren"
        }
    }

    private func load() throws {
        let names = Dictionary(
            try eropaf.members().map { ($0.deviceId, $0.member) }, uniquingKeysWith: { _, last in last }
        )
        let rows = try eropaf.reviewQueue().map { item in
            let details = [
                names[item.authorDevice],
                Dutch.date(item.submittedAt, timeZone: timeZone),
                item.budgetCents.map { formatEuroAmount(cents: $0) },
                item.rung,
            ].compactMap { $0 }
            return Row(
                caseId: item.caseId, assessmentId: item.assessmentId, resident: item.resident,
                question: item.question, details: details.joined(separator: " · "), statusLabel: item.status.label
            )
        }
        var next = state
        next.rows = rows
        next.empty = rows.isEmpty ? "Niets te toetsen" : nil
        state = next
    }

    private func act(_ call: () throws -> Void) {
        // Run before `state` is read: the call writes it too.
        let outcome = Result(catching: call)
        state = state.after(outcome)
    }
}
