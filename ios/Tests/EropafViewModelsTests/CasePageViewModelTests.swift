// The case page's view model against the real library: what the worker sees of a case (visits
// newest first, where each decision stands in review, files) and opening a file that is still
// at the relay, with progress, and without a connection. The view model lives on the main
// actor, so these tests do too (async, as XCTest on Linux can only call a main-actor test that
// way; it runs the main actor's queue while it waits).
import Eropaf
import EropafViewModels
import Foundation
import XCTest

final class CasePageViewModelTests: XCTestCase {
    private let amsterdam = TimeZone(identifier: "Europe/Amsterdam")!

    @MainActor
    func testThePageShowsVisitsNewestFirstEachDecisionsReviewStageFilesAndUnsentWork() async throws {
        let eropaf = try phone("page").create("Sanne")
        let caseId = try eropaf.newCase(resident: Resident(name: "Aïsha El Amrani"), caseType: nil)
        let november = try XCTUnwrap(ISO8601DateFormatter().date(from: "2026-11-02T09:30:00Z"))
        _ = try eropaf.recordVisit(caseId: caseId, visit: NewVisit(note: "Eerste kennismaking", at: november))
        _ = try eropaf.recordVisit(caseId: caseId, visit: NewVisit(
            note: "Brief van Woonbron besproken",
            observations: [NewObservation(text: "Twee maanden huurachterstand", domain: .financien, score: 2)]
        ))
        let submitted = try eropaf.startAssessment(
            caseId: caseId, question: "Kan de huurachterstand uit het maatwerkbudget?", frameworkId: nil
        )
        try completeChecklist(eropaf, caseId: caseId, assessmentId: submitted, decision: "De achterstand wordt betaald")
        try eropaf.setMaatwerk(caseId: caseId, assessmentId: submitted, maatwerk: true, budgetCents: 150_000)
        _ = try eropaf.submitAssessment(caseId: caseId, assessmentId: submitted)
        _ = try eropaf.startAssessment(caseId: caseId, question: "Is schuldhulp passend?", frameworkId: nil)

        let page = CasePageViewModel(eropaf: eropaf, caseId: caseId, timeZone: amsterdam)
        page.refresh()
        var state = page.state
        XCTAssertEqual(state.residentName, "Aïsha El Amrani")
        XCTAssertEqual(state.visits.map(\.note), ["Brief van Woonbron besproken", "Eerste kennismaking"])
        XCTAssertEqual(state.visits.first?.observations, ["Financiën, Niet zelfredzaam: Twee maanden huurachterstand"])
        XCTAssertEqual(state.visits.last?.at, "2-11-2026 10:30", "in the phone's time zone")
        XCTAssertEqual(state.assessments.map(\.reviewLabel), ["Wacht op beoordeling", "In bewerking"])
        XCTAssertEqual(state.assessments.first?.decision, "De achterstand wordt betaald")
        XCTAssertFalse(state.unsent, "no team yet and no file: nothing waits for a connection")

        _ = try eropaf.attach(
            caseId: caseId, attachment: NewAttachment(name: "brief.pdf", caption: "Brief van Woonbron"),
            content: Data(count: 1_234_567)
        )
        page.refresh()
        state = page.state
        XCTAssertEqual(state.files.count, 1)
        let file = try XCTUnwrap(state.files.first)
        XCTAssertEqual(file.name, "brief.pdf")
        XCTAssertEqual(file.size, "1,2 MB")
        XCTAssertTrue(file.onDevice)
        XCTAssertTrue(state.unsent, "the file waits for a connection")
    }

    @MainActor
    func testAFileAttachedOnAnotherPhoneIsFetchedWhenOpenedShowingHowFarItIs() async throws {
        let relay = try relay()
        let (supervisor, worker) = try await team(on: relay)
        let caseId = try worker.newCase(resident: Resident(name: "Willem Bakker"), caseType: nil)
        let path = try tempDir("share").appendingPathComponent("toestemming.pdf")
        let letter = Data((0..<700_000).map { UInt8($0 % 241) })
        try letter.write(to: path)
        let attached = try worker.attachFile(
            caseId: caseId, attachment: NewAttachment(name: "toestemming.pdf"), path: path.path
        )
        _ = try await worker.sync(listener: nil)
        _ = try await supervisor.sync(listener: nil)

        let page = CasePageViewModel(eropaf: supervisor, caseId: caseId, timeZone: amsterdam)
        page.refresh()
        XCTAssertEqual(page.state.files.map(\.onDevice), [false], "listed before its bytes are here")
        var shown: [Float] = []
        page.onChange = { state in
            if let fraction = state.files.first?.fetching { shown.append(fraction) }
        }
        let bytes = await page.openFile(attached.id)
        page.onChange = nil
        XCTAssertEqual(bytes, letter)
        XCTAssertFalse(shown.isEmpty, "the row showed the fetch")
        XCTAssertEqual(shown.sorted(), shown, "progress only goes forward")
        // Every fraction reaches the screen here (Android's StateFlow may skip some), so the bar
        // is seen between empty and full while the chunks come in.
        XCTAssertTrue(shown.contains { $0 > 0 && $0 < 1 }, "\(shown)")
        let after = try XCTUnwrap(page.state.files.first)
        XCTAssertTrue(after.onDevice, "kept on this phone")
        XCTAssertNil(after.fetching)
        XCTAssertNil(page.state.error)
    }

    @MainActor
    func testWithoutAConnectionOpeningAFileSaysSoInDutchAndItStaysListed() async throws {
        let relay = try relay()
        let (supervisor, worker) = try await team(on: relay)
        let caseId = try worker.newCase(resident: Resident(name: "Joop de Vries"), caseType: nil)
        let attached = try worker.attach(
            caseId: caseId, attachment: NewAttachment(name: "foto.jpg"), content: Data(repeating: 7, count: 50_000)
        )
        _ = try await worker.sync(listener: nil)
        _ = try await supervisor.sync(listener: nil)
        relay.close()

        let page = CasePageViewModel(eropaf: supervisor, caseId: caseId, timeZone: amsterdam)
        page.refresh()
        let bytes = await page.openFile(attached.id)
        XCTAssertNil(bytes)
        let state = page.state
        let error = try XCTUnwrap(state.error)
        XCTAssertFalse(error.trimmingCharacters(in: .whitespaces).isEmpty)
        XCTAssertEqual(state.files.map(\.onDevice), [false])
        XCTAssertNil(state.files.first?.fetching, "no progress bar left behind")
    }

    @MainActor
    func testACaseErasedOnThisPhoneShowsAsGoneInsteadOfAnEmptyPage() async throws {
        let eropaf = try phone("gone").create("Sanne")
        let caseId = try eropaf.newCase(resident: Resident(name: "Samir Haddad"), caseType: nil)
        let page = CasePageViewModel(eropaf: eropaf, caseId: caseId, timeZone: amsterdam)
        page.refresh()
        XCTAssertTrue(page.state.loaded)
        try await eropaf.eraseCase(caseId: caseId)
        page.refresh()
        XCTAssertTrue(page.state.gone)
        XCTAssertNotNil(page.state.error)
    }

    func testSizesAndDatesAreWrittenForADutchReader() throws {
        XCTAssertEqual(Dutch.size(950), "950 bytes")
        XCTAssertEqual(Dutch.size(300_400), "300 kB")
        XCTAssertEqual(Dutch.size(1_234_567), "1,2 MB")
        XCTAssertEqual(Dutch.size(1_250_000), "1,3 MB", "half up, as on Android")
        let at = try XCTUnwrap(ISO8601DateFormatter().date(from: "2026-12-04T09:42:00Z"))
        XCTAssertEqual(Dutch.dateTime(at, timeZone: amsterdam), "4-12-2026 10:42")
        XCTAssertEqual(Dutch.date(at, timeZone: amsterdam), "4-12-2026")
    }
}
