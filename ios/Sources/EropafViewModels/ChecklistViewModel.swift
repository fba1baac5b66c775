// The checklist flow of one assessment: the omgekeerde toets step by step, a verdict on each of
// the team's values, the proposed decision, maatwerk with its budget, and submitting it for
// review. The core decides the order and refuses what comes too early; this only shows it.
import Eropaf
import Foundation

/// Not locked: the screen calls it and reads `state` on one thread, the main one in the app.
public final class ChecklistViewModel {
    /// One line of the overview: every step, value and the decision, in the core's order.
    public struct Item: Equatable {
        public var item: ChecklistItem
        public var title: String
        public var done: Bool
    }

    /// The item on screen: its question and guidance, and what was answered so far.
    public struct Current: Equatable {
        public var item: ChecklistItem
        public var heading: String
        public var question: String
        public var guidance: [String]
        /// The stored answer, or the motivation of a value's verdict.
        public var text: String
        /// For a value: the verdict given; the screen offers `verdictChoices`.
        public var verdict: Verdict?

        public var isValue: Bool {
            if case .value = item { return true }
            return false
        }
    }

    public struct State: ScreenState {
        public var assessmentId: String?
        public var question = ""
        public var frameworkTitle = ""
        public var items: [Item] = []
        /// None once everything is answered: the screen shows maatwerk and submitting.
        public var current: Current?
        /// "3 van 9 beantwoord".
        public var progress = ""
        public var fraction: Float = 0
        /// What is still open and why, in the core's words.
        public var missing: [String] = []
        public var justification = ""
        public var maatwerk = false
        /// "€ 750,00", or none.
        public var budget: String?
        /// Where it stands in review ("Concept", "Wacht op toetsing").
        public var reviewLabel = ""
        /// What supervisors said, newest last: "Wijziging gevraagd: Onderbouw het bedrag".
        public var reviews: [String] = []
        public var canSubmit = false
        public var verdictChoices: [VerdictInfo] = []
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
    /// The item the worker chose to revise; none follows the core's next item.
    private var chosen: ChecklistItem?

    private static let decision = "Het voorgestelde besluit"

    public init(eropaf: Eropaf, caseId: String) {
        self.eropaf = eropaf
        self.caseId = caseId
        state.verdictChoices = verdicts()
    }

    /// Starts a new assessment of `question` under the team's framework.
    public func start(_ question: String, frameworkId: String? = nil) {
        act {
            let id = try eropaf.startAssessment(caseId: caseId, question: question, frameworkId: frameworkId)
            try show(id)
        }
    }

    /// Opens an existing assessment (from the case page or the review queue).
    public func open(_ assessmentId: String) {
        act { try show(assessmentId) }
    }

    /// Goes back to an item to change it; the next answer returns to the core's order.
    public func select(_ item: ChecklistItem) {
        act {
            chosen = item
            try show(requireId())
        }
    }

    /// Stores the answer to the current step, or the proposed decision.
    public func answer(_ text: String) {
        act {
            guard let item = state.current?.item else { return }
            try eropaf.answer(caseId: caseId, assessmentId: requireId(), item: item, text: text)
            chosen = nil
            try show(requireId())
        }
    }

    /// Gives the current value a verdict; the core says which verdicts need a motivation.
    public func verdict(_ verdict: Verdict, motivation: String) {
        act {
            guard case let .value(key)? = state.current?.item else { return }
            try eropaf.setVerdict(
                caseId: caseId, assessmentId: requireId(), valueKey: key, verdict: verdict, motivation: motivation
            )
            chosen = nil
            try show(requireId())
        }
    }

    /// Marks the decision as maatwerk with the budget as typed ("750", "1.234,50"), or undoes it.
    public func maatwerk(_ on: Bool, budget: String) {
        act {
            let typed = !budget.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty
            let cents = on && typed ? try parseEuroAmount(text: budget) : nil
            try eropaf.setMaatwerk(caseId: caseId, assessmentId: requireId(), maatwerk: on, budgetCents: cents)
            try show(requireId())
        }
    }

    /// Submits the complete assessment: maatwerk waits for a supervisor, the rest needs none.
    public func submit() {
        act {
            _ = try eropaf.submitAssessment(caseId: caseId, assessmentId: requireId())
            try show(requireId())
        }
    }

    private func requireId() throws -> String {
        guard let id = state.assessmentId else {
            throw EropafError.InvalidInput(
                field: "assessment", reason: "no assessment is open", messageNl: "Er is nog geen afweging geopend."
            )
        }
        return id
    }

    private func show(_ id: String) throws {
        let view = try eropaf.assessment(caseId: caseId, assessmentId: id)
        let status = try eropaf.reviewStatus(caseId: caseId, assessmentId: id)
        let onScreen = chosen ?? view.progress.next
        var next = state
        next.assessmentId = id
        next.question = view.question
        next.frameworkTitle = view.frameworkTitle
        next.items = items(view)
        next.current = onScreen.flatMap { current(view, $0) }
        next.progress = "\(view.progress.answered) van \(view.progress.total) beantwoord"
        next.fraction = view.progress.total == 0 ? 1 : Float(view.progress.answered) / Float(view.progress.total)
        next.missing = view.progress.missing.map(\.reason)
        next.justification = view.justification
        next.maatwerk = view.maatwerk
        next.budget = view.budgetCents.map { formatEuroAmount(cents: $0) }
        next.reviewLabel = status.label
        next.reviews = status.reviews.map(Dutch.review)
        next.canSubmit = view.progress.complete && status.stage == .draft
        state = next
    }

    private func items(_ view: AssessmentView) -> [Item] {
        view.steps.map {
            Item(item: .step(key: $0.step.key), title: "Stap \($0.step.number): \($0.step.title)",
                 done: !isBlank($0.answer))
        }
            + view.values.map { Item(item: .value(key: $0.value.key), title: $0.value.title, done: $0.verdict != nil) }
            + [Item(item: .decision, title: Self.decision, done: !isBlank(view.decision))]
    }

    private func current(_ view: AssessmentView, _ item: ChecklistItem) -> Current? {
        switch item {
        case let .step(key):
            return view.steps.first { $0.step.key == key }.map {
                Current(item: item, heading: "Stap \($0.step.number): \($0.step.title)", question: $0.step.question,
                        guidance: $0.step.guidance, text: $0.answer)
            }
        case let .value(key):
            return view.values.first { $0.value.key == key }.map {
                Current(item: item, heading: $0.value.title, question: $0.value.description,
                        guidance: $0.value.questions, text: $0.motivation, verdict: $0.verdict)
            }
        case .decision:
            return Current(item: item, heading: Self.decision, question: "Wat stel je voor, gelet op alles hierboven?",
                           guidance: [], text: view.decision)
        }
    }

    private func act(_ call: () throws -> Void) {
        // Run before `state` is read: the call writes it too.
        let outcome = Result(catching: call)
        state = state.after(outcome)
    }

    private func isBlank(_ text: String) -> Bool {
        text.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty
    }
}
