// Recording a visit through its view model against the real library: every keystroke is stored
// as it is typed, so a phone that dies mid-sentence loses nothing; and the sync status line.
import Eropaf
import EropafViewModels
import Foundation
import XCTest

final class RecordVisitViewModelTests: XCTestCase {
    func testEveryKeystrokeIsStoredAndARestartFindsTheNoteAsFarAsItWasTyped() throws {
        let phone = try phone("visit")
        let note = "Post ligt ongeopend op tafel; Woonbron dreigt met ontruiming"
        let typed = String(note.prefix(30))
        var caseId = ""
        var visitId = ""
        do {
            let eropaf = try phone.create("Sanne")
            caseId = try eropaf.newCase(resident: Resident(name: "Aïsha El Amrani"), caseType: nil)
            let visit = RecordVisitViewModel(eropaf: eropaf, caseId: caseId)
            visit.start(place: "Thuis")
            visitId = try XCTUnwrap(visit.state.visitId, "the visit is stored before anything is typed")
            for n in 1...30 {
                visit.type(String(note.prefix(n)))
                XCTAssertTrue(visit.state.saved, "saved as typed, at keystroke \(n)")
            }
            XCTAssertEqual(visit.state.place, "Thuis")
            XCTAssertNil(visit.state.error)
        }
        // The app was killed after the 30th keystroke: the note reads as far as it was typed
        // (without the space it ended in: the core stores notes trimmed).
        let eropaf = try phone.open()
        let again = RecordVisitViewModel(eropaf: eropaf, caseId: caseId)
        again.start(visitId: visitId)
        XCTAssertEqual(again.state.note, typed.trimmingCharacters(in: .whitespaces))
        again.type(note)
        XCTAssertEqual(try eropaf.caseDetail(caseId: caseId).visits.map(\.note), [note])
    }

    func testAnObservationIsStoredWithTheVisitAndAnEmptyOneOrAScoreOf7IsRefusedInDutch() throws {
        let eropaf = try phone("observe").create("Sanne")
        let caseId = try eropaf.newCase(resident: Resident(name: "Willem Bakker"), caseType: nil)
        let visit = RecordVisitViewModel(eropaf: eropaf, caseId: caseId)
        visit.start()
        XCTAssertTrue(visit.state.domains.contains { $0.domain == .financien })
        visit.observe("Huurachterstand van twee maanden", domain: .financien, score: 2)
        XCTAssertEqual(visit.state.observations, ["Financiën, Niet zelfredzaam: Huurachterstand van twee maanden"])
        visit.observe("   ")
        XCTAssertFalse(try XCTUnwrap(visit.state.error).trimmingCharacters(in: .whitespaces).isEmpty)
        visit.observe("Te hoog", domain: .financien, score: 7)
        XCTAssertFalse(try XCTUnwrap(visit.state.error).trimmingCharacters(in: .whitespaces).isEmpty)
        let visits = try eropaf.caseDetail(caseId: caseId).visits
        XCTAssertEqual(visits.count, 1)
        XCTAssertEqual(visits.first?.observations.count, 1, "nothing half-written")
    }

    func testTheStatusLineSaysWhenThePhoneLastSyncedAndWhatWaits() throws {
        let zone = try XCTUnwrap(TimeZone(identifier: "Europe/Amsterdam"))
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = zone
        let today = try XCTUnwrap(calendar.date(from: DateComponents(year: 2026, month: 12, day: 5, hour: 15)))
        let synced = try XCTUnwrap(calendar.date(from: DateComponents(year: 2026, month: 12, day: 5, hour: 10, minute: 42)))
        func state(
            online: Bool = true, syncing: Bool = false, at: Date? = synced, changes: UInt64 = 0,
            failures: UInt32 = 0, error: String? = nil
        ) -> SyncState {
            SyncState(online: online, syncing: syncing, unsentChanges: changes, unsentFiles: 0,
                      failures: failures, lastSyncedAt: at, lastError: error)
        }
        XCTAssertEqual(SyncStatus.lines(state(), timeZone: zone, now: today), ["Laatst gesynchroniseerd 10:42"])
        XCTAssertEqual(
            SyncStatus.lines(state(at: synced.addingTimeInterval(-86_400), changes: 3), timeZone: zone, now: today),
            ["Laatst gesynchroniseerd 4-12 10:42", "3 wijzigingen wachten op verbinding"]
        )
        XCTAssertEqual(SyncStatus.lines(state(syncing: true), timeZone: zone, now: today).first, "Synchroniseren…")
        XCTAssertTrue(
            try XCTUnwrap(SyncStatus.lines(state(online: false), timeZone: zone, now: today).first)
                .hasPrefix("Geen verbinding")
        )
        XCTAssertEqual(
            SyncStatus.lines(state(failures: 2, error: "de relay is niet bereikbaar"), timeZone: zone, now: today).last,
            "Synchroniseren lukte niet (2 keer): de relay is niet bereikbaar"
        )
    }
}
