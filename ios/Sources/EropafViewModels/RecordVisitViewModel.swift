// Recording a visit: the screen's state and actions in plain Swift. The visit exists from the
// first moment (so nothing typed is ever only on screen), and every keystroke is saved as it is
// typed: one small change in the core, durable at once. As the Android RecordVisitPresenter.
import Eropaf
import Foundation

/// Not locked: the screen calls it and reads `state` on one thread, the main one in the app.
public final class RecordVisitViewModel {
    public struct State: ScreenState {
        public var visitId: String?
        public var place: String?
        /// The note as the worker typed it.
        public var note = ""
        /// The observations stored with the visit, as the case page shows them.
        public var observations: [String] = []
        /// The life domains an observation can be about, for the screen's choice.
        public var domains: [LifeDomainInfo] = []
        /// The note on screen is the note stored.
        public var saved = true
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
    private let caseId: String

    public init(eropaf: Eropaf, caseId: String) {
        self.eropaf = eropaf
        self.caseId = caseId
    }

    /// Opens a new visit, stored at once, or goes on with `visitId` (after a restart).
    public func start(place: String? = nil, visitId: String? = nil) {
        act {
            let id = try visitId ?? eropaf.recordVisit(caseId: caseId, visit: NewVisit(note: "", place: place))
            guard let stored = try eropaf.caseDetail(caseId: caseId).visits.first(where: { $0.id == id }) else {
                // A visit id kept from before a restart whose case has since lost it: the
                // core's own sentence for a visit it does not have.
                throw EropafError.NotFound(
                    what: "visit", id: id, messageNl: "Bezoek \(id) bestaat niet op dit apparaat."
                )
            }
            var next = State()
            next.visitId = id
            next.place = stored.place
            next.note = stored.note
            next.observations = stored.observations.map(Dutch.observation)
            next.domains = lifeDomains()
            state = next
        }
    }

    /// Stores an observation with the visit: what the worker saw, and optionally the life domain
    /// and a 1–5 self-sufficiency score. An empty text or a score out of range is refused in
    /// Dutch and the typed text stays on screen.
    public func observe(_ text: String, domain: LifeDomain? = nil, score: UInt8? = nil) {
        act {
            guard let visitId = state.visitId else { return }
            try eropaf.addObservation(
                caseId: caseId, visitId: visitId, observation: NewObservation(text: text, domain: domain, score: score)
            )
            guard let stored = try eropaf.caseDetail(caseId: caseId).visits.first(where: { $0.id == visitId }) else {
                return
            }
            state.observations = stored.observations.map(Dutch.observation)
        }
    }

    /// The note as it now reads on screen: saved before this returns. The core stores a note
    /// without the spaces around it; the screen keeps what was typed, a trailing space
    /// included, so the next keystroke lands where the worker expects.
    public func type(_ note: String) {
        guard let visitId = state.visitId else { return }
        state.note = note
        state.saved = false
        act {
            try eropaf.editVisitNote(caseId: caseId, visitId: visitId, note: note)
            state.saved = trimmed(state.note) == trimmed(note)
        }
    }

    private func act(_ call: () throws -> Void) {
        // Run before `state` is read: the call writes it too.
        let outcome = Result(catching: call)
        state = state.after(outcome)
    }

    private func trimmed(_ text: String) -> String {
        text.trimmingCharacters(in: .whitespacesAndNewlines)
    }
}
