// The checklist screen's view model against the real library: the omgekeerde toets in the
// core's order, going back to revise an answer, the law refused before the resident's goal,
// a budget as typed, and submitting maatwerk so it waits for a supervisor.
import Eropaf
import EropafViewModels
import Foundation
import XCTest

final class ChecklistViewModelTests: XCTestCase {
    private func startChecklist() throws -> (ChecklistViewModel, Eropaf, String) {
        let eropaf = try phone("checklist").create("Sanne")
        let caseId = try eropaf.newCase(resident: Resident(name: "Willem Bakker"), caseType: nil)
        let checklist = ChecklistViewModel(eropaf: eropaf, caseId: caseId)
        checklist.start("Telt de auto mee als vermogen?")
        return (checklist, eropaf, caseId)
    }

    func testFollowingTheScreenItemByItemEndsInAJustificationThatIsSubmittedForReview() throws {
        let (checklist, eropaf, caseId) = try startChecklist()
        var state = checklist.state
        XCTAssertEqual(state.question, "Telt de auto mee als vermogen?")
        XCTAssertEqual(state.current?.item, .step(key: "effect"))
        let heading = try XCTUnwrap(state.current?.heading)
        XCTAssertTrue(heading.hasPrefix("Stap 1: "), heading)
        XCTAssertFalse(try XCTUnwrap(state.current?.question).trimmingCharacters(in: .whitespaces).isEmpty)
        XCTAssertEqual(state.progress, "0 van \(state.items.count) beantwoord")
        XCTAssertEqual(state.items.last?.title, "Het voorgestelde besluit")
        XCTAssertTrue(state.verdictChoices.contains { $0.label == "Ondersteunt" })

        var guardCount = 0
        while let current = checklist.state.current {
            if current.isValue {
                checklist.verdict(.supports, motivation: "Past bij de waarde")
            } else {
                checklist.answer(current.item == .decision ? "De auto telt niet mee" : "Antwoord")
            }
            XCTAssertNil(checklist.state.error, checklist.state.error ?? "")
            guardCount += 1
            XCTAssertLessThan(guardCount, 100, "the flow ends")
            if guardCount >= 100 { return }
        }
        state = checklist.state
        XCTAssertTrue(state.items.allSatisfy(\.done))
        XCTAssertEqual(state.fraction, 1)
        XCTAssertTrue(state.canSubmit)
        XCTAssertTrue(state.justification.contains("De auto telt niet mee"), state.justification)

        checklist.maatwerk(true, budget: "1.500")
        XCTAssertEqual(checklist.state.budget, "€ 1.500,00")
        XCTAssertTrue(checklist.state.maatwerk)
        checklist.submit()
        state = checklist.state
        XCTAssertNil(state.error)
        XCTAssertEqual(state.reviewLabel, "Wacht op beoordeling")
        XCTAssertFalse(state.canSubmit, "submitted once")
        let queue = try eropaf.reviewQueue()
        XCTAssertEqual(queue.map(\.assessmentId), [try XCTUnwrap(state.assessmentId)])
        XCTAssertEqual(queue.map(\.caseId), [caseId])
    }

    func testGoingBackToAnAnswerShowsItForRevisingThenTheCoresNextItemReturns() throws {
        let (checklist, eropaf, caseId) = try startChecklist()
        checklist.answer("Willem wil zijn werk houden")
        checklist.answer("De wet wil dat hij zelf in zijn bestaan voorziet")
        let next = checklist.state.current?.item
        checklist.select(.step(key: "effect"))
        XCTAssertEqual(checklist.state.current?.text, "Willem wil zijn werk houden", "the stored answer")
        checklist.answer("Willem wil zijn werk en zijn auto houden")
        XCTAssertEqual(checklist.state.current?.item, next, "back where the worker was")
        let id = try XCTUnwrap(checklist.state.assessmentId)
        XCTAssertEqual(
            try eropaf.assessment(caseId: caseId, assessmentId: id).steps.first?.answer,
            "Willem wil zijn werk en zijn auto houden"
        )
    }

    func testTheLawBeforeTheResidentsGoalABudgetThatIsNoAmountAndABareTensionAreRefusedInDutch() throws {
        let (checklist, eropaf, caseId) = try startChecklist()
        let id = try XCTUnwrap(checklist.state.assessmentId)
        checklist.select(.step(key: "wettelijke_kaders"))
        checklist.answer("Art. 34 Participatiewet")
        XCTAssertNotNil(checklist.state.error)
        XCTAssertEqual(checklist.state.progress, "0 van \(checklist.state.items.count) beantwoord")
        XCTAssertTrue(
            try eropaf.assessment(caseId: caseId, assessmentId: id).steps
                .allSatisfy { $0.answer.trimmingCharacters(in: .whitespaces).isEmpty },
            "nothing stored"
        )

        checklist.maatwerk(true, budget: "veel")
        XCTAssertNotNil(checklist.state.error)
        XCTAssertFalse(
            try eropaf.assessment(caseId: caseId, assessmentId: id).maatwerk,
            "not marked with a budget it could not read"
        )

        for step in ["effect", "doel_wet", "ethische_afweging"] {
            checklist.select(.step(key: step))
            checklist.answer("Antwoord")
        }
        XCTAssertEqual(checklist.state.current?.isValue, true, "the ethical weighing goes on with the values")
        checklist.verdict(.inTension, motivation: " ")
        XCTAssertNotNil(checklist.state.error, "a tension needs a motivation")
        XCTAssertTrue(try eropaf.assessment(caseId: caseId, assessmentId: id).values.allSatisfy { $0.verdict == nil })
        checklist.verdict(.inTension, motivation: "Een auto kost geld dat er niet is")
        XCTAssertNil(checklist.state.error, "the error goes once it is put right")
    }
}
