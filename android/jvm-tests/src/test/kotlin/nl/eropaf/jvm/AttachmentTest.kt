// Files kept with a case, as the app hands them over: bytes from the camera, a path from the
// share sheet. Read back whole; too large is refused before anything is written.
package nl.eropaf.jvm

import java.nio.file.Files
import kotlin.test.assertContentEquals
import kotlin.test.assertEquals
import kotlin.test.assertTrue
import nl.eropaf.core.EropafException
import nl.eropaf.core.NewAttachment
import nl.eropaf.core.model.Resident
import org.junit.jupiter.api.Test
import org.junit.jupiter.api.assertThrows

class AttachmentTest {
    @Test
    fun `a photo from bytes and a letter from a path read back whole, listed with the case`() {
        val dir = tempDir("attach")
        Device(dir).create("Sanne").use { eropaf ->
            val caseId = eropaf.newCase(Resident(name = "Aïsha Bouali"), null)
            val visitId = eropaf.recordVisit(caseId, visit("Brief van Woonbron besproken"))
            val photo = ByteArray(300_000) { (it % 251).toByte() }
            val fromCamera = eropaf.attach(
                caseId,
                NewAttachment(name = "brief.jpg", caption = "Brief van Woonbron", visitId = visitId),
                photo,
            )
            assertEquals("image/jpeg", fromCamera.mediaType, "from the name's extension")
            val letter = dir.resolve("toestemming.pdf")
            Files.write(letter, "%PDF toestemming schuldeiser".toByteArray())
            val fromPath = eropaf.attachFile(caseId, NewAttachment(name = "toestemming.pdf"), letter.toString())

            val listed = eropaf.caseDetail(caseId).attachments
            assertEquals(listOf(fromCamera.id, fromPath.id), listed.map { it.id })
            assertEquals(visitId, listed[0].visitId)
            assertTrue(listed.all { it.onDevice }, "attached here: the bytes are on this phone")
            assertContentEquals(photo, eropaf.attachmentContent(caseId, fromCamera.id))
            assertContentEquals(Files.readAllBytes(letter), eropaf.attachmentContent(caseId, fromPath.id))
        }
    }

    @Test
    fun `a file over 25 MB is InvalidInput in Dutch and nothing is attached`() {
        val dir = tempDir("too-big")
        Device(dir).create("Sanne").use { eropaf ->
            val caseId = eropaf.newCase(Resident(name = "Willem Bakker"), null)
            val big = dir.resolve("scan.pdf")
            Files.write(big, ByteArray(25 * 1024 * 1024 + 1))
            val error = assertThrows<EropafException.InvalidInput> {
                eropaf.attachFile(caseId, NewAttachment(name = "scan.pdf"), big.toString())
            }
            assertTrue(error.messageNl.contains("25 MB"), error.messageNl)
            assertTrue(eropaf.caseDetail(caseId).attachments.isEmpty())
        }
    }
}
