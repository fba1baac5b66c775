// The case list's state and actions in plain Swift over the bindings (no SwiftUI, so it is
// tested on Linux against the real library: ios/test-swift.sh); the screen only renders
// `state`. The same behaviour and Dutch as the Android CaseListPresenter.
import Eropaf
import Foundation

/// Not locked: the screen calls it and reads `state` on one thread, the main one in the app.
public final class CaseListViewModel {
    /// One case as the list shows it.
    public struct Row: Equatable, Identifiable {
        public var id: String
        public var residentName: String
        public var statusLabel: String
        public var visits: Int
        /// Work on this phone the team has not received yet.
        public var unsent: Bool
    }

    public struct State: ScreenState {
        public var query = ""
        public var rows: [Row] = []
        /// "3 wijzigingen wachten op verbinding", or none when nothing waits.
        public var waiting: String?
        /// A Dutch message when the last action failed.
        public var error: String?
        /// The store is locked: the screen shows only the unlock screen.
        public var locked = false

        public init() {}
    }

    /// Called with the new state whenever it differs from the last, as a screen re-renders.
    public var onChange: ((State) -> Void)?
    public private(set) var state = State() {
        didSet { if state != oldValue { onChange?(state) } }
    }

    private let eropaf: Eropaf

    public init(eropaf: Eropaf) {
        self.eropaf = eropaf
    }

    /// Reads the list again (after a sync changed cases, or coming back to the screen).
    public func refresh() {
        load(state.query)
    }

    /// Opens a case for a new resident; only the name is needed. Returns the case to show, or
    /// none with the reason on screen (an empty name).
    @discardableResult
    public func newCase(residentName: String) -> String? {
        var id: String?
        act {
            id = try eropaf.newCase(resident: Resident(name: residentName), caseType: nil)
            try show(state.query)
        }
        return id
    }

    /// Filters by resident name, ignoring case and accents; a blank query lists all.
    public func search(_ query: String) {
        load(query)
    }

    private func load(_ query: String) {
        act {
            do {
                try show(query)
            } catch {
                // The last list stays, behind the unlock screen or under the reason, with the
                // query as typed.
                state.query = query
                throw error
            }
        }
    }

    private func show(_ query: String) throws {
        let trimmed = query.trimmingCharacters(in: .whitespacesAndNewlines)
        let cases = trimmed.isEmpty ? try eropaf.cases() : try eropaf.search(query: trimmed)
        let unsent = try eropaf.unsentWork()
        let waitingCases = Set(unsent.caseIds)
        var next = State()
        next.query = query
        next.rows = cases.map {
            Row(id: $0.id, residentName: $0.residentName, statusLabel: $0.statusLabel,
                visits: Int($0.visitCount), unsent: waitingCases.contains($0.id))
        }
        next.waiting = Self.waitingText(changes: unsent.changes, files: unsent.files)
        state = next
    }

    /// What waits for a connection, in Dutch; none when nothing does.
    public static func waitingText(changes: UInt64, files: UInt64) -> String? {
        var parts: [String] = []
        if changes > 0 { parts.append(changes == 1 ? "1 wijziging" : "\(changes) wijzigingen") }
        if files > 0 { parts.append(files == 1 ? "1 bijlage" : "\(files) bijlagen") }
        if parts.isEmpty { return nil }
        let verb = changes + files == 1 ? "wacht" : "wachten"
        return "\(parts.joined(separator: " en ")) \(verb) op verbinding"
    }

    private func act(_ call: () throws -> Void) {
        // Run before `state` is read: the call writes it too.
        let outcome = Result(catching: call)
        state = state.after(outcome)
    }
}
