// One case as its page shows it: the resident, the visits, the assessments with where each
// stands in review, the files (opened here, fetched from the relay when they are not on this
// phone, with progress) and whether the team has everything. As the Android CasePagePresenter.
import Eropaf
import Foundation

/// On the main actor, where the screen calls it and reads `state`. A file's fetch progress is
/// reported on the library's own threads; it reaches `state` only through `openFile`, which
/// runs here, so `state` and `onChange` never leave the main actor.
@MainActor
public final class CasePageViewModel {
    public struct VisitRow: Equatable, Identifiable {
        public var id: String
        public var at: String
        public var place: String?
        public var note: String
        /// "Wonen, 2 Kwetsbaar: Huurachterstand van twee maanden" per observation.
        public var observations: [String]
    }

    public struct AssessmentRow: Equatable, Identifiable {
        public var id: String
        public var question: String
        /// The proposed decision; empty while the checklist has not reached it.
        public var decision: String
        public var maatwerk: Bool
        /// Where it stands in review, in Dutch ("Wacht op toetsing", "Goedgekeurd").
        public var reviewLabel: String
    }

    public struct FileRow: Equatable, Identifiable {
        public var id: String
        public var name: String
        /// "application/pdf": what the viewer app is chosen by.
        public var mediaType: String
        public var caption: String?
        public var size: String
        /// The bytes are on this phone; otherwise opening fetches them from the relay.
        public var onDevice: Bool
        /// 0.0–1.0 while it is being fetched; none otherwise.
        public var fetching: Float?
    }

    public struct State: ScreenState {
        public var loaded = false
        public var residentName = ""
        public var statusLabel = ""
        public var visits: [VisitRow] = []
        public var assessments: [AssessmentRow] = []
        public var files: [FileRow] = []
        /// Fields two colleagues changed at once, for the worker to settle ("Conflict in ...").
        public var conflicts: [String] = []
        /// Something of this case on this phone the team has not received yet.
        public var unsent = false
        /// The case is no longer on this phone (erased, or handed over and forgotten).
        public var gone = false
        public var error: String?
        public var locked = false

        public init() {}

        /// A call this page makes fails with NotFound only when its case is no longer here.
        mutating func failed(_ error: Error) {
            if case EropafError.NotFound = error {
                gone = true
            }
            self.error = dutchMessage(error)
        }
    }

    /// Called with the new state whenever it differs from the last, as a screen re-renders.
    public var onChange: ((State) -> Void)?
    public private(set) var state = State() {
        didSet { if state != oldValue { onChange?(state) } }
    }

    private let eropaf: Eropaf
    private let caseId: String
    private let timeZone: TimeZone

    public init(eropaf: Eropaf, caseId: String, timeZone: TimeZone = .current) {
        self.eropaf = eropaf
        self.caseId = caseId
        self.timeZone = timeZone
    }

    /// Reads the case again: on opening the page, and whenever the core says it changed.
    public func refresh() {
        act { try load() }
    }

    /// The file's bytes, fetched from the relay first when this phone does not hold them; the
    /// row shows how far the fetch is. None (with the reason on screen) when it could not be
    /// opened, e.g. without a connection; what was fetched stays and the next try goes on
    /// from there.
    public func openFile(_ fileId: String) async -> Data? {
        guard let row = state.files.first(where: { $0.id == fileId }) else { return nil }
        do {
            if !row.onDevice {
                setFetching(fileId, 0)
                // The listener only queues the fractions; they are applied here, in the order
                // reported, and the queue ends when the fetch does, so no late fraction can
                // bring the progress bar back after it is gone.
                var continuation: AsyncStream<Float>.Continuation?
                let progress = AsyncStream<Float>(bufferingPolicy: .unbounded) { continuation = $0 }
                let sink = continuation!
                async let fetched: Void = Self.fetch(eropaf, caseId: caseId, fileId: fileId, progress: sink)
                for await fraction in progress {
                    setFetching(fileId, fraction)
                }
                try await fetched
            }
            let bytes = try eropaf.attachmentContent(caseId: caseId, attachmentId: fileId)
            setFetching(fileId, nil)
            refresh()
            return bytes
        } catch {
            setFetching(fileId, nil)
            // Recorded as any failed call is; the fetch awaits, so it cannot run inside `act`.
            state = state.after(.failure(error))
            return nil
        }
    }

    private nonisolated static func fetch(
        _ eropaf: Eropaf, caseId: String, fileId: String, progress: AsyncStream<Float>.Continuation
    ) async throws {
        defer { progress.finish() }
        _ = try await eropaf.downloadAttachment(
            caseId: caseId, attachmentId: fileId, listener: FetchProgress(progress)
        )
    }

    /// Hands each report of the library's thread to `openFile` as a fraction.
    private final class FetchProgress: DownloadListener {
        let progress: AsyncStream<Float>.Continuation

        init(_ progress: AsyncStream<Float>.Continuation) {
            self.progress = progress
        }

        func onProgress(doneBytes: UInt64, totalBytes: UInt64) {
            progress.yield(totalBytes == 0 ? 1 : Float(doneBytes) / Float(totalBytes))
        }
    }

    private func setFetching(_ fileId: String, _ fraction: Float?) {
        var next = state
        for index in next.files.indices where next.files[index].id == fileId {
            next.files[index].fetching = fraction
        }
        state = next
    }

    private func load() throws {
        let detail = try eropaf.caseDetail(caseId: caseId)
        let unsent = try eropaf.unsentWork().caseIds.contains(caseId)
        // A fetch under way keeps its progress bar through a refresh.
        let fetching = Dictionary(state.files.map { ($0.id, $0.fetching) }, uniquingKeysWith: { first, _ in first })
        var next = State()
        next.loaded = true
        next.residentName = detail.resident.name
        next.statusLabel = detail.statusLabel
        // Newest first; visits recorded at the same moment keep the core's order.
        next.visits = detail.visits.enumerated()
            .sorted { $0.element.at != $1.element.at ? $0.element.at > $1.element.at : $0.offset < $1.offset }
            .map { _, visit in
                VisitRow(
                    id: visit.id, at: Dutch.dateTime(visit.at, timeZone: timeZone), place: visit.place,
                    note: visit.note, observations: visit.observations.map(Dutch.observation)
                )
            }
        next.assessments = try detail.assessments.map { assessment in
            AssessmentRow(
                id: assessment.id, question: assessment.question, decision: assessment.decision,
                maatwerk: assessment.maatwerk,
                reviewLabel: try eropaf.reviewStatus(caseId: caseId, assessmentId: assessment.id).label
            )
        }
        next.files = detail.attachments.map { file in
            FileRow(
                id: file.id, name: file.name, mediaType: file.mediaType, caption: file.caption, size: Dutch.size(file.size),
                onDevice: file.onDevice, fetching: fetching[file.id] ?? nil
            )
        }
        next.conflicts = detail.conflicts.map { "Conflict in \($0.path): \($0.values.joined(separator: " / "))" }
        next.unsent = unsent
        state = next
    }

    private func act(_ call: () throws -> Void) {
        // Run before `state` is read: the call writes it too.
        let outcome = Result(catching: call)
        state = state.after(outcome)
    }
}
