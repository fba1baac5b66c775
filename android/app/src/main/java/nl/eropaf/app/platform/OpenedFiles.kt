// Hands a file opened from a case to the viewer app the worker picks (a PDF reader, the
// gallery) without ever writing it to disk: the bytes stay in this process and are read from
// memory, for a few minutes, and forgotten when the app locks.
package nl.eropaf.app.platform

import android.content.ContentProvider
import android.content.ContentValues
import android.content.Context
import android.database.Cursor
import android.database.MatrixCursor
import android.net.Uri
import android.os.Handler
import android.os.HandlerThread
import android.os.ParcelFileDescriptor
import android.os.ProxyFileDescriptorCallback
import android.os.SystemClock
import android.os.storage.StorageManager
import android.provider.OpenableColumns
import java.io.FileNotFoundException
import java.util.UUID
import java.util.concurrent.ConcurrentHashMap

class OpenedFilesProvider : ContentProvider() {
    private class Held(val name: String, val mediaType: String, val bytes: ByteArray, val until: Long)

    companion object {
        /** How long a viewer may come back for the bytes (it may read a file more than once). */
        const val READABLE_FOR_MILLIS = 5 * 60 * 1000L
        private val held = ConcurrentHashMap<String, Held>()

        fun authority(context: Context) = "${context.packageName}.files"

        /**
         * A content URI a viewer may read `bytes` from, by a random name (the file's own name
         * says who it is about, so it is given only through the display-name column).
         */
        fun share(context: Context, name: String, mediaType: String, bytes: ByteArray, now: Long = SystemClock.elapsedRealtime()): Uri {
            forgetExpired(now)
            val token = UUID.randomUUID().toString()
            held[token] = Held(name, mediaType, bytes, now + READABLE_FOR_MILLIS)
            return Uri.Builder().scheme("content").authority(authority(context)).appendPath(token).build()
        }

        /** The app locked: no viewer reads anything more. */
        fun forgetAll() = held.clear()

        private fun forgetExpired(now: Long) = held.entries.removeIf { it.value.until <= now }

        private fun find(uri: Uri, now: Long = SystemClock.elapsedRealtime()): Held? {
            forgetExpired(now)
            return uri.lastPathSegment?.let { held[it] }
        }
    }

    override fun onCreate(): Boolean = true

    override fun getType(uri: Uri): String? = find(uri)?.mediaType

    /** The name and size a viewer shows; the only columns a content URI of a file needs. */
    override fun query(
        uri: Uri,
        projection: Array<out String>?,
        selection: String?,
        selectionArgs: Array<out String>?,
        sortOrder: String?,
    ): Cursor? {
        val file = find(uri) ?: return null
        val columns = projection ?: arrayOf(OpenableColumns.DISPLAY_NAME, OpenableColumns.SIZE)
        return MatrixCursor(columns, 1).apply {
            addRow(columns.map { column ->
                when (column) {
                    OpenableColumns.DISPLAY_NAME -> file.name
                    OpenableColumns.SIZE -> file.bytes.size.toLong()
                    else -> null
                }
            })
        }
    }

    /**
     * A descriptor served from memory by the platform (a FUSE-backed proxy): seekable, as PDF
     * readers need, and with no copy of the bytes in any file.
     */
    override fun openFile(uri: Uri, mode: String): ParcelFileDescriptor {
        if (mode != "r") throw SecurityException("opened files are read-only")
        val file = find(uri) ?: throw FileNotFoundException("no longer readable")
        val context = context ?: throw FileNotFoundException("provider not attached")
        val storage = context.getSystemService(StorageManager::class.java)
        val reads = HandlerThread("eropaf-opened-file").apply { start() }
        return storage.openProxyFileDescriptor(ParcelFileDescriptor.MODE_READ_ONLY, InMemory(file.bytes, reads), Handler(reads.looper))
    }

    /** Serves reads at any offset from the bytes in memory; stops its thread when released. */
    class InMemory(private val bytes: ByteArray, private val reads: HandlerThread? = null) : ProxyFileDescriptorCallback() {
        override fun onGetSize(): Long = bytes.size.toLong()

        override fun onRead(offset: Long, size: Int, data: ByteArray): Int {
            if (offset >= bytes.size) return 0
            val count = minOf(size.toLong(), bytes.size - offset).toInt()
            System.arraycopy(bytes, offset.toInt(), data, 0, count)
            return count
        }

        override fun onRelease() {
            reads?.quitSafely()
        }
    }

    override fun insert(uri: Uri, values: ContentValues?): Uri? = throw UnsupportedOperationException()

    override fun delete(uri: Uri, selection: String?, selectionArgs: Array<out String>?): Int =
        throw UnsupportedOperationException()

    override fun update(uri: Uri, values: ContentValues?, selection: String?, selectionArgs: Array<out String>?): Int =
        throw UnsupportedOperationException()
}
