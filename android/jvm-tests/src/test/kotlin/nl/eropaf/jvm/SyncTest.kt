// Sync as the app runs it: a suspend function against a real relay on loopback, progress for
// a progress bar, a change observer for refreshing the screen, two devices converging, and a
// file attached on one phone downloaded on another when opened.
package nl.eropaf.jvm

import java.nio.file.Files
import java.util.Collections
import kotlin.test.assertContentEquals
import kotlin.test.assertEquals
import kotlin.test.assertFalse
import kotlin.test.assertNotNull
import kotlin.test.assertTrue
import kotlinx.coroutines.Dispatchers
import kotlinx.coroutines.async
import kotlinx.coroutines.runBlocking
import nl.eropaf.core.ChangeObserver
import nl.eropaf.core.DownloadListener
import nl.eropaf.core.Eropaf
import nl.eropaf.core.EropafException
import nl.eropaf.core.NewAttachment
import nl.eropaf.core.Role
import nl.eropaf.core.SyncListener
import nl.eropaf.core.SyncState
import nl.eropaf.core.SyncStateObserver
import nl.eropaf.core.SyncTiming
import nl.eropaf.core.model.AssignmentRole
import nl.eropaf.core.model.Resident
import nl.eropaf.core.model.SyncProgress
import org.junit.jupiter.api.AfterAll
import org.junit.jupiter.api.BeforeAll
import org.junit.jupiter.api.Test
import org.junit.jupiter.api.TestInstance
import org.junit.jupiter.api.assertThrows

@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class SyncTest {
    private lateinit var relay: Relay

    @BeforeAll
    fun startRelay() {
        relay = Relay.start(tempDir("relay"))
    }

    @AfterAll
    fun stopRelay() = relay.close()

    private class Progress : SyncListener {
        val seen: MutableList<SyncProgress> = Collections.synchronizedList(mutableListOf())
        override fun onProgress(progress: SyncProgress) { seen += progress }
    }

    private class Changes : ChangeObserver {
        val seen: MutableList<String> = Collections.synchronizedList(mutableListOf())
        override fun casesChanged(caseIds: List<String>) { seen += caseIds }
    }

    /** A supervisor's phone in a new team and a worker's phone admitted to it. */
    private suspend fun team(test: suspend (Eropaf, Eropaf) -> Unit) {
        Device(tempDir("supervisor")).create("Fatima").use { supervisor ->
            Device(tempDir("worker")).create("Sanne").use { worker ->
                supervisor.createTeam("Wijkteam Noord", relay.url, relay.registrationCode())
                supervisor.sync(null)
                val invitation = supervisor.invite(Role.WORKER)
                val shown = worker.join(invitation.code)
                assertTrue(worker.sync(null).waitingForApproval, "not admitted before the supervisor synced")
                assertEquals(1uL, supervisor.sync(null).waitingJoiners)
                val waiting = supervisor.pendingJoiners().single()
                assertEquals(shown, waiting.code, "both screens show the same safety code")
                assertThrows<EropafException.Refused> {
                    runBlocking { supervisor.admit(waiting.deviceId, "0000 0000 0000") }
                }
                assertTrue(worker.sync(null).waitingForApproval, "a wrong code admits nobody")
                supervisor.admit(waiting.deviceId, shown)
                val joined = worker.sync(null)
                assertFalse(joined.waitingForApproval)
                test(supervisor, worker)
            }
        }
    }

    @Test
    fun `sync is a suspend function that reports progress and pushes the device's cases`() = runBlocking<Unit> {
        Device(tempDir("solo")).create("Fatima").use { eropaf ->
            eropaf.createTeam("Wijkteam Zuid", relay.url, relay.registrationCode())
            val caseId = eropaf.newCase(Resident(name = "Willem Bakker"), null)
            eropaf.recordVisit(caseId, visit("Eerste bezoek"))
            val progress = Progress()
            val report = eropaf.sync(progress)
            assertTrue(report.pushed >= 1uL, "pushed ${report.pushed}")
            assertEquals(SyncProgress.Roster, progress.seen.first())
            val pushing = progress.seen.filterIsInstance<SyncProgress.Pushing>().last()
            assertEquals(pushing.total, pushing.done)
            assertEquals("Wijkteam Zuid", eropaf.teamInfo()!!.teamName)
            assertEquals(0uL, eropaf.sync(progress).pushed, "nothing left to push")
        }
    }

    @Test
    fun `two devices converge through the relay and the observer hears which case changed`() = runBlocking<Unit> {
        team { supervisor, worker ->
            val caseId = worker.newCase(Resident(name = "Aïsha El Amrani"), null)
            worker.recordVisit(caseId, visit("Bezoek van Sanne", observation("Huurachterstand")))
            worker.sync(null)

            val changes = Changes()
            supervisor.setChangeObserver(changes)
            supervisor.sync(null)
            assertEquals(listOf(caseId), changes.seen.distinct())
            supervisor.recordVisit(caseId, visit("Bezoek van Fatima"))
            supervisor.sync(null)
            worker.sync(null)

            assertEquals(supervisor.caseDetail(caseId), worker.caseDetail(caseId))
            assertEquals(
                listOf("Bezoek van Fatima", "Bezoek van Sanne"),
                worker.caseDetail(caseId).visits.map { it.note }.sorted(),
            )
            val members = supervisor.members()
            assertEquals(setOf("Fatima", "Sanne"), members.map { it.member }.toSet())
            assertEquals("Leidinggevende", members.single { it.isThisDevice }.roleLabel)
        }
    }

    private class Download : DownloadListener {
        val seen: MutableList<Pair<ULong, ULong>> = Collections.synchronizedList(mutableListOf())
        override fun onProgress(doneBytes: ULong, totalBytes: ULong) { seen += doneBytes to totalBytes }
    }

    @Test
    fun `a letter attached on the worker's phone comes down to the supervisor's when opened`() = runBlocking<Unit> {
        team { supervisor, worker ->
            val caseId = worker.newCase(Resident(name = "Aïsha El Amrani"), null)
            val path = tempDir("share").resolve("brief-woonbron.pdf")
            val letter = ByteArray(600_000) { (it % 253).toByte() }
            Files.write(path, letter)
            val attached = worker.attachFile(caseId, NewAttachment(name = "brief-woonbron.pdf"), path.toString())
            val waiting = worker.unsentWork()
            assertEquals(listOf(caseId), waiting.caseIds, "the case list marks the case")
            assertEquals(1uL, waiting.files)
            assertEquals(3uL, worker.sync(null).chunksUploaded, "600 kB in chunks of 256 KiB")
            assertEquals(0uL, worker.unsentWork().files, "nothing waits after the sync")

            supervisor.sync(null)
            val listed = supervisor.caseDetail(caseId).attachments.single()
            assertFalse(listed.onDevice, "listed before its bytes are here")
            assertThrows<EropafException.NotFound> { supervisor.attachmentContent(caseId, attached.id) }
            val progress = Download()
            val report = supervisor.downloadAttachment(caseId, attached.id, progress)
            assertEquals(3u, report.fetchedChunks)
            assertEquals(600_000uL to 600_000uL, progress.seen.last())
            assertTrue(supervisor.caseDetail(caseId).attachments.single().onDevice)
            assertContentEquals(letter, supervisor.attachmentContent(caseId, attached.id))
        }
    }

    @Test
    fun `a worker types on while a long sync runs, and what she typed leaves with it`() = runBlocking<Unit> {
        team { supervisor, worker ->
            // A sync with work in it: 300 new cases to push.
            repeat(300) { worker.newCase(Resident(name = "Bewoner $it"), null) }
            val caseId = worker.newCase(Resident(name = "Aïsha El Amrani"), null)
            val visitId = worker.recordVisit(caseId, visit(""))
            val note = "Brief van Woonbron besproken; betalingsregeling afgesproken met de verhuurder"
            val syncing = async(Dispatchers.Default) { worker.sync(null) }
            val micros = mutableListOf<Double>()
            var typed = 0
            while (!syncing.isCompleted && typed < note.length) {
                typed += 1
                val start = System.nanoTime()
                worker.editVisitNote(caseId, visitId, note.take(typed))
                micros += (System.nanoTime() - start) / 1000.0
            }
            val report = syncing.await()
            assertTrue(report.pushed >= 300uL, "pushed ${report.pushed}")
            val sorted = micros.sorted()
            if (sorted.isNotEmpty()) {
                println(
                    "autosave during sync: median %.0f µs, worst %.0f µs (%d keystrokes while it ran)"
                        .format(sorted[sorted.size / 2], sorted.last(), sorted.size),
                )
            }
            assertEquals(note.take(typed), worker.caseDetail(caseId).visits.single().note)
            worker.sync(null)
            supervisor.sync(null)
            assertEquals(note.take(typed), supervisor.caseDetail(caseId).visits.single().note)
        }
    }

    private class States : SyncStateObserver {
        val seen: MutableList<SyncState> = Collections.synchronizedList(mutableListOf())
        override fun onState(state: SyncState) { seen += state }

        /** Waits (up to 20 s) for a state after [from] that [done] accepts. */
        fun await(from: Int, done: (SyncState) -> Boolean): SyncState {
            val until = System.nanoTime() + 20_000_000_000L
            while (System.nanoTime() < until) {
                synchronized(seen) { seen.drop(from).firstOrNull(done) }?.let { return it }
                Thread.sleep(10)
            }
            throw AssertionError("no such sync state after $from: ${seen.drop(from)}")
        }
    }

    @Test
    fun `the phone syncs by itself after a change, and waits while it says it is offline`() = runBlocking<Unit> {
        team { supervisor, worker ->
            val states = States()
            worker.startAutoSync(SyncTiming(debounceMs = 50uL, periodicMs = 600_000uL, firstBackoffMs = 100uL, maxBackoffMs = 1000uL), states)
            val idle = states.await(0) { !it.syncing && it.lastSyncedAt != null }
            val caseId = worker.newCase(Resident(name = "Aïsha El Amrani"), null)
            worker.recordVisit(caseId, visit("Brief van Woonbron besproken"))
            val marked = states.seen.size
            val sent = states.await(marked) { !it.syncing && it.unsentChanges == 0uL && it.lastSyncedAt != idle.lastSyncedAt }
            assertEquals(0u, sent.failures)
            supervisor.sync(null)
            assertEquals("Brief van Woonbron besproken", supervisor.caseDetail(caseId).visits.single().note)

            // Offline: what she records waits on the phone, and leaves once she is back.
            worker.reportNetwork(false)
            worker.recordVisit(caseId, visit("Tweede bezoek, zonder bereik"))
            Thread.sleep(300)
            val before = states.seen.size
            assertTrue(worker.unsentWork().changes > 0uL, "it waits on the phone")
            worker.reportNetwork(true)
            states.await(before) { !it.syncing && it.unsentChanges == 0uL }
            supervisor.sync(null)
            assertEquals(2, supervisor.caseDetail(caseId).visits.size)
            worker.stopAutoSync()
        }
    }

    @Test
    fun `a worker may not invite and a revoked phone wipes itself and its supervisor sees when`() = runBlocking<Unit> {
        team { supervisor, worker ->
            val notAllowed = assertThrows<EropafException.Unauthorised> { runBlocking { worker.invite(Role.WORKER) } }
            assertTrue(notAllowed.messageNl.isNotBlank())
            val caseId = worker.newCase(Resident(name = "Willem Bakker"), null)
            worker.sync(null)
            supervisor.revoke(worker.deviceId())
            assertTrue(supervisor.members().single { it.deviceId == worker.deviceId() }.revoked)
            val wiped = worker.sync(null).wipedAt
            assertNotNull(wiped, "the revoked phone wiped itself")
            assertEquals(wiped, worker.wipedAt())
            assertTrue(worker.cases().isEmpty())
            assertThrows<EropafException.NotFound> { worker.caseDetail(caseId) }
            supervisor.sync(null)
            assertEquals(wiped, supervisor.members().single { it.deviceId == worker.deviceId() }.wipedAt)
        }
    }

    @Test
    fun `a case reaches a worker only when assigned and leaves her phone when unassigned`() = runBlocking<Unit> {
        team { supervisor, worker ->
            val caseId = supervisor.newCase(Resident(name = "Joop de Vries"), null)
            supervisor.sync(null)
            worker.sync(null)
            assertTrue(worker.cases().isEmpty(), "not assigned: not on her phone")

            supervisor.assign(caseId, "Sanne", AssignmentRole.BACKUP, null)
            // The case was Fatima's (she created it); she stays on it as its worker.
            assertEquals(setOf("Fatima", "Sanne"), supervisor.caseAccess(caseId).assignments.map { it.member }.toSet())
            supervisor.sync(null)
            worker.sync(null)
            assertEquals(listOf(caseId), worker.cases().map { it.id })

            supervisor.unassign(caseId, "Sanne")
            supervisor.sync(null)
            val report = worker.sync(null)
            assertEquals(listOf(caseId), report.forgottenCases)
            assertTrue(worker.cases().isEmpty())
        }
    }

    @Test
    fun `a request for access waits for the supervisor, who grants it for a period`() = runBlocking<Unit> {
        team { supervisor, worker ->
            val caseId = supervisor.newCase(Resident(name = "Henk Smit"), null)
            supervisor.sync(null)
            val reason = "Meneer belde, zijn regisseur is met verlof"
            val requestId = worker.requestAccess(caseId, reason, true)
            worker.sync(null)
            worker.sync(null)
            assertTrue(worker.cases().isEmpty(), "queued, not granted")
            assertEquals(reason, worker.accessRequests().single().reason)
            assertThrows<EropafException.InvalidInput> { runBlocking { worker.requestAccess(caseId, " ", false) } }

            supervisor.sync(null)
            val asked = supervisor.accessRequests().single()
            assertEquals(Triple("Sanne", reason, true), Triple(asked.member, asked.reason, asked.urgent))
            supervisor.grantAccess(requestId, 2u)
            supervisor.sync(null)
            worker.sync(null)
            assertEquals(listOf(caseId), worker.cases().map { it.id })
            val decision = worker.accessRequests().single().decision!!
            assertTrue(decision.granted)
            assertNotNull(decision.until)
            val inzage = supervisor.exportInzage(caseId, "inzageverzoek bewoner")
            assertTrue("Toegang verleend" in inzage && reason in inzage, "the grant and its reason are in the inzage")
        }
    }

    @Test
    fun `an erased case disappears from the other device at its next sync`() = runBlocking<Unit> {
        team { supervisor, worker ->
            val caseId = worker.newCase(Resident(name = "Willem Bakker"), null)
            worker.sync(null)
            supervisor.sync(null)
            assertEquals(1, supervisor.cases().size)
            supervisor.eraseCase(caseId)
            assertTrue(supervisor.cases().isEmpty())
            worker.sync(null)
            assertTrue(worker.cases().isEmpty())
            assertThrows<EropafException.NotFound> { worker.caseDetail(caseId) }
        }
    }

    @Test
    fun `without a team or without a relay sync fails with an error the app can act on`() = runBlocking<Unit> {
        Device(tempDir("alone")).create("Sanne").use { eropaf ->
            val noTeam = assertThrows<EropafException.InvalidInput> { runBlocking { eropaf.sync(null) } }
            assertEquals("team", noTeam.field)
            // Port 9 (discard) on loopback: nothing listens, so the connection is refused.
            eropaf.createTeam("Wijkteam Oost", "http://127.0.0.1:9", "0123456789abcdef0123456789abcdef")
            val offline = assertThrows<EropafException.Network> { runBlocking { eropaf.sync(null) } }
            assertEquals(30u, offline.retryAfterSecs)
            assertTrue(offline.messageNl.contains("probeer het later opnieuw"), offline.messageNl)
            val badCode = assertThrows<EropafException.InvalidInput> { runBlocking { eropaf.join("geen code") } }
            assertEquals("uitnodiging", badCode.field)
        }
    }
}
