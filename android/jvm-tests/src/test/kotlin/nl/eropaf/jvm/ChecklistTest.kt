// The checklist screen: the core says which item comes next, refuses the law before the
// resident's goal, and writes the justification; the app only shows and submits.
package nl.eropaf.jvm

import kotlin.test.assertEquals
import kotlin.test.assertFalse
import kotlin.test.assertTrue
import nl.eropaf.core.ChecklistItem
import nl.eropaf.core.Eropaf
import nl.eropaf.core.EropafException
import nl.eropaf.core.model.Resident
import nl.eropaf.core.model.Verdict
import org.junit.jupiter.api.Test
import org.junit.jupiter.api.assertThrows

class ChecklistTest {
    private fun withAssessment(test: (Eropaf, String, String) -> Unit) =
        Device(tempDir("checklist")).create("Sanne").use { eropaf ->
            val caseId = eropaf.newCase(Resident(name = "Willem Bakker"), null)
            val assessmentId = eropaf.startAssessment(caseId, "Telt de auto mee als vermogen?", null)
            test(eropaf, caseId, assessmentId)
        }

    @Test
    fun `following next item by item ends in a complete justification`() = withAssessment { eropaf, caseId, id ->
        val start = eropaf.assessment(caseId, id)
        assertEquals(ChecklistItem.Step("effect"), start.progress.next)
        assertEquals(0u, start.progress.answered)
        assertEquals(listOf("effect", "doel_wet", "ethische_afweging", "wettelijke_kaders"), start.steps.map { it.step.key })
        assertEquals(start.progress.total.toInt(), start.progress.missing.size)

        var guard = 0
        while (true) {
            val view = eropaf.assessment(caseId, id)
            val next = view.progress.next ?: break
            when (next) {
                is ChecklistItem.Step -> eropaf.answer(caseId, id, next, "Antwoord bij ${next.key}")
                is ChecklistItem.Value -> eropaf.setVerdict(caseId, id, next.key, Verdict.SUPPORTS, "Past bij ${next.key}")
                ChecklistItem.Decision -> eropaf.answer(caseId, id, next, "De auto telt niet mee")
            }
            assertTrue(++guard < 100, "the flow ends")
        }
        eropaf.setMaatwerk(caseId, id, true, 75_000uL)

        val done = eropaf.assessment(caseId, id)
        assertTrue(done.progress.complete)
        assertTrue(done.progress.missing.isEmpty())
        assertEquals(done.progress.total, done.progress.answered)
        assertEquals("€ 750,00", done.budgetLabel)
        assertTrue(done.values.all { it.verdict == Verdict.SUPPORTS && it.verdictLabel == "Ondersteunt" })
        val text = done.justification
        assertTrue(text.startsWith("Onderbouwing: Telt de auto mee als vermogen?"), text)
        assertTrue(text.contains("De auto telt niet mee"), text)
        assertTrue(text.contains("Antwoord bij wettelijke_kaders"), text)
        assertTrue(text.contains("maatwerk"), text)
        assertEquals("De auto telt niet mee", eropaf.caseDetail(caseId).assessments.single().decision)
    }

    @Test
    fun `the law before the resident's goal is InvalidInput naming the step and changes nothing`() =
        withAssessment { eropaf, caseId, id ->
            val before = eropaf.assessment(caseId, id)
            val error = assertThrows<EropafException.InvalidInput> {
                eropaf.answer(caseId, id, ChecklistItem.Step("wettelijke_kaders"), "Art. 34 Participatiewet")
            }
            assertEquals("step", error.field)
            assertEquals(before, eropaf.assessment(caseId, id))
            val unknown = assertThrows<EropafException.InvalidInput> {
                eropaf.answer(caseId, id, ChecklistItem.Step("bestaat_niet"), "tekst")
            }
            assertEquals("step", unknown.field)
        }

    @Test
    fun `a verdict without motivation is refused and the missing list says what is open`() =
        withAssessment { eropaf, caseId, id ->
            for (step in listOf("effect", "doel_wet", "ethische_afweging")) {
                eropaf.answer(caseId, id, ChecklistItem.Step(step), "Antwoord")
            }
            val error = assertThrows<EropafException.InvalidInput> {
                eropaf.setVerdict(caseId, id, "rechtmatig", Verdict.CONFLICTS, "  ")
            }
            assertEquals("motivation", error.field)
            eropaf.setVerdict(caseId, id, "rechtmatig", Verdict.NOT_RELEVANT, "")
            val view = eropaf.assessment(caseId, id)
            assertFalse(view.progress.complete)
            assertEquals(ChecklistItem.Value("doelmatig"), view.progress.next)
            assertTrue(view.progress.missing.first().reason.contains("nog geen oordeel"), view.progress.missing.first().reason)
            assertEquals("Niet van toepassing", view.values.first { it.value.key == "rechtmatig" }.verdictLabel)
            val missingAssessment = assertThrows<EropafException.NotFound> {
                eropaf.assessment(caseId, "0123456789abcdef0123456789abcdef")
            }
            assertEquals("assessment", missingAssessment.what)
        }

    @Test
    fun `the team's framework lists its steps, values and escalation ladder`() =
        withAssessment { eropaf, _, _ ->
            val framework = eropaf.frameworks().single()
            assertEquals("wijkteam-standaard", framework.id)
            assertEquals(listOf(1u, 2u, 3u, 4u), framework.steps.map { it.number })
            assertEquals(1, framework.steps.count { it.weighsValues })
            assertTrue(framework.values.any { it.key == "werk_boven_inkomen" })
            assertEquals("team", framework.escalation.first().key)
            val broken = assertThrows<EropafException.InvalidFramework> {
                eropaf.installFramework("id = \"x\"\nversion = \"een\"\n")
            }
            assertTrue(broken.line >= 1u)
        }
}
