// Recording a visit through its presenter against the real library: every keystroke is stored
// as it is typed, so a phone that dies mid-sentence loses nothing; and the sync status line.
package nl.eropaf.jvm

import java.time.Instant
import java.time.ZoneId
import java.time.ZonedDateTime
import kotlin.test.assertEquals
import kotlin.test.assertTrue
import nl.eropaf.core.SyncState
import nl.eropaf.core.model.LifeDomain
import nl.eropaf.core.model.Resident
import nl.eropaf.presenters.RecordVisitPresenter
import nl.eropaf.presenters.SyncStatus
import org.junit.jupiter.api.Test

class RecordVisitPresenterTest {
    @Test
    fun `every keystroke is stored, and a restart finds the note as far as it was typed`() {
        val phone = Device(tempDir("visit"))
        var caseId = ""
        var visitId = ""
        val note = "Post ligt ongeopend op tafel; Woonbron dreigt met ontruiming"
        phone.create("Sanne").use { eropaf ->
            caseId = eropaf.newCase(Resident(name = "Aïsha El Amrani"), null)
            val visit = RecordVisitPresenter(eropaf, caseId)
            visit.start(place = "Thuis")
            visitId = visit.state.value.visitId!!
            for (n in 1..30) {
                visit.type(note.take(n))
                assertTrue(visit.state.value.saved, "saved as typed, at keystroke $n")
            }
            assertEquals("Thuis", visit.state.value.place)
        }
        // The app was killed after the 30th keystroke: the note reads as far as it was typed
        // (without the space it ended in: the core stores notes trimmed).
        phone.open().use { eropaf ->
            val again = RecordVisitPresenter(eropaf, caseId)
            again.start(visitId = visitId)
            assertEquals(note.take(30).trim(), again.state.value.note)
            again.type(note)
            assertEquals(note, eropaf.caseDetail(caseId).visits.single().note)
        }
    }

    @Test
    fun `an observation is stored with the visit, and an empty one or a score of 7 is refused in Dutch`() {
        Device(tempDir("observe")).create("Sanne").use { eropaf ->
            val caseId = eropaf.newCase(Resident(name = "Willem Bakker"), null)
            val visit = RecordVisitPresenter(eropaf, caseId)
            visit.start()
            assertTrue(visit.state.value.domains.any { it.domain == LifeDomain.FINANCIEN })
            visit.observe("Huurachterstand van twee maanden", LifeDomain.FINANCIEN, 2u)
            assertEquals(
                listOf("Financiën, Niet zelfredzaam: Huurachterstand van twee maanden"),
                visit.state.value.observations,
            )
            visit.observe("   ")
            assertTrue(visit.state.value.error!!.isNotBlank())
            visit.observe("Te hoog", LifeDomain.FINANCIEN, 7u)
            assertTrue(visit.state.value.error!!.isNotBlank())
            assertEquals(1, eropaf.caseDetail(caseId).visits.single().observations.size, "nothing half-written")
        }
    }

    @Test
    fun `the status line says when the phone last synced and what waits`() {
        val zone = ZoneId.of("Europe/Amsterdam")
        val today = ZonedDateTime.of(2026, 12, 5, 15, 0, 0, 0, zone)
        val synced = today.withHour(10).withMinute(42).toInstant()
        fun state(online: Boolean = true, syncing: Boolean = false, at: Instant? = synced, changes: ULong = 0uL, failures: UInt = 0u, error: String? = null) =
            SyncState(online, syncing, changes, 0uL, failures, at, error)
        assertEquals(listOf("Laatst gesynchroniseerd 10:42"), SyncStatus.lines(state(), zone, today))
        assertEquals(
            listOf("Laatst gesynchroniseerd 4-12 10:42", "3 wijzigingen wachten op verbinding"),
            SyncStatus.lines(state(at = synced.minusSeconds(86_400), changes = 3uL), zone, today),
        )
        assertEquals("Synchroniseren…", SyncStatus.lines(state(syncing = true), zone, today).first())
        assertTrue(SyncStatus.lines(state(online = false), zone, today).first().startsWith("Geen verbinding"))
        assertEquals(
            "Synchroniseren lukte niet (2 keer): de relay is niet bereikbaar",
            SyncStatus.lines(state(failures = 2u, error = "de relay is niet bereikbaar"), zone, today).last(),
        )
    }
}
