// Locking as the app lives with it: the core forgets the store key after the team's idle time
// or when the app goes to the background, answers Locked, and unlocks again only through the
// platform key store, which asks for the user's presence; a sync already running finishes.
package nl.eropaf.jvm

import java.util.concurrent.atomic.AtomicInteger
import kotlin.test.assertEquals
import kotlin.test.assertFalse
import kotlin.test.assertTrue
import kotlinx.coroutines.runBlocking
import nl.eropaf.core.Eropaf
import nl.eropaf.core.EropafException
import nl.eropaf.core.KeyStore
import nl.eropaf.core.SyncListener
import nl.eropaf.core.Unlock
import nl.eropaf.core.model.Resident
import nl.eropaf.core.model.SyncProgress
import org.junit.jupiter.api.AfterAll
import org.junit.jupiter.api.BeforeAll
import org.junit.jupiter.api.Test
import org.junit.jupiter.api.TestInstance
import org.junit.jupiter.api.assertThrows

/**
 * The Android key made with setUserAuthenticationRequired: it hands out the store key only
 * while the user recently showed biometric or PIN, and otherwise throws Locked.
 */
class PresenceKeyStore(private val keys: MemoryKeyStore = MemoryKeyStore()) : KeyStore {
    @Volatile var present = true
    val loads = AtomicInteger()

    override fun loadKey(): ByteArray? {
        if (!present) throw EropafException.Locked("Bevestig met je vingerafdruk of pincode.")
        loads.incrementAndGet()
        return keys.loadKey()
    }

    override fun saveKey(key: ByteArray) = keys.saveKey(key)
}

@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class LockTest {
    private lateinit var relay: Relay

    @BeforeAll
    fun startRelay() {
        relay = Relay.start(tempDir("relay"))
    }

    @AfterAll
    fun stopRelay() = relay.close()

    private fun phone(presence: PresenceKeyStore): Eropaf =
        Eropaf.create(tempDir("phone").toString(), Unlock.PlatformKeyStore(presence), "Sanne")

    @Test
    fun `a locked phone answers Locked until the user is present again and keeps every visit`() = runBlocking<Unit> {
        val presence = PresenceKeyStore()
        phone(presence).use { eropaf ->
            assertEquals(5uL * 60uL, eropaf.idleLockSecs(), "the core sets five minutes by default")
            val caseId = eropaf.newCase(Resident(name = "Willem Bakker"), null)
            eropaf.recordVisit(caseId, visit("Bezoek voor het vergrendelen"))

            eropaf.lock()
            assertTrue(eropaf.isLocked())
            val locked = assertThrows<EropafException.Locked> { eropaf.cases() }
            assertTrue(locked.messageNl.contains("vergrendeld"), locked.messageNl)
            assertThrows<EropafException.Locked> { eropaf.recordVisit(caseId, visit("Na het vergrendelen")) }

            presence.present = false
            val loadsBefore = presence.loads.get()
            assertThrows<EropafException.Locked> {
                runBlocking { eropaf.unlock(Unlock.PlatformKeyStore(presence)) }
            }
            assertThrows<EropafException.Locked> {
                runBlocking { eropaf.unlock(Unlock.Key(ByteArray(32))) }
            }
            assertTrue(eropaf.isLocked(), "no presence and no right key: still locked")

            presence.present = true
            eropaf.unlock(Unlock.PlatformKeyStore(presence))
            assertEquals(loadsBefore + 1, presence.loads.get(), "the key came from the key store again")
            assertFalse(eropaf.isLocked())
            val visits = eropaf.caseDetail(caseId).visits.map { it.note }
            assertEquals(listOf("Bezoek voor het vergrendelen"), visits, "nothing lost, nothing added while locked")
        }
    }

    @Test
    fun `a sync running when the phone locks finishes with its own handle`() = runBlocking<Unit> {
        val presence = PresenceKeyStore()
        phone(presence).use { eropaf ->
            eropaf.createTeam("Wijkteam Oost", relay.url, relay.registrationCode())
            val caseId = eropaf.newCase(Resident(name = "Aïsha El Amrani"), null)
            eropaf.recordVisit(caseId, visit("Bezoek", observation("Huurachterstand")))

            // The app goes to the background while the sync is under way.
            val lockedDuringSync = object : SyncListener {
                override fun onProgress(progress: SyncProgress) {
                    if (progress is SyncProgress.Pushing) eropaf.lock()
                }
            }
            val report = eropaf.sync(lockedDuringSync)
            assertTrue(report.pushed >= 1uL, "the sync pushed the visit: ${report.pushed}")
            assertTrue(eropaf.isLocked())
            assertThrows<EropafException.Locked> { runBlocking { eropaf.sync(null) } }

            eropaf.unlock(Unlock.PlatformKeyStore(presence))
            assertEquals(0uL, eropaf.sync(null).pushed, "the locked sync had sent everything")
        }
    }
}
