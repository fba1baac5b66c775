// The review screens: a worker submits a maatwerk decision, it waits in the supervisor's
// queue, the verdict is what the worker then sees; the rules are the core's.
package nl.eropaf.jvm

import kotlin.test.assertEquals
import kotlin.test.assertTrue
import nl.eropaf.core.ChecklistItem
import nl.eropaf.core.Eropaf
import nl.eropaf.core.EropafException
import nl.eropaf.core.ReviewStage
import nl.eropaf.core.model.Resident
import nl.eropaf.core.model.ReviewAction
import nl.eropaf.core.model.ReviewVerdict
import nl.eropaf.core.model.Verdict
import org.junit.jupiter.api.Test
import org.junit.jupiter.api.assertThrows

class ReviewTest {
    /** Walks a new assessment to its decision, marked maatwerk with a budget. */
    private fun completeMaatwerk(eropaf: Eropaf, caseId: String): String {
        val id = eropaf.startAssessment(caseId, "Kan de huurachterstand uit het maatwerkbudget?", null)
        while (true) {
            when (val next = eropaf.assessment(caseId, id).progress.next ?: break) {
                is ChecklistItem.Step -> eropaf.answer(caseId, id, next, "Antwoord bij ${next.key}")
                is ChecklistItem.Value -> eropaf.setVerdict(caseId, id, next.key, Verdict.SUPPORTS, "Past")
                ChecklistItem.Decision -> eropaf.answer(caseId, id, next, "De achterstand wordt betaald")
            }
        }
        eropaf.setMaatwerk(caseId, id, true, 150_000uL)
        return id
    }

    @Test
    fun `a submitted maatwerk decision waits in the queue until a supervisor approves it`() =
        Device(tempDir("review")).create("Marieke").use { eropaf ->
            val caseId = eropaf.newCase(Resident(name = "Aïsha El Amrani"), null)
            val id = completeMaatwerk(eropaf, caseId)
            assertEquals(ReviewStage.DRAFT, eropaf.reviewStatus(caseId, id).stage)

            val submitted = eropaf.submitAssessment(caseId, id)
            assertEquals(ReviewStage.WAITING, submitted.stage)
            assertTrue(submitted.inQueue)
            val waiting = eropaf.reviewQueue().single()
            assertEquals(id, waiting.assessmentId)
            assertEquals("Aïsha El Amrani", waiting.resident)
            assertEquals(150_000uL, waiting.budgetCents)

            val review = eropaf.reviewAssessment(caseId, id, ReviewAction.APPROVE, "Akkoord")
            assertEquals(ReviewVerdict.APPROVED, review.verdict)
            val decided = eropaf.reviewStatus(caseId, id)
            assertEquals(ReviewStage.DECIDED, decided.stage)
            assertEquals("Akkoord", decided.reviews.single().note)
            assertTrue(eropaf.reviewQueue().isEmpty(), "nothing left for the supervisor")
        }

    @Test
    fun `an escalation without a note and an unfinished submission are InvalidInput`() =
        Device(tempDir("review")).create("Marieke").use { eropaf ->
            val caseId = eropaf.newCase(Resident(name = "Samir Haddad"), null)
            val unfinished = eropaf.startAssessment(caseId, "Mag Samir studeren met behoud van bijstand?", null)
            assertThrows<EropafException.InvalidInput> { eropaf.submitAssessment(caseId, unfinished) }

            val id = completeMaatwerk(eropaf, caseId)
            eropaf.submitAssessment(caseId, id)
            val error = assertThrows<EropafException.InvalidInput> {
                eropaf.reviewAssessment(caseId, id, ReviewAction.ESCALATE, "  ")
            }
            assertEquals("note", error.field)
            assertEquals(ReviewStage.WAITING, eropaf.reviewStatus(caseId, id).stage, "nothing written")
            val escalated = eropaf.reviewAssessment(caseId, id, ReviewAction.ESCALATE, "Doorbraak nodig")
            assertTrue(escalated.escalatedTo != null)
            assertTrue(eropaf.exportInzage(caseId, null).contains("Samir Haddad"))
        }
}
