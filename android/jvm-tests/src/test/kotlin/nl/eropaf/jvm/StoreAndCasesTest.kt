// The app's first screens over the bindings: unlocking with the platform key store, the case
// list and search, recording a visit with observations, and the typed errors an app shows.
package nl.eropaf.jvm

import java.time.Instant
import kotlin.test.assertEquals
import kotlin.test.assertNotNull
import kotlin.test.assertTrue
import nl.eropaf.core.Eropaf
import nl.eropaf.core.EropafException
import nl.eropaf.core.NewVisit
import nl.eropaf.core.Unlock
import nl.eropaf.core.lifeDomains
import nl.eropaf.core.model.CaseStatus
import nl.eropaf.core.model.CaseType
import nl.eropaf.core.model.LifeDomain
import nl.eropaf.core.model.Resident
import nl.eropaf.core.parseEuroAmount
import nl.eropaf.core.scoreLabel
import org.junit.jupiter.api.Test
import org.junit.jupiter.api.assertThrows

class StoreAndCasesTest {
    @Test
    fun `the platform key store gets one new key and reopens the store with it`() {
        val device = Device(tempDir("open"))
        val caseId = device.create("Sanne").use { eropaf ->
            eropaf.newCase(Resident(name = "Willem Bakker"), CaseType.PARTICIPATIEWET)
        }
        assertEquals(1, device.keys.saves)
        assertEquals(32, device.keys.key!!.size)
        device.open().use { eropaf ->
            assertEquals("Sanne", eropaf.deviceName())
            assertEquals(listOf(caseId), eropaf.cases().map { it.id })
        }
        assertEquals(1, device.keys.saves, "opening does not make a new key")
    }

    @Test
    fun `a wrong store key is Locked and shows a Dutch sentence`() {
        val device = Device(tempDir("locked"))
        device.create("Sanne").use { it.newCase(Resident(name = "Willem"), null) }
        val wrong = MemoryKeyStore(ByteArray(32) { 7 })
        val error = assertThrows<EropafException.Locked> {
            Eropaf.open(device.dir.toString(), Unlock.PlatformKeyStore(wrong))
        }
        assertTrue(error.messageNl.contains("op slot"), error.messageNl)
        // The right key still opens it: the failed attempt changed nothing.
        device.open().use { assertEquals(1, it.cases().size) }
    }

    @Test
    fun `a failing platform key store is a KeyStore error, not a crash`() {
        val dir = tempDir("broken")
        val error = assertThrows<EropafException.KeyStore> {
            Eropaf.create(dir.toString(), Unlock.PlatformKeyStore(BrokenKeyStore()), "Sanne")
        }
        assertTrue(error.detail.contains("KeyPermanentlyInvalidated"), error.detail)
        // Nothing half-created: a working key store can create the store afterwards.
        Device(dir).create("Sanne").use { assertTrue(it.cases().isEmpty()) }
    }

    @Test
    fun `the case list is sorted by name and search ignores case and accents`() {
        Device(tempDir("list")).create("Sanne").use { eropaf ->
            for (name in listOf("Willem Bakker", "Aïsha El Amrani", "ahmed Yusuf")) {
                eropaf.newCase(Resident(name = name), null)
            }
            assertEquals(
                listOf("ahmed Yusuf", "Aïsha El Amrani", "Willem Bakker"),
                eropaf.cases().map { it.residentName },
            )
            assertEquals(listOf("Aïsha El Amrani"), eropaf.search("AISHA").map { it.residentName })
            assertTrue(eropaf.search("Jansen").isEmpty())
            val status = eropaf.cases().first()
            assertEquals(CaseStatus.OPEN, status.status)
            assertEquals("Open", status.statusLabel)
        }
    }

    @Test
    fun `a recorded visit shows its observations with Dutch labels`() {
        Device(tempDir("visit")).create("Sanne").use { eropaf ->
            val caseId = eropaf.newCase(Resident(name = "Willem Bakker"), null)
            val at = Instant.parse("2026-11-02T10:00:00Z")
            val visitId = eropaf.recordVisit(
                caseId,
                NewVisit(
                    note = "Auto op zijn naam",
                    at = at,
                    place = "Thuis",
                    present = listOf("Willem", "zijn vader"),
                    observations = listOf(
                        observation("Huurachterstand", LifeDomain.FINANCIEN, 2u),
                        observation("Kijkt weer vooruit"),
                    ),
                ),
            )
            val case = eropaf.caseDetail(caseId)
            val shown = case.visits.single()
            assertEquals(visitId, shown.id)
            assertEquals(at, shown.at)
            assertEquals(eropaf.deviceId(), shown.authorDevice)
            assertEquals(listOf("Willem", "zijn vader"), shown.present)
            assertEquals("Financiën", shown.observations[0].domainLabel)
            assertEquals("Niet zelfredzaam", shown.observations[0].scoreLabel)
            assertEquals(null, shown.observations[1].domain)
            val summary = eropaf.cases().single()
            assertEquals(1u, summary.visitCount)
            assertEquals(at, summary.lastVisitAt)

            eropaf.editVisitNote(caseId, visitId, "Auto op naam van zijn vader")
            eropaf.addObservation(caseId, visitId, observation("Werkt weer", LifeDomain.WERK_OPLEIDING, 4u))
            val edited = eropaf.caseDetail(caseId).visits.single()
            assertEquals("Auto op naam van zijn vader", edited.note)
            assertEquals(3, edited.observations.size)
        }
    }

    @Test
    fun `a score outside 1 to 5 is InvalidInput naming the score and records nothing`() {
        Device(tempDir("score")).create("Sanne").use { eropaf ->
            val caseId = eropaf.newCase(Resident(name = "Willem"), null)
            val error = assertThrows<EropafException.InvalidInput> {
                eropaf.recordVisit(caseId, visit("Bezoek", observation("Schulden", LifeDomain.FINANCIEN, 7u)))
            }
            assertEquals("score", error.field)
            assertTrue(error.messageNl.contains("tussen 1 en 5"), error.messageNl)
            assertEquals(0u, eropaf.cases().single().visitCount)
            val empty = assertThrows<EropafException.InvalidInput> {
                eropaf.recordVisit(caseId, visit("Bezoek", observation("   ")))
            }
            assertEquals("observation", empty.field)
        }
    }

    @Test
    fun `an unknown case is NotFound and an empty device name is refused`() {
        val device = Device(tempDir("notfound"))
        val noName = assertThrows<EropafException.InvalidInput> { device.create("  ") }
        assertEquals("name", noName.field)
        device.create("Sanne").use { eropaf ->
            val missing = assertThrows<EropafException.NotFound> {
                eropaf.caseDetail("0123456789abcdef0123456789abcdef")
            }
            assertEquals("case", missing.what)
            assertTrue(missing.messageNl.startsWith("Casus"), missing.messageNl)
        }
    }

    @Test
    fun `a status change shows its Dutch label and a second store in the same place is refused`() {
        val device = Device(tempDir("status"))
        device.create("Sanne").use { eropaf ->
            val caseId = eropaf.newCase(Resident(name = "Willem"), null)
            eropaf.setStatus(caseId, CaseStatus.CLOSED)
            assertEquals("Gesloten", eropaf.caseDetail(caseId).statusLabel)
            assertEquals("Gesloten", eropaf.cases().single().statusLabel)
        }
        assertThrows<EropafException.AlreadyExists> { device.create("Sanne") }
    }

    @Test
    fun `a closed object refuses calls and the store reopens with everything in it`() {
        val device = Device(tempDir("close"))
        val eropaf = device.create("Sanne")
        eropaf.use { it.newCase(Resident(name = "Willem"), null) }
        assertThrows<IllegalStateException> { eropaf.cases() }
        device.open().use { assertEquals("Willem", it.cases().single().residentName) }
    }

    @Test
    fun `pickers and amounts come from the core`() {
        val domains = lifeDomains()
        assertEquals(13, domains.size)
        assertEquals("financien", domains.first().key)
        assertEquals("Financiën", domains.first().label)
        assertEquals("Volledig zelfredzaam", scoreLabel(5u))
        assertEquals(123_450uL, parseEuroAmount("€ 1.234,50"))
        val bad = assertThrows<EropafException.InvalidInput> { parseEuroAmount("veel") }
        assertEquals("budget", bad.field)
        assertThrows<EropafException.InvalidInput> { scoreLabel(0u) }
    }

    @Test
    fun `a case exported from one device merges into another and tells its observer`() {
        val phone = Device(tempDir("phone")).create("Sanne")
        val laptop = Device(tempDir("laptop")).create("Sanne laptop")
        phone.use {
            laptop.use {
                val caseId = phone.newCase(Resident(name = "Willem"), null)
                val seen = mutableListOf<List<String>>()
                laptop.setChangeObserver(object : nl.eropaf.core.ChangeObserver {
                    override fun casesChanged(caseIds: List<String>) { seen += caseIds }
                })
                assertEquals(caseId, laptop.mergeCase(phone.exportCase(caseId)))
                phone.recordVisit(caseId, visit("Op de telefoon"))
                laptop.recordVisit(caseId, visit("Op de laptop"))
                laptop.mergeCase(phone.exportCase(caseId))
                phone.mergeCase(laptop.exportCase(caseId))
                assertEquals(phone.caseDetail(caseId), laptop.caseDetail(caseId))
                assertEquals(2, phone.caseDetail(caseId).visits.size)
                assertEquals(listOf(listOf(caseId), listOf(caseId)), seen)
                val garbage = assertThrows<EropafException.InvalidInput> {
                    laptop.mergeCase("geen automerge".toByteArray())
                }
                assertNotNull(garbage.field)
            }
        }
    }
}
