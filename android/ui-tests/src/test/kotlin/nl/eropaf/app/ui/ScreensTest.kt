// The app's Compose screens rendered on the JVM over the real library: what a worker sees and
// taps on the case list, the case page, the visit screen and the checklist, and the
// supervisor on the review queue; what they type and tap is what the core stores.
// Compose Multiplatform's desktop build of the same androidx.compose API draws them here.
package nl.eropaf.app.ui

import androidx.compose.foundation.layout.Column
import androidx.compose.material3.MaterialTheme
import androidx.compose.runtime.getValue
import androidx.compose.runtime.mutableStateOf
import androidx.compose.runtime.setValue
import androidx.compose.ui.test.assertIsDisplayed
import androidx.compose.ui.test.junit4.createComposeRule
import androidx.compose.ui.test.onAllNodesWithText
import androidx.compose.ui.test.onNodeWithText
import androidx.compose.ui.test.performClick
import androidx.compose.ui.test.performTextInput
import java.nio.file.Files
import java.time.ZoneId
import nl.eropaf.core.ChecklistItem
import nl.eropaf.core.Eropaf
import nl.eropaf.core.KeyStore
import nl.eropaf.core.NewAttachment
import nl.eropaf.core.NewVisit
import nl.eropaf.core.Unlock
import nl.eropaf.core.model.Resident
import nl.eropaf.core.model.Verdict
import nl.eropaf.presenters.CasePagePresenter
import org.junit.After
import org.junit.Assert.assertArrayEquals
import org.junit.Assert.assertEquals
import org.junit.Rule
import org.junit.Test

class ScreensTest {
    @get:Rule
    val compose = createComposeRule()

    /** The store key in memory, as the app keeps it in the Android Keystore. */
    private class MemoryKeyStore : KeyStore {
        private var key: ByteArray? = null
        override fun loadKey(): ByteArray? = key
        override fun saveKey(key: ByteArray) { this.key = key.copyOf() }
    }

    private val eropaf: Eropaf = Eropaf.create(
        Files.createTempDirectory("eropaf-ui").toString(),
        Unlock.PlatformKeyStore(MemoryKeyStore()),
        "Sanne",
    )

    /** What the app around the screens was asked to do. */
    private class Recorded : AppActions {
        val shown = mutableListOf<Screen>()
        val viewed = mutableListOf<Pair<String, ByteArray>>()
        override fun show(screen: Screen) { shown += screen }
        override fun viewFile(file: CasePagePresenter.FileRow, bytes: ByteArray) { viewed += file.name to bytes }
        override fun locked() {}
    }

    private val actions = Recorded()

    @After
    fun close() = eropaf.close()

    @Test
    fun `the case list shows the cases, marks unsent work, searches and opens a case`() {
        val aisha = eropaf.newCase(Resident(name = "Aïsha El Amrani"), null)
        eropaf.newCase(Resident(name = "Willem Bakker"), null)
        eropaf.attach(aisha, NewAttachment(name = "brief.pdf"), ByteArray(10))
        compose.setContent { MaterialTheme { Column { CaseList(eropaf, 0, actions) } } }

        compose.onNodeWithText("Willem Bakker").assertIsDisplayed()
        compose.onNodeWithText("1 bijlage wacht op verbinding").assertIsDisplayed()
        assertEquals(1, compose.onAllNodesWithText("Wacht op verbinding").fetchSemanticsNodes().size)

        compose.onNodeWithText("Zoek op naam").performTextInput("aisha")
        compose.waitForIdle()
        assertEquals(0, compose.onAllNodesWithText("Willem Bakker").fetchSemanticsNodes().size)
        compose.onNodeWithText("Aïsha El Amrani").performClick()
        assertEquals(listOf<Screen>(Screen.Case(aisha)), actions.shown)
    }

    @Test
    fun `the case page lists visits and files, and a tapped file goes to the viewer whole`() {
        val caseId = eropaf.newCase(Resident(name = "Joop de Vries"), null)
        eropaf.recordVisit(caseId, NewVisit(note = "Keukenkastjes leeg, koelkast uit"))
        val letter = ByteArray(20_000) { (it % 199).toByte() }
        eropaf.attach(caseId, NewAttachment(name = "brief-woonbron.pdf", caption = "Brief van Woonbron"), letter)
        compose.setContent { MaterialTheme { CasePage(eropaf, caseId, 0, actions, ZoneId.of("Europe/Amsterdam")) } }

        compose.onNodeWithText("Joop de Vries").assertIsDisplayed()
        compose.onNodeWithText("Keukenkastjes leeg, koelkast uit").assertExists()
        compose.onNodeWithText("brief-woonbron.pdf").performClick()
        compose.waitUntil(5_000) { actions.viewed.isNotEmpty() }
        assertEquals("brief-woonbron.pdf", actions.viewed.single().first)
        assertArrayEquals(letter, actions.viewed.single().second)
        compose.onNodeWithText("Bezoek vastleggen").performClick()
        assertEquals(listOf<Screen>(Screen.RecordVisit(caseId)), actions.shown)
    }

    @Test
    fun `what is typed on the visit screen is stored as typed, and after a lock the same visit goes on`() {
        val caseId = eropaf.newCase(Resident(name = "Samir Haddad"), null)
        // The app keeps the screen it was last told to show, as AppModel does across a lock.
        var current by mutableStateOf(Screen.RecordVisit(caseId))
        var locked by mutableStateOf(false)
        val app = object : AppActions by actions {
            override fun show(screen: Screen) {
                actions.show(screen)
                if (screen is Screen.RecordVisit) current = screen
            }
        }
        compose.setContent { MaterialTheme { if (!locked) RecordVisit(eropaf, current, app) } }
        compose.waitUntil(5_000) { eropaf.caseDetail(caseId).visits.isNotEmpty() }
        val visitId = eropaf.caseDetail(caseId).visits.single().id

        compose.onNodeWithText("Verslag").performTextInput("Samir wil een opleiding")
        compose.waitForIdle()
        assertEquals("Samir wil een opleiding", eropaf.caseDetail(caseId).visits.single().note)
        compose.onNodeWithText("Opgeslagen").assertIsDisplayed()
        assertEquals(Screen.RecordVisit(caseId, visitId), current)

        locked = true
        compose.waitForIdle()
        locked = false
        compose.waitForIdle()
        compose.onNodeWithText("Samir wil een opleiding").assertIsDisplayed()
        assertEquals("no second, empty visit", listOf(visitId), eropaf.caseDetail(caseId).visits.map { it.id })
    }

    @Test
    fun `a new assessment starts from the case page's question and the first answer is stored`() {
        val caseId = eropaf.newCase(Resident(name = "Willem Bakker"), null)
        val screen = Screen.Checklist(caseId, null, "Telt de auto mee als vermogen?")
        compose.setContent { MaterialTheme { Checklist(eropaf, screen, 0, actions) } }
        compose.onNodeWithText("Telt de auto mee als vermogen?").assertIsDisplayed()
        compose.onNodeWithText("0 van", substring = true).assertExists()

        compose.onNodeWithText("Antwoord").performTextInput("Willem wil zijn werk houden")
        compose.onNodeWithText("Opslaan en verder").performClick()
        compose.waitForIdle()
        val id = eropaf.caseDetail(caseId).assessments.single().id
        assertEquals("Willem wil zijn werk houden", eropaf.assessment(caseId, id).steps.first().answer)
        compose.onNodeWithText("1 van", substring = true).assertExists()
    }

    @Test
    fun `the supervisor opens a decision, an escalation without a note is refused, a question sends it back`() {
        val caseId = eropaf.newCase(Resident(name = "Aïsha El Amrani"), null)
        val id = eropaf.startAssessment(caseId, "Kan de huurachterstand uit het maatwerkbudget?", null)
        while (true) {
            when (val next = eropaf.assessment(caseId, id).progress.next ?: break) {
                is ChecklistItem.Step -> eropaf.answer(caseId, id, next, "Antwoord")
                is ChecklistItem.Value -> eropaf.setVerdict(caseId, id, next.key, Verdict.SUPPORTS, "Past")
                ChecklistItem.Decision -> eropaf.answer(caseId, id, next, "De achterstand wordt betaald")
            }
        }
        eropaf.setMaatwerk(caseId, id, true, 150_000uL)
        eropaf.submitAssessment(caseId, id)
        compose.setContent { MaterialTheme { ReviewQueue(eropaf, 0, actions, ZoneId.of("Europe/Amsterdam")) } }

        compose.onNodeWithText("Aïsha El Amrani: Kan de huurachterstand uit het maatwerkbudget?").performClick()
        compose.onNodeWithText("De achterstand wordt betaald", substring = true).assertExists()
        compose.onNodeWithText("Escaleren").performClick()
        compose.waitForIdle()
        assertEquals("nothing written", true, eropaf.reviewStatus(caseId, id).inQueue)
        compose.onNodeWithText("Toelichting").performTextInput("Onderbouw het bedrag")
        compose.onNodeWithText("Wijziging vragen").performClick()
        compose.onNodeWithText("Niets te toetsen").assertIsDisplayed()
        assertEquals("Onderbouw het bedrag", eropaf.reviewStatus(caseId, id).reviews.single().note)
    }
}
