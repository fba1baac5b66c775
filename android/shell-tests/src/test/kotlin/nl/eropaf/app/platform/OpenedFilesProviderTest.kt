// Opening a case's file in another app under Robolectric: the viewer gets the name and type
// through the content URI and the bytes from memory; nothing lands in the app's files or cache;
// after the app locks, or after a few minutes, the URI reads nothing.
package nl.eropaf.app.platform

import android.content.pm.ProviderInfo
import android.provider.OpenableColumns
import java.io.File
import java.io.FileNotFoundException
import org.junit.Assert.assertArrayEquals
import org.junit.Assert.assertEquals
import org.junit.Assert.assertNull
import org.junit.Assert.assertThrows
import org.junit.Assert.assertTrue
import org.junit.Before
import org.junit.Test
import org.junit.runner.RunWith
import org.robolectric.Robolectric
import org.robolectric.RobolectricTestRunner
import org.robolectric.RuntimeEnvironment
import org.robolectric.annotation.Config

@RunWith(RobolectricTestRunner::class)
@Config(sdk = [34])
class OpenedFilesProviderTest {
    private val app = RuntimeEnvironment.getApplication()
    private val resolver = app.contentResolver

    @Before
    fun install() {
        val info = ProviderInfo().apply {
            authority = OpenedFilesProvider.authority(app)
            grantUriPermissions = true
        }
        Robolectric.buildContentProvider(OpenedFilesProvider::class.java).create(info)
        OpenedFilesProvider.forgetAll()
    }

    private fun filesOnDisk(): List<File> =
        listOf(app.filesDir, app.cacheDir).flatMap { dir -> dir.walkTopDown().filter { it.isFile }.toList() }

    @Test
    fun `a viewer gets the name, type and size, and reads at any offset from memory`() {
        val before = filesOnDisk()
        val letter = ByteArray(300_000) { (it % 251).toByte() }
        val uri = OpenedFilesProvider.share(app, "brief-woonbron.pdf", "application/pdf", letter)
        assertTrue("the name is not in the URI", !uri.toString().contains("woonbron"))
        assertEquals("application/pdf", resolver.getType(uri))
        resolver.query(uri, null, null, null, null)!!.use { cursor ->
            cursor.moveToFirst()
            assertEquals("brief-woonbron.pdf", cursor.getString(cursor.getColumnIndexOrThrow(OpenableColumns.DISPLAY_NAME)))
            assertEquals(300_000L, cursor.getLong(cursor.getColumnIndexOrThrow(OpenableColumns.SIZE)))
        }

        // What the platform's proxy asks when a PDF reader seeks to the end first, then reads
        // from the start. (Robolectric cannot mount the proxy itself; a phone does.)
        val served = OpenedFilesProvider.InMemory(letter)
        assertEquals(300_000L, served.onGetSize())
        val buffer = ByteArray(4096)
        assertEquals(300_000 - 299_000, served.onRead(299_000, 4096, buffer))
        assertArrayEquals(letter.copyOfRange(299_000, 300_000), buffer.copyOf(1_000))
        assertEquals(0, served.onRead(300_000, 4096, buffer))
        val whole = java.io.ByteArrayOutputStream()
        var offset = 0L
        while (true) {
            val count = served.onRead(offset, buffer.size, buffer)
            if (count == 0) break
            whole.write(buffer, 0, count)
            offset += count
        }
        assertArrayEquals(letter, whole.toByteArray())
        assertEquals("nothing written to the app's files or cache", before, filesOnDisk())
    }

    @Test
    fun `after the app locks or the time passes the URI reads nothing, and it is never writable`() {
        val uri = OpenedFilesProvider.share(app, "foto.jpg", "image/jpeg", ByteArray(10))
        assertThrows(SecurityException::class.java) { resolver.openOutputStream(uri) }
        OpenedFilesProvider.forgetAll()
        assertThrows(FileNotFoundException::class.java) { resolver.openInputStream(uri) }
        assertNull(resolver.getType(uri))

        val longAgo = OpenedFilesProvider.share(app, "foto.jpg", "image/jpeg", ByteArray(10), now = -OpenedFilesProvider.READABLE_FOR_MILLIS - 1)
        assertThrows(FileNotFoundException::class.java) { resolver.openInputStream(longAgo) }
    }
}
