// The SwiftUI screens: case list with search, the case page with its files, recording a visit
// with observations, the checklist flow, sync with progress, and the supervisor's review queue.
// Each renders its view model's state (EropafViewModels, tested on Linux) and calls its actions.
import Eropaf
import EropafViewModels
import SwiftUI

/// What the screens need of a view model: its state, and to hear of each new one.
@MainActor
protocol ViewModel: AnyObject {
    associatedtype State
    var state: State { get }
    var onChange: ((State) -> Void)? { get set }
}

extension CaseListViewModel: ViewModel {}
extension CasePageViewModel: ViewModel {}
extension RecordVisitViewModel: ViewModel {}
extension ChecklistViewModel: ViewModel {}
extension ReviewQueueViewModel: ViewModel {}

/// A view model as SwiftUI watches it: each new state redraws the screen that owns it.
@MainActor
final class Observed<VM: ViewModel>: ObservableObject {
    let vm: VM
    var state: VM.State { vm.state }

    init(_ vm: VM) {
        self.vm = vm
        vm.onChange = { [weak self] _ in self?.objectWillChange.send() }
    }
}

/// Where the case tab goes, as Android's Screen.
enum Route: Hashable {
    case casePage(String)
    case recordVisit(caseId: String)
    /// An assessment, or a new one of `question` when `assessmentId` is none.
    case checklist(caseId: String, assessmentId: String?, question: String?)
}

@MainActor
public struct RootView: View {
    @StateObject private var model: AppModel
    @State private var casePath: [Route] = []
    @Environment(\.scenePhase) private var scenePhase

    public init(model: @autoclosure @escaping () -> AppModel) {
        _model = StateObject(wrappedValue: model())
    }

    public var body: some View {
        Group {
            if model.locked { UnlockView() } else { tabs }
        }
        .environmentObject(model)
        // In the background the store key leaves memory; a running sync finishes first.
        .onChange(of: scenePhase) { phase in
            if phase == .background { model.lock() }
        }
        // The screens come back after unlocking, but a visit screen would start another visit:
        // the one being recorded is saved, and shows on its case page.
        .onChange(of: model.locked) { locked in
            if locked, case .recordVisit? = casePath.last { casePath.removeLast() }
        }
    }

    private var tabs: some View {
        TabView {
            NavigationStack(path: $casePath) {
                CaseListView(eropaf: model.eropaf, path: $casePath)
                    .navigationDestination(for: Route.self) { destination($0) }
            }
            .tabItem { Label("Casussen", systemImage: "person.2") }
            NavigationStack { ReviewQueueView(eropaf: model.eropaf) }
                .tabItem { Label("Toetsing", systemImage: "checkmark.seal") }
            NavigationStack { SyncView() }
                .tabItem { Label("Sync", systemImage: "arrow.triangle.2.circlepath") }
        }
    }

    @ViewBuilder
    private func destination(_ route: Route) -> some View {
        switch route {
        case let .casePage(caseId):
            CasePageView(eropaf: model.eropaf, caseId: caseId)
        case let .recordVisit(caseId):
            RecordVisitView(eropaf: model.eropaf, caseId: caseId)
        case let .checklist(caseId, assessmentId, question):
            ChecklistView(eropaf: model.eropaf, caseId: caseId, assessmentId: assessmentId, question: question)
        }
    }
}

/// Shown while the core is locked: nothing of any case, one button.
@MainActor
struct UnlockView: View {
    @EnvironmentObject private var model: AppModel

    var body: some View {
        VStack(spacing: 16) {
            Text("Eropaf is vergrendeld").font(.title2)
            if let error = model.error { Text(error).foregroundStyle(.red) }
            Button("Ontgrendelen") { Task { await model.unlock() } }
        }
        .padding()
    }
}

@MainActor
extension View {
    /// Around every screen: the errors and the sync status lines, as Android's AppScaffold.
    func chrome(error: String? = nil, locked: Bool = false) -> some View {
        modifier(Chrome(error: error, locked: locked))
    }

    /// Reads the core again when the screen shows and whenever a sync changed cases.
    func refreshing(_ revision: Int, _ refresh: @escaping () -> Void) -> some View {
        onAppear(perform: refresh).onChange(of: revision) { _ in refresh() }
    }
}

/// The app's error and the view model's, in the core's Dutch, and the background syncer's state
/// (a worker sees what waits). A store the view model found locked locks the app, which then
/// shows only the unlock screen.
@MainActor
private struct Chrome: ViewModifier {
    // Not private: that would make the memberwise initializer private too.
    @EnvironmentObject var model: AppModel
    let error: String?
    let locked: Bool

    func body(content: Content) -> some View {
        content
            .safeAreaInset(edge: .top) {
                VStack(alignment: .leading, spacing: 2) {
                    Lines(texts: [model.error, error].compactMap { $0 }).foregroundStyle(.red)
                    if let state = model.syncState { Lines(texts: SyncStatus.lines(state, timeZone: .current)) }
                }
                .font(.caption)
                .frame(maxWidth: .infinity, alignment: .leading)
                .padding(.horizontal)
                .background(.bar)
            }
            .onAppear { if locked { model.lock() } }
            .onChange(of: locked) { if $0 { model.lock() } }
    }
}

/// Lines that may repeat (observations, conflicts), told apart by their place.
private struct Lines: View {
    let texts: [String]
    var prefix = ""

    var body: some View {
        ForEach(Array(texts.enumerated()), id: \.offset) { Text(prefix + $0.element) }
    }
}

/// "a · b" of the parts there are.
private func joined(_ parts: String?...) -> String {
    parts.compactMap { $0 }.filter { !$0.isEmpty }.joined(separator: " · ")
}

@MainActor
struct CaseListView: View {
    @EnvironmentObject private var model: AppModel
    @StateObject private var list: Observed<CaseListViewModel>
    @Binding private var path: [Route]
    @State private var query = ""
    @State private var newName = ""

    init(eropaf: Eropaf, path: Binding<[Route]>) {
        _list = StateObject(wrappedValue: Observed(CaseListViewModel(eropaf: eropaf)))
        _path = path
    }

    var body: some View {
        let state = list.state
        List {
            if let waiting = state.waiting { Text(waiting).font(.caption) }
            ForEach(state.rows) { row in
                NavigationLink(value: Route.casePage(row.id)) {
                    VStack(alignment: .leading) {
                        Text(row.residentName).font(.headline)
                        Text(row.statusLabel + " · \(row.visits) bezoeken").font(.caption)
                        if row.unsent { Text("Wacht op verbinding").font(.caption2).foregroundStyle(.secondary) }
                    }
                }
            }
            HStack {
                TextField("Nieuwe bewoner", text: $newName)
                Button("Nieuw") {
                    if let caseId = list.vm.newCase(residentName: newName) {
                        newName = ""
                        path.append(.casePage(caseId))
                    }
                }
            }
        }
        .searchable(text: $query, prompt: "Zoek op naam")
        .onChange(of: query) { list.vm.search($0) }
        .navigationTitle("Casussen")
        .chrome(error: state.error, locked: state.locked)
        .refreshing(model.revision) { list.vm.refresh() }
    }
}

@MainActor
struct CasePageView: View {
    @EnvironmentObject private var model: AppModel
    @Environment(\.dismiss) private var dismiss
    @StateObject private var page: Observed<CasePageViewModel>
    @State private var question = ""
    @State private var preview: OpenedFile?
    @State private var previewError: String?
    private let caseId: String

    init(eropaf: Eropaf, caseId: String) {
        self.caseId = caseId
        _page = StateObject(wrappedValue: Observed(CasePageViewModel(eropaf: eropaf, caseId: caseId)))
    }

    var body: some View {
        let state = page.state
        List {
            if state.gone {
                Button("Terug naar de casussen") { dismiss() }
            } else {
                Section(state.statusLabel) {
                    if state.unsent { Text("Wacht op verbinding").font(.caption).foregroundStyle(.secondary) }
                    Lines(texts: state.conflicts)
                    NavigationLink("Bezoek vastleggen", value: Route.recordVisit(caseId: caseId))
                }
                Section("Bezoeken") {
                    ForEach(state.visits) { visit in
                        VStack(alignment: .leading) {
                            Text(joined(visit.at, visit.place)).font(.caption)
                            Text(visit.note)
                            Lines(texts: visit.observations, prefix: "• ")
                        }
                    }
                }
                Section("Afwegingen") {
                    ForEach(state.assessments) { assessment in
                        NavigationLink(value: Route.checklist(caseId: caseId, assessmentId: assessment.id, question: nil)) {
                            VStack(alignment: .leading) {
                                Text(assessment.question)
                                Text(joined(assessment.reviewLabel, assessment.decision)).font(.caption)
                            }
                        }
                    }
                    TextField("Nieuwe afweging: de vraag", text: $question)
                    NavigationLink("Afweging starten", value: Route.checklist(caseId: caseId, assessmentId: nil, question: question))
                }
                Section("Bijlagen") {
                    ForEach(state.files) { file in
                        Button { open(file) } label: {
                            VStack(alignment: .leading) {
                                Text(file.name)
                                Text(joined(file.caption, file.size, file.onDevice ? nil : "op de relay")).font(.caption)
                                if let fraction = file.fetching { ProgressView(value: fraction) }
                            }
                        }
                        .disabled(file.fetching != nil)
                    }
                }
            }
        }
        .navigationTitle(state.residentName)
        .chrome(error: state.error ?? previewError, locked: state.locked)
        .refreshing(model.revision) { page.vm.refresh() }
        .sheet(item: $preview) { opened in
            NavigationStack {
                FilePreview(url: opened.url)
                    .navigationTitle(opened.name)
                    .navigationBarTitleDisplayMode(.inline)
                    .toolbar { ToolbarItem(placement: .cancellationAction) { Button("Sluiten") { preview = nil } } }
            }
            // The file was written only for QuickLook (see OpenedFiles).
            .onDisappear { OpenedFiles.remove(opened.url) }
        }
    }

    /// Fetches the file when it is not on this phone (the row shows how far), then previews it.
    private func open(_ file: CasePageViewModel.FileRow) {
        Task {
            guard let bytes = await page.vm.openFile(file.id) else { return }
            do {
                let url = try OpenedFiles.write(bytes, name: file.name, mediaType: file.mediaType)
                previewError = nil
                preview = OpenedFile(url: url, name: file.name)
            } catch {
                previewError = "Het bestand kon niet worden geopend: \(error.localizedDescription)"
            }
        }
    }
}

@MainActor
struct RecordVisitView: View {
    @Environment(\.dismiss) private var dismiss
    @StateObject private var visit: Observed<RecordVisitViewModel>
    @State private var observationText = ""
    @State private var domain: LifeDomain?
    @State private var score: UInt8?

    init(eropaf: Eropaf, caseId: String) {
        _visit = StateObject(wrappedValue: Observed(RecordVisitViewModel(eropaf: eropaf, caseId: caseId)))
    }

    var body: some View {
        let state = visit.state
        Form {
            Section {
                TextField("Verslag", text: Binding(get: { visit.state.note }, set: { visit.vm.type($0) }), axis: .vertical)
                    .disabled(state.visitId == nil)
                Text(state.saved ? "Opgeslagen" : "Opslaan…").font(.caption)
            }
            Section("Observaties") {
                Lines(texts: state.observations, prefix: "• ")
                TextField("Observatie", text: $observationText)
                Picker("Leefgebied", selection: $domain) {
                    Text("Geen").tag(LifeDomain?.none)
                    ForEach(state.domains, id: \.key) { Text($0.label).tag(Optional($0.domain)) }
                }
                Picker("Score", selection: $score) {
                    Text("Geen").tag(UInt8?.none)
                    ForEach(1...5, id: \.self) { n in Text("\(n)").tag(Optional(UInt8(n))) }
                }
                Button("Observatie toevoegen") {
                    visit.vm.observe(observationText, domain: domain, score: score)
                    if visit.state.error == nil {
                        observationText = ""
                        domain = nil
                        score = nil
                    }
                }
            }
            Button("Klaar") { dismiss() }
        }
        .navigationTitle("Bezoek")
        .chrome(error: state.error, locked: state.locked)
        // The visit is stored the moment the screen opens; from then on every keystroke is saved.
        .onAppear { if visit.state.visitId == nil { visit.vm.start() } }
    }
}

@MainActor
struct ChecklistView: View {
    @EnvironmentObject private var model: AppModel
    @StateObject private var checklist: Observed<ChecklistViewModel>
    /// The answer or motivation being typed, for the item on screen.
    @State private var text = ""
    @State private var budget = ""
    private let assessmentId: String?
    private let question: String?

    init(eropaf: Eropaf, caseId: String, assessmentId: String?, question: String?) {
        self.assessmentId = assessmentId
        self.question = question
        _checklist = StateObject(wrappedValue: Observed(ChecklistViewModel(eropaf: eropaf, caseId: caseId)))
    }

    var body: some View {
        let state = checklist.state
        Form {
            Section {
                Text(state.frameworkTitle).font(.caption)
                ProgressView(value: state.fraction)
                Text(state.progress)
                ForEach(state.items, id: \.item) { item in
                    Button((item.done ? "✓ " : "○ ") + item.title) { checklist.vm.select(item.item) }
                }
            }
            if let current = state.current {
                let label: String = current.isValue ? "Motivering" : "Antwoord"
                Section(current.heading) {
                    Text(current.question)
                    Lines(texts: current.guidance, prefix: "• ").font(.caption)
                    TextField(label, text: $text, axis: .vertical)
                    if current.isValue {
                        ForEach(state.verdictChoices, id: \.key) { choice in
                            Button(choice.label) { checklist.vm.verdict(choice.verdict, motivation: text) }
                        }
                    } else {
                        Button("Opslaan en verder") { checklist.vm.answer(text) }
                    }
                }
            } else {
                Section {
                    Toggle("Maatwerk: wijkt af van het standaardbeleid", isOn: Binding(
                        get: { checklist.state.maatwerk }, set: { checklist.vm.maatwerk($0, budget: budget) }
                    ))
                    TextField("Budget in euro's (optioneel)", text: $budget)
                    if let amount = state.budget { Text(amount) }
                    Button("Indienen") { checklist.vm.submit() }.disabled(!state.canSubmit)
                }
            }
            Section(state.reviewLabel) {
                Lines(texts: state.reviews)
                Lines(texts: state.missing, prefix: "Nog open: ").font(.caption)
                Text(state.justification)
            }
        }
        .navigationTitle(state.question)
        .chrome(error: state.error, locked: state.locked)
        .refreshing(model.revision) { load() }
        // A new item on screen starts from what was stored for it.
        .onChange(of: state.current?.item) { _ in text = checklist.state.current?.text ?? "" }
    }

    /// Opens the assessment, or starts it the first time a new one shows.
    private func load() {
        if let opened = assessmentId ?? checklist.state.assessmentId {
            checklist.vm.open(opened)
        } else if let question {
            checklist.vm.start(question)
        }
    }
}

/// Joining a team (the invitation code, then the safety code to compare) and, once in it, the
/// manual sync with its progress and the team's members. The app's own, as on Android.
@MainActor
struct SyncView: View {
    @EnvironmentObject private var model: AppModel
    @State private var code = ""

    var body: some View {
        Form {
            if let team = model.team {
                Section(team.teamName) {
                    Text(team.relayUrl).font(.caption)
                    Button("Nu synchroniseren") { Task { await model.sync() } }.disabled(model.syncProgress != nil)
                    switch model.syncProgress {
                    case .roster?: Text("Teamlijst bijwerken…")
                    case let .pushing(done, total)?: ProgressView(value: total == 0 ? 1 : Double(done) / Double(total))
                    case let .pulling(applied)?: Text("\(applied) wijzigingen binnengehaald…")
                    case let .uploading(done, total)?: Text("Bijlagen versturen: \(done) van \(total) delen…")
                    case nil: if let last = model.lastSync { Text("Verstuurd: \(last.pushed), ontvangen: \(last.pulled)") }
                    }
                }
                Section("Team") {
                    ForEach(model.members, id: \.deviceId) { m in
                        Text("\(m.member) (\(m.roleLabel))" + (m.revoked ? " — ingetrokken" : ""))
                    }
                }
            } else {
                TextField("Uitnodigingscode", text: $code)
                Button("Aanmelden bij het team") { Task { await model.join(code: code) } }
                if model.lastSync?.waitingForApproval == true {
                    if let shown = model.safetyCode {
                        Text("Veiligheidscode: " + shown)
                        Text("Laat deze code zien aan de leidinggevende; die laat dit apparaat pas toe als de code gelijk is.")
                    }
                    Text("Wacht op toelating door een leidinggevende; synchroniseer later opnieuw.")
                    Button("Synchroniseren") { Task { await model.sync() } }
                }
            }
        }
        .navigationTitle("Synchroniseren")
        .chrome()
        .refreshing(model.revision) { model.readTeam() }
    }
}

/// The supervisor's review queue: open a decision, read its justification, give a verdict.
@MainActor
struct ReviewQueueView: View {
    @EnvironmentObject private var model: AppModel
    @StateObject private var queue: Observed<ReviewQueueViewModel>
    @State private var note = ""

    init(eropaf: Eropaf) {
        _queue = StateObject(wrappedValue: Observed(ReviewQueueViewModel(eropaf: eropaf)))
    }

    var body: some View {
        let state = queue.state
        List {
            if let open = state.open {
                Section(open.resident) {
                    Lines(texts: open.history).font(.caption)
                    Text(open.justification)
                    TextField("Toelichting", text: $note, axis: .vertical)
                    ForEach([ReviewAction.approve, .requestChanges, .escalate], id: \.self) { action in
                        Button(ReviewQueueViewModel.label(action)) { queue.vm.decide(action, note: note) }
                    }
                    Button("Terug") { queue.vm.close() }
                }
            } else {
                if let empty = state.empty { Text(empty) }
                ForEach(state.rows) { row in
                    Button { queue.vm.open(row) } label: {
                        VStack(alignment: .leading) {
                            Text(row.resident + ": " + row.question)
                            Text(joined(row.statusLabel, row.details)).font(.caption)
                        }
                    }
                }
            }
        }
        .navigationTitle("Toetsing")
        .chrome(error: state.error, locked: state.locked)
        .refreshing(model.revision) { queue.vm.refresh() }
        .onChange(of: state.open?.assessmentId) { _ in note = "" }
    }
}
