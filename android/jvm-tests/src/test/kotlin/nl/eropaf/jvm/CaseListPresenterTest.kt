// The case list's presenter against the real library: search, the cases with work waiting
// for a connection, and a locked store, as the screen would render them.
package nl.eropaf.jvm

import kotlin.test.assertEquals
import kotlin.test.assertFailsWith
import kotlin.test.assertFalse
import kotlin.test.assertNull
import kotlin.test.assertTrue
import nl.eropaf.core.EropafException
import nl.eropaf.core.NewAttachment
import nl.eropaf.core.model.Resident
import nl.eropaf.presenters.CaseListPresenter
import nl.eropaf.presenters.messageNl
import org.junit.jupiter.api.Test

class CaseListPresenterTest {
    @Test
    fun `the list searches, marks cases with unsent work and says what waits`() {
        Device(tempDir("list")).create("Sanne").use { eropaf ->
            val aisha = eropaf.newCase(Resident(name = "Aïsha El Amrani"), null)
            val willem = eropaf.newCase(Resident(name = "Willem Bakker"), null)
            eropaf.attach(aisha, NewAttachment(name = "brief.pdf"), ByteArray(10))
            val list = CaseListPresenter(eropaf)
            list.refresh()
            val all = list.state.value
            assertEquals(setOf("Aïsha El Amrani", "Willem Bakker"), all.rows.map { it.residentName }.toSet())
            // No team yet: changes are sealed for the team once it has one; the file waits.
            assertEquals(mapOf(aisha to true, willem to false), all.rows.associate { it.id to it.unsent })
            assertEquals("1 bijlage wacht op verbinding", all.waiting)

            list.search("aisha")
            assertEquals(listOf(aisha), list.state.value.rows.map { it.id }, "accents and case ignored")
            assertEquals("aisha", list.state.value.query)
            list.search("  ")
            assertEquals(2, list.state.value.rows.size)

            list.search("")
            val joop = list.newCase("Joop de Vries")
            assertEquals(3, list.state.value.rows.size, "the new case is listed at once")
            assertTrue(list.state.value.rows.any { it.id == joop })
            assertNull(list.newCase("  "))
            assertTrue(list.state.value.error!!.isNotBlank(), "an empty name is refused in Dutch")
            assertEquals(3, eropaf.cases().size)

            eropaf.lock()
            list.refresh()
            assertTrue(list.state.value.locked, "a locked store shows the unlock screen")
            assertFalse(list.state.value.rows.isEmpty(), "the last list stays behind it")
            assertEquals(willem, list.state.value.rows.first { it.residentName == "Willem Bakker" }.id)
        }
    }

    @Test
    fun `any error caught as the sealed base still says what went wrong in Dutch`() {
        Device(tempDir("errors")).create("Sanne").use { eropaf ->
            val caught: EropafException = assertFailsWith<EropafException.NotFound> {
                eropaf.caseDetail("0".repeat(32))
            }
            assertTrue(caught.messageNl.isNotBlank(), "read through the base type")
        }
    }

    @Test
    fun `what waits is said in Dutch, singular and plural`() {
        assertNull(CaseListPresenter.waitingText(0uL, 0uL))
        assertEquals("1 wijziging wacht op verbinding", CaseListPresenter.waitingText(1uL, 0uL))
        assertEquals("3 wijzigingen wachten op verbinding", CaseListPresenter.waitingText(3uL, 0uL))
        assertEquals("2 wijzigingen en 1 bijlage wachten op verbinding", CaseListPresenter.waitingText(2uL, 1uL))
    }
}
