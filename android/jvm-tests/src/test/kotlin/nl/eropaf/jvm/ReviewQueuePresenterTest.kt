// The review queue's presenter between two phones over a real relay: the worker's maatwerk
// decision reaches the supervisor's queue, an escalation without a note is refused and keeps
// it open, and a question sent back is what the worker sees on her checklist.
package nl.eropaf.jvm

import java.time.ZoneId
import kotlin.test.assertEquals
import kotlin.test.assertNotNull
import kotlin.test.assertNull
import kotlin.test.assertTrue
import kotlinx.coroutines.runBlocking
import nl.eropaf.core.model.Resident
import nl.eropaf.core.model.ReviewAction
import nl.eropaf.presenters.ChecklistPresenter
import nl.eropaf.presenters.ReviewQueuePresenter
import org.junit.jupiter.api.Test

class ReviewQueuePresenterTest {
    @Test
    fun `a maatwerk decision waits for the supervisor, who asks a question the worker then reads`() = runBlocking<Unit> {
        Relay.start(tempDir("relay")).use { relay ->
            withTeam(relay) { supervisor, worker ->
                val caseId = worker.newCase(Resident(name = "Aïsha El Amrani"), null)
                val id = worker.startAssessment(caseId, "Kan de huurachterstand uit het maatwerkbudget?", null)
                completeChecklist(worker, caseId, id, "De achterstand wordt betaald")
                worker.setMaatwerk(caseId, id, true, 150_000uL)
                worker.submitAssessment(caseId, id)
                worker.sync(null)
                supervisor.sync(null)

                val queue = ReviewQueuePresenter(supervisor, ZoneId.of("Europe/Amsterdam"))
                queue.refresh()
                val row = queue.state.value.rows.single()
                assertEquals("Aïsha El Amrani", row.resident)
                assertEquals("Wacht op beoordeling", row.statusLabel)
                assertTrue(row.details.startsWith("Sanne · "), row.details)
                assertTrue(row.details.contains("€ 1.500,00"), row.details)

                queue.open(row)
                val open = assertNotNull(queue.state.value.open)
                assertTrue(open.justification.contains("De achterstand wordt betaald"), open.justification)

                queue.decide(ReviewAction.ESCALATE, "  ")
                assertNotNull(queue.state.value.error, "an escalation needs a note")
                assertNotNull(queue.state.value.open, "the decision stays open")
                assertEquals(1, queue.state.value.rows.size)

                queue.decide(ReviewAction.REQUEST_CHANGES, "Onderbouw het bedrag met de brief van Woonbron")
                assertNull(queue.state.value.error)
                assertNull(queue.state.value.open)
                assertEquals("Niets te toetsen", queue.state.value.empty)

                supervisor.sync(null)
                worker.sync(null)
                val checklist = ChecklistPresenter(worker, caseId)
                checklist.open(id)
                assertEquals("Aanpassing gevraagd", checklist.state.value.reviewLabel)
                assertEquals(
                    listOf("Aanpassing gevraagd: Onderbouw het bedrag met de brief van Woonbron"),
                    checklist.state.value.reviews,
                )
            }
        }
    }
}
