// The SwiftUI screens: case list with search, case detail, recording a visit with
// observations, the checklist flow, sync with progress, and the supervisor's review queue.
// Each reads the core and submits to it.
import Eropaf
import SwiftUI

public struct RootView: View {
    @StateObject private var model: AppModel
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
    }

    private var tabs: some View {
        TabView {
            NavigationStack { CaseListView() }.tabItem { Label("Casussen", systemImage: "person.2") }
            NavigationStack { ReviewQueueView() }.tabItem { Label("Toetsing", systemImage: "checkmark.seal") }
            NavigationStack { SyncView() }.tabItem { Label("Sync", systemImage: "arrow.triangle.2.circlepath") }
        }
        .environmentObject(model)
        .safeAreaInset(edge: .top) {
            if let error = model.error { Text(error).foregroundStyle(.red).padding(.horizontal) }
        }
    }
}

/// Shown while the core is locked: nothing of any case, one button.
struct UnlockView: View {
    @EnvironmentObject var model: AppModel

    var body: some View {
        VStack(spacing: 16) {
            Text("Eropaf is vergrendeld").font(.title2)
            if let error = model.error { Text(error).foregroundStyle(.red) }
            Button("Ontgrendelen") { Task { await model.unlock() } }
        }
        .padding()
    }
}

struct CaseListView: View {
    @EnvironmentObject var model: AppModel
    @State private var query = ""
    @State private var newName = ""

    var body: some View {
        let _ = model.revision
        let cases = model.attempt {
            try query.isEmpty ? model.eropaf.cases() : model.eropaf.search(query: query)
        } ?? []
        List {
            ForEach(cases, id: \.id) { item in
                NavigationLink(value: item.id) {
                    VStack(alignment: .leading) {
                        Text(item.residentName).font(.headline)
                        Text("\(item.statusLabel) · \(item.visitCount) bezoeken · \(item.assessmentCount) afwegingen")
                            .font(.caption)
                    }
                }
            }
            HStack {
                TextField("Nieuwe bewoner", text: $newName)
                Button("Nieuw") {
                    model.attempt { try model.eropaf.newCase(resident: Resident(name: newName), caseType: nil) }
                    newName = ""
                }
            }
        }
        .searchable(text: $query, prompt: "Zoek op naam")
        .navigationTitle("Casussen")
        .navigationDestination(for: String.self) { CaseDetailView(caseId: $0) }
    }
}

struct CaseDetailView: View {
    @EnvironmentObject var model: AppModel
    let caseId: String
    @State private var question = ""

    var body: some View {
        let _ = model.revision
        if let detail = model.attempt({ try model.eropaf.caseDetail(caseId: caseId) }) {
            List {
                Section(detail.statusLabel) {
                    ForEach(detail.conflicts, id: \.path) { Text("Conflict in \($0.path): \($0.values.joined(separator: " / "))") }
                    NavigationLink("Bezoek vastleggen") { RecordVisitView(caseId: caseId) }
                }
                Section("Bezoeken") {
                    ForEach(detail.visits, id: \.id) { visit in
                        VStack(alignment: .leading) {
                            Text(visit.at, style: .date).font(.caption)
                            Text(visit.note)
                            ForEach(Array(visit.observations.enumerated()), id: \.offset) { _, o in
                                Text("• \([o.domainLabel, o.scoreLabel].compactMap { $0 }.joined(separator: ", ")) \(o.text)")
                            }
                        }
                    }
                }
                Section("Afwegingen") {
                    ForEach(detail.assessments, id: \.id) { a in
                        NavigationLink(a.question) { ChecklistView(caseId: caseId, assessmentId: a.id) }
                    }
                    TextField("Nieuwe afweging: de vraag", text: $question)
                    Button("Afweging starten") {
                        model.attempt { try model.eropaf.startAssessment(caseId: caseId, question: question, frameworkId: nil) }
                        question = ""
                    }
                }
                Section("Toetsing") {
                    ForEach(detail.reviews, id: \.id) { Text("\($0.verdictLabel): \($0.note)") }
                }
            }
            .navigationTitle(detail.resident.name)
        }
    }
}

struct RecordVisitView: View {
    @EnvironmentObject var model: AppModel
    @Environment(\.dismiss) private var dismiss
    let caseId: String
    @State private var note = ""
    @State private var place = ""
    @State private var observationText = ""
    @State private var domain: LifeDomain?
    @State private var score: UInt8?
    @State private var observations: [NewObservation] = []

    var body: some View {
        Form {
            TextField("Verslag", text: $note, axis: .vertical)
            TextField("Plaats (optioneel)", text: $place)
            Section("Observaties") {
                ForEach(Array(observations.enumerated()), id: \.offset) { Text("• \($0.element.text)") }
                TextField("Observatie", text: $observationText)
                Picker("Leefgebied", selection: $domain) {
                    Text("Geen").tag(LifeDomain?.none)
                    ForEach(lifeDomains(), id: \.key) { Text($0.label).tag(Optional($0.domain)) }
                }
                Picker("Score", selection: $score) {
                    Text("Geen").tag(UInt8?.none)
                    ForEach(1...5, id: \.self) { n in Text("\(n)").tag(Optional(UInt8(n))) }
                }
                Button("Observatie toevoegen") {
                    observations.append(NewObservation(text: observationText, domain: domain, score: score))
                    observationText = ""; domain = nil; score = nil
                }
            }
            Button("Opslaan") {
                let visit = NewVisit(note: note, at: nil, place: place.isEmpty ? nil : place, present: [], observations: observations)
                if model.attempt({ try model.eropaf.recordVisit(caseId: caseId, visit: visit) }) != nil { dismiss() }
            }
        }
        .navigationTitle("Bezoek")
    }
}

struct ChecklistView: View {
    @EnvironmentObject var model: AppModel
    let caseId: String
    let assessmentId: String
    @State private var text = ""
    @State private var refresh = 0

    var body: some View {
        let _ = refresh
        if let view = model.attempt({ try model.eropaf.assessment(caseId: caseId, assessmentId: assessmentId) }) {
            Form {
                ProgressView(value: Double(view.progress.answered), total: Double(view.progress.total))
                switch view.progress.next {
                case let .step(key)?:
                    if let step = view.steps.first(where: { $0.step.key == key })?.step {
                        Section("Stap \(step.number): \(step.title)") {
                            Text(step.question)
                            ForEach(step.guidance, id: \.self) { Text("• \($0)").font(.caption) }
                            TextField("Antwoord", text: $text, axis: .vertical)
                            Button("Volgende") { submit { try model.eropaf.answer(caseId: caseId, assessmentId: assessmentId, item: .step(key: key), text: text) } }
                        }
                    }
                case let .value(key)?:
                    if let value = view.values.first(where: { $0.value.key == key })?.value {
                        Section(value.title) {
                            Text(value.description)
                            ForEach(value.questions, id: \.self) { Text("• \($0)").font(.caption) }
                            TextField("Motivering", text: $text, axis: .vertical)
                            ForEach(verdicts(), id: \.key) { v in
                                Button(v.label) { submit { try model.eropaf.setVerdict(caseId: caseId, assessmentId: assessmentId, valueKey: key, verdict: v.verdict, motivation: text) } }
                            }
                        }
                    }
                case .decision?:
                    Section("Het voorgestelde besluit") {
                        TextField("Besluit", text: $text, axis: .vertical)
                        Button("Besluit vastleggen") { submit { try model.eropaf.answer(caseId: caseId, assessmentId: assessmentId, item: .decision, text: text) } }
                    }
                case nil:
                    Toggle("Maatwerk: wijkt af van het standaardbeleid", isOn: Binding(
                        get: { view.maatwerk },
                        set: { on in submit { try model.eropaf.setMaatwerk(caseId: caseId, assessmentId: assessmentId, maatwerk: on, budgetCents: view.budgetCents) } }
                    ))
                }
                Section("Nog open") { ForEach(view.progress.missing, id: \.reason) { Text($0.reason).font(.caption) } }
                Section("Onderbouwing") { Text(view.justification) }
            }
            .navigationTitle(view.question)
        }
    }

    private func submit(_ call: () throws -> Void) {
        if model.attempt(call) != nil {
            text = ""
            refresh += 1
        }
    }
}

struct SyncView: View {
    @EnvironmentObject var model: AppModel
    @State private var code = ""

    var body: some View {
        let _ = model.revision
        Form {
            if let team = model.attempt({ try model.eropaf.teamInfo() }) ?? nil {
                Section(team.teamName) {
                    Text(team.relayUrl).font(.caption)
                    Button("Synchroniseren") { Task { await model.sync() } }.disabled(model.syncProgress != nil)
                    switch model.syncProgress {
                    case .roster?: Text("Teamlijst bijwerken…")
                    case let .pushing(done, total)?: ProgressView(value: Double(done), total: Double(max(total, 1)))
                    case let .pulling(applied)?: Text("\(applied) wijzigingen binnengehaald…")
                    case let .uploading(done, total)?: Text("Bijlagen versturen: \(done) van \(total) delen…")
                    case nil: if let last = model.lastSync { Text("Verstuurd: \(last.pushed), ontvangen: \(last.pulled)") }
                    }
                }
                Section("Team") {
                    ForEach(model.attempt { try model.eropaf.members() } ?? [], id: \.deviceId) { m in
                        Text("\(m.member) (\(m.roleLabel))\(m.revoked ? " — ingetrokken" : "")")
                    }
                }
            } else {
                TextField("Uitnodigingscode", text: $code)
                Button("Aanmelden bij het team") { Task { await model.join(code: code) } }
                if model.lastSync?.waitingForApproval == true {
                    if let shown = model.safetyCode ?? model.attempt({ try model.eropaf.joinSafetyCode() }) ?? nil {
                        Text("Veiligheidscode: \(shown)")
                        Text("Laat deze code zien aan de leidinggevende; die laat dit apparaat pas toe als de code gelijk is.")
                    }
                    Text("Wacht op toelating door een leidinggevende; synchroniseer later opnieuw.")
                }
            }
        }
        .navigationTitle("Synchroniseren")
    }
}

/// The supervisor's review queue, as the core orders it; a verdict is given on the checklist.
struct ReviewQueueView: View {
    @EnvironmentObject var model: AppModel

    var body: some View {
        let _ = model.revision
        let queue = model.attempt { try model.eropaf.reviewQueue() } ?? []
        List {
            ForEach(queue, id: \.assessmentId) { item in
                NavigationLink {
                    ChecklistView(caseId: item.caseId, assessmentId: item.assessmentId)
                } label: {
                    VStack(alignment: .leading) {
                        Text("\(item.resident): \(item.question)")
                        Text("\(item.status.label) · \(item.rung)").font(.caption)
                    }
                }
            }
        }
        .navigationTitle("Toetsing")
    }
}
