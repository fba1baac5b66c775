// The case page's presenter against the real library: what the worker sees of a case (visits
// newest first, where each decision stands in review, files) and opening a file that is still
// at the relay, with progress, and without a connection.
package nl.eropaf.jvm

import java.nio.file.Files
import java.time.Instant
import java.time.ZoneId
import java.util.Collections
import kotlin.test.assertContentEquals
import kotlin.test.assertEquals
import kotlin.test.assertFalse
import kotlin.test.assertNotNull
import kotlin.test.assertNull
import kotlin.test.assertTrue
import kotlinx.coroutines.Dispatchers
import kotlinx.coroutines.flow.takeWhile
import kotlinx.coroutines.launch
import kotlinx.coroutines.runBlocking
import nl.eropaf.core.NewAttachment
import nl.eropaf.core.NewVisit
import nl.eropaf.core.model.LifeDomain
import nl.eropaf.core.model.Resident
import nl.eropaf.presenters.CasePagePresenter
import org.junit.jupiter.api.Test

class CasePagePresenterTest {
    private val amsterdam = ZoneId.of("Europe/Amsterdam")

    @Test
    fun `the page shows visits newest first, each decision's review stage, files, and unsent work`() {
        Device(tempDir("page")).create("Sanne").use { eropaf ->
            val caseId = eropaf.newCase(Resident(name = "Aïsha El Amrani"), null)
            eropaf.recordVisit(caseId, NewVisit(note = "Eerste kennismaking", at = Instant.parse("2026-11-02T09:30:00Z")))
            eropaf.recordVisit(
                caseId,
                visit("Brief van Woonbron besproken", observation("Twee maanden huurachterstand", LifeDomain.FINANCIEN, 2u)),
            )
            val submitted = eropaf.startAssessment(caseId, "Kan de huurachterstand uit het maatwerkbudget?", null)
            completeChecklist(eropaf, caseId, submitted, "De achterstand wordt betaald")
            eropaf.setMaatwerk(caseId, submitted, true, 150_000uL)
            eropaf.submitAssessment(caseId, submitted)
            eropaf.startAssessment(caseId, "Is schuldhulp passend?", null)

            val page = CasePagePresenter(eropaf, caseId, amsterdam)
            page.refresh()
            var state = page.state.value
            assertEquals("Aïsha El Amrani", state.residentName)
            assertEquals(listOf("Brief van Woonbron besproken", "Eerste kennismaking"), state.visits.map { it.note })
            assertEquals(
                listOf("Financiën, Niet zelfredzaam: Twee maanden huurachterstand"),
                state.visits[0].observations,
            )
            assertEquals("2-11-2026 10:30", state.visits[1].at, "in the phone's time zone")
            assertEquals(
                listOf("Wacht op beoordeling", "In bewerking"),
                state.assessments.map { it.reviewLabel },
            )
            assertEquals("De achterstand wordt betaald", state.assessments[0].decision)
            assertFalse(state.unsent, "no team yet and no file: nothing waits for a connection")

            eropaf.attach(caseId, NewAttachment(name = "brief.pdf", caption = "Brief van Woonbron"), ByteArray(1_234_567))
            page.refresh()
            state = page.state.value
            val file = state.files.single()
            assertEquals("brief.pdf", file.name)
            assertEquals("1,2 MB", file.size)
            assertTrue(file.onDevice)
            assertTrue(state.unsent, "the file waits for a connection")
        }
    }

    @Test
    fun `a file attached on another phone is fetched when opened, showing how far it is`() = runBlocking<Unit> {
        Relay.start(tempDir("relay")).use { relay ->
            withTeam(relay) { supervisor, worker ->
                val caseId = worker.newCase(Resident(name = "Willem Bakker"), null)
                val path = tempDir("share").resolve("toestemming.pdf")
                val letter = ByteArray(700_000) { (it % 241).toByte() }
                Files.write(path, letter)
                val attached = worker.attachFile(caseId, NewAttachment(name = "toestemming.pdf"), path.toString())
                worker.sync(null)
                supervisor.sync(null)

                val page = CasePagePresenter(supervisor, caseId, amsterdam)
                page.refresh()
                assertFalse(page.state.value.files.single().onDevice, "listed before its bytes are here")
                val shown = Collections.synchronizedList(mutableListOf<Float>())
                val watcher = launch(Dispatchers.Default) {
                    page.state.takeWhile { true }.collect { s -> s.files.single().fetching?.let { shown += it } }
                }
                val bytes = page.openFile(attached.id)
                watcher.cancel()
                assertContentEquals(letter, bytes)
                assertTrue(shown.isNotEmpty(), "the row showed the fetch")
                assertEquals(shown.sorted(), shown.toList(), "progress only goes forward")
                val after = page.state.value.files.single()
                assertTrue(after.onDevice, "kept on this phone")
                assertNull(after.fetching)
                assertNull(page.state.value.error)
            }
        }
    }

    @Test
    fun `without a connection opening a file says so in Dutch and it stays listed`() = runBlocking<Unit> {
        val relay = Relay.start(tempDir("relay"))
        withTeam(relay) { supervisor, worker ->
            val caseId = worker.newCase(Resident(name = "Joop de Vries"), null)
            val attached = worker.attach(caseId, NewAttachment(name = "foto.jpg"), ByteArray(50_000) { 7 })
            worker.sync(null)
            supervisor.sync(null)
            relay.close()

            val page = CasePagePresenter(supervisor, caseId, amsterdam)
            page.refresh()
            assertNull(page.openFile(attached.id))
            val state = page.state.value
            val error = assertNotNull(state.error)
            assertTrue(error.isNotBlank())
            assertFalse(state.files.single().onDevice)
            assertNull(state.files.single().fetching, "no progress bar left behind")
        }
    }

    @Test
    fun `a case erased on this phone shows as gone instead of an empty page`() = runBlocking<Unit> {
        Device(tempDir("gone")).create("Sanne").use { eropaf ->
            val caseId = eropaf.newCase(Resident(name = "Samir Haddad"), null)
            val page = CasePagePresenter(eropaf, caseId, amsterdam)
            page.refresh()
            assertTrue(page.state.value.loaded)
            eropaf.eraseCase(caseId)
            page.refresh()
            assertTrue(page.state.value.gone)
            assertNotNull(page.state.value.error)
        }
    }
}
