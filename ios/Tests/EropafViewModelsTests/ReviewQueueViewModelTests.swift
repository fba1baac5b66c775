// The review queue's view model between two phones over a real relay: the worker's maatwerk
// decision reaches the supervisor's queue, an escalation without a note is refused and keeps
// it open, and a question sent back is what the worker sees on her checklist.
import Eropaf
import EropafViewModels
import Foundation
import XCTest

final class ReviewQueueViewModelTests: XCTestCase {
    func testAMaatwerkDecisionWaitsForTheSupervisorWhoAsksAQuestionTheWorkerThenReads() async throws {
        let relay = try relay()
        let (supervisor, worker) = try await team(on: relay)
        let caseId = try worker.newCase(resident: Resident(name: "Aïsha El Amrani"), caseType: nil)
        let id = try worker.startAssessment(
            caseId: caseId, question: "Kan de huurachterstand uit het maatwerkbudget?", frameworkId: nil
        )
        try completeChecklist(worker, caseId: caseId, assessmentId: id, decision: "De achterstand wordt betaald")
        try worker.setMaatwerk(caseId: caseId, assessmentId: id, maatwerk: true, budgetCents: 150_000)
        _ = try worker.submitAssessment(caseId: caseId, assessmentId: id)
        _ = try await worker.sync(listener: nil)
        _ = try await supervisor.sync(listener: nil)

        let queue = ReviewQueueViewModel(eropaf: supervisor, timeZone: try XCTUnwrap(TimeZone(identifier: "Europe/Amsterdam")))
        queue.refresh()
        XCTAssertEqual(queue.state.rows.count, 1)
        let row = try XCTUnwrap(queue.state.rows.first)
        XCTAssertEqual(row.resident, "Aïsha El Amrani")
        XCTAssertEqual(row.statusLabel, "Wacht op beoordeling")
        XCTAssertTrue(row.details.hasPrefix("Sanne · "), row.details)
        XCTAssertTrue(row.details.contains("€ 1.500,00"), row.details)

        queue.open(row)
        let open = try XCTUnwrap(queue.state.open)
        XCTAssertTrue(open.justification.contains("De achterstand wordt betaald"), open.justification)

        queue.decide(.escalate, note: "  ")
        XCTAssertNotNil(queue.state.error, "an escalation needs a note")
        XCTAssertNotNil(queue.state.open, "the decision stays open")
        XCTAssertEqual(queue.state.rows.count, 1)

        queue.decide(.requestChanges, note: "Onderbouw het bedrag met de brief van Woonbron")
        XCTAssertNil(queue.state.error)
        XCTAssertNil(queue.state.open)
        XCTAssertEqual(queue.state.empty, "Niets te toetsen")

        _ = try await supervisor.sync(listener: nil)
        _ = try await worker.sync(listener: nil)
        let checklist = ChecklistViewModel(eropaf: worker, caseId: caseId)
        checklist.open(id)
        XCTAssertEqual(checklist.state.reviewLabel, "Aanpassing gevraagd")
        XCTAssertEqual(
            checklist.state.reviews, ["Aanpassing gevraagd: Onderbouw het bedrag met de brief van Woonbron"]
        )
    }
}
