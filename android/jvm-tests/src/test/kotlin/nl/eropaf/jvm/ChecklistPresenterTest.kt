// The checklist screen's presenter against the real library: the omgekeerde toets in the
// core's order, going back to revise an answer, the law refused before the resident's goal,
// a budget as typed, and submitting maatwerk so it waits for a supervisor.
package nl.eropaf.jvm

import kotlin.test.assertEquals
import kotlin.test.assertFalse
import kotlin.test.assertNotNull
import kotlin.test.assertNull
import kotlin.test.assertTrue
import nl.eropaf.core.ChecklistItem
import nl.eropaf.core.model.Resident
import nl.eropaf.core.model.Verdict
import nl.eropaf.presenters.ChecklistPresenter
import org.junit.jupiter.api.Test

class ChecklistPresenterTest {
    private fun withChecklist(test: (ChecklistPresenter, nl.eropaf.core.Eropaf, String) -> Unit) =
        Device(tempDir("checklist")).create("Sanne").use { eropaf ->
            val caseId = eropaf.newCase(Resident(name = "Willem Bakker"), null)
            val checklist = ChecklistPresenter(eropaf, caseId)
            checklist.start("Telt de auto mee als vermogen?")
            test(checklist, eropaf, caseId)
        }

    @Test
    fun `following the screen item by item ends in a justification that is submitted for review`() =
        withChecklist { checklist, eropaf, caseId ->
            var state = checklist.state.value
            assertEquals("Telt de auto mee als vermogen?", state.question)
            assertEquals(ChecklistItem.Step("effect"), state.current?.item)
            assertTrue(state.current!!.heading.startsWith("Stap 1: "), state.current!!.heading)
            assertTrue(state.current!!.question.isNotBlank())
            assertEquals("0 van ${state.items.size} beantwoord", state.progress)
            assertEquals("Het voorgestelde besluit", state.items.last().title)
            assertTrue(state.verdictChoices.any { it.label == "Ondersteunt" })

            var guard = 0
            while (true) {
                val current = checklist.state.value.current ?: break
                if (current.isValue) checklist.verdict(Verdict.SUPPORTS, "Past bij de waarde")
                else checklist.answer(if (current.item == ChecklistItem.Decision) "De auto telt niet mee" else "Antwoord")
                assertNull(checklist.state.value.error, checklist.state.value.error)
                assertTrue(++guard < 100, "the flow ends")
            }
            state = checklist.state.value
            assertTrue(state.items.all { it.done })
            assertEquals(1f, state.fraction)
            assertTrue(state.canSubmit)
            assertTrue(state.justification.contains("De auto telt niet mee"), state.justification)

            checklist.maatwerk(true, "1.500")
            assertEquals("€ 1.500,00", checklist.state.value.budget)
            assertTrue(checklist.state.value.maatwerk)
            checklist.submit()
            state = checklist.state.value
            assertNull(state.error)
            assertEquals("Wacht op beoordeling", state.reviewLabel)
            assertFalse(state.canSubmit, "submitted once")
            assertEquals(state.assessmentId, eropaf.reviewQueue().single().assessmentId)
            assertEquals(caseId, eropaf.reviewQueue().single().caseId)
        }

    @Test
    fun `going back to an answer shows it for revising, then the core's next item returns`() =
        withChecklist { checklist, eropaf, caseId ->
            checklist.answer("Willem wil zijn werk houden")
            checklist.answer("De wet wil dat hij zelf in zijn bestaan voorziet")
            val next = checklist.state.value.current?.item
            checklist.select(ChecklistItem.Step("effect"))
            assertEquals("Willem wil zijn werk houden", checklist.state.value.current?.text, "the stored answer")
            checklist.answer("Willem wil zijn werk en zijn auto houden")
            assertEquals(next, checklist.state.value.current?.item, "back where the worker was")
            val id = checklist.state.value.assessmentId!!
            assertEquals("Willem wil zijn werk en zijn auto houden", eropaf.assessment(caseId, id).steps.first().answer)
        }

    @Test
    fun `the law before the resident's goal, a budget that is no amount and a bare tension are refused in Dutch`() =
        withChecklist { checklist, eropaf, caseId ->
            val id = checklist.state.value.assessmentId!!
            checklist.select(ChecklistItem.Step("wettelijke_kaders"))
            checklist.answer("Art. 34 Participatiewet")
            assertNotNull(checklist.state.value.error)
            assertEquals("0 van ${checklist.state.value.items.size} beantwoord", checklist.state.value.progress)
            assertTrue(eropaf.assessment(caseId, id).steps.all { it.answer.isBlank() }, "nothing stored")

            checklist.maatwerk(true, "veel")
            assertNotNull(checklist.state.value.error)
            assertFalse(eropaf.assessment(caseId, id).maatwerk, "not marked with a budget it could not read")

            for (step in listOf("effect", "doel_wet", "ethische_afweging")) {
                checklist.select(ChecklistItem.Step(step))
                checklist.answer("Antwoord")
            }
            assertTrue(checklist.state.value.current!!.isValue, "the ethical weighing goes on with the values")
            checklist.verdict(Verdict.IN_TENSION, " ")
            assertNotNull(checklist.state.value.error, "a tension needs a motivation")
            assertTrue(eropaf.assessment(caseId, id).values.all { it.verdict == null })
            checklist.verdict(Verdict.IN_TENSION, "Een auto kost geld dat er niet is")
            assertNull(checklist.state.value.error, "the error goes once it is put right")
        }
}
