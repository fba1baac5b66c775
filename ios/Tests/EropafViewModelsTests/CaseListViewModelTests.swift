// The case list's view model against the real library: search, the cases with work waiting
// for a connection, and a locked store, as the screen would render them.
import Eropaf
import EropafViewModels
import Foundation
import XCTest

final class CaseListViewModelTests: XCTestCase {
    func testTheListSearchesMarksCasesWithUnsentWorkAndSaysWhatWaits() throws {
        let eropaf = try phone("list").create("Sanne")
        let aisha = try eropaf.newCase(resident: Resident(name: "Aïsha El Amrani"), caseType: nil)
        let willem = try eropaf.newCase(resident: Resident(name: "Willem Bakker"), caseType: nil)
        _ = try eropaf.attach(caseId: aisha, attachment: NewAttachment(name: "brief.pdf"), content: Data(count: 10))
        let list = CaseListViewModel(eropaf: eropaf)
        var rendered: [CaseListViewModel.State] = []
        list.onChange = { rendered.append($0) }
        list.refresh()
        let all = list.state
        XCTAssertEqual(rendered, [all], "the screen hears the new list once")
        XCTAssertEqual(Set(all.rows.map(\.residentName)), ["Aïsha El Amrani", "Willem Bakker"])
        // No team yet: changes are sealed for the team once it has one; the file waits.
        XCTAssertEqual(
            Dictionary(uniqueKeysWithValues: all.rows.map { ($0.id, $0.unsent) }),
            [aisha: true, willem: false]
        )
        XCTAssertEqual(all.waiting, "1 bijlage wacht op verbinding")

        list.search("aisha")
        XCTAssertEqual(list.state.rows.map(\.id), [aisha], "accents and case ignored")
        XCTAssertEqual(list.state.query, "aisha")
        list.search("  ")
        XCTAssertEqual(list.state.rows.count, 2)

        list.search("")
        let joop = list.newCase(residentName: "Joop de Vries")
        XCTAssertEqual(list.state.rows.count, 3, "the new case is listed at once")
        XCTAssertTrue(list.state.rows.contains { $0.id == joop })
        XCTAssertNil(list.newCase(residentName: "  "))
        XCTAssertFalse(
            try XCTUnwrap(list.state.error).trimmingCharacters(in: .whitespaces).isEmpty,
            "an empty name is refused in Dutch"
        )
        XCTAssertEqual(try eropaf.cases().count, 3)

        eropaf.lock()
        list.refresh()
        XCTAssertTrue(list.state.locked, "a locked store shows the unlock screen")
        XCTAssertFalse(list.state.rows.isEmpty, "the last list stays behind it")
        XCTAssertEqual(list.state.rows.first { $0.residentName == "Willem Bakker" }?.id, willem)
    }

    func testAnyErrorCaughtAsTheEnumStillSaysWhatWentWrongInDutch() throws {
        let eropaf = try phone("errors").create("Sanne")
        XCTAssertThrowsError(try eropaf.caseDetail(caseId: String(repeating: "0", count: 32))) { error in
            guard let failure = error as? EropafError, case .NotFound = failure else {
                return XCTFail("expected NotFound, got \(error)")
            }
            XCTAssertFalse(
                failure.messageNl.trimmingCharacters(in: .whitespaces).isEmpty, "read through the enum"
            )
        }
    }

    func testWhatWaitsIsSaidInDutchSingularAndPlural() {
        XCTAssertNil(CaseListViewModel.waitingText(changes: 0, files: 0))
        XCTAssertEqual(CaseListViewModel.waitingText(changes: 1, files: 0), "1 wijziging wacht op verbinding")
        XCTAssertEqual(CaseListViewModel.waitingText(changes: 3, files: 0), "3 wijzigingen wachten op verbinding")
        XCTAssertEqual(
            CaseListViewModel.waitingText(changes: 2, files: 1), "2 wijzigingen en 1 bijlage wachten op verbinding"
        )
    }
}
