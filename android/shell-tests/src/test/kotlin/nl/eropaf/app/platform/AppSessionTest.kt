// The app's session with the core under Robolectric, on the real library: the first start
// makes the store in the app's files and opens it; going to the background locks it and
// forgets files handed to a viewer; the network Android reports reaches the core's syncer.
package nl.eropaf.app.platform

import android.content.pm.ProviderInfo
import android.net.ConnectivityManager
import android.net.NetworkCapabilities
import java.io.FileNotFoundException
import kotlinx.coroutines.CoroutineScope
import kotlinx.coroutines.Dispatchers
import kotlinx.coroutines.cancel
import kotlinx.coroutines.runBlocking
import nl.eropaf.core.EropafException
import nl.eropaf.core.KeyStore
import nl.eropaf.core.model.Resident
import org.junit.After
import org.junit.Assert.assertEquals
import org.junit.Assert.assertFalse
import org.junit.Assert.assertNotNull
import org.junit.Assert.assertThrows
import org.junit.Assert.assertTrue
import org.junit.Test
import org.junit.runner.RunWith
import org.robolectric.Robolectric
import org.robolectric.RobolectricTestRunner
import org.robolectric.RuntimeEnvironment
import org.robolectric.Shadows.shadowOf
import org.robolectric.annotation.Config
import org.robolectric.shadows.ShadowNetwork
import org.robolectric.shadows.ShadowNetworkCapabilities

@RunWith(RobolectricTestRunner::class)
@Config(sdk = [34])
class AppSessionTest {
    private val app = RuntimeEnvironment.getApplication()
    private val scope = CoroutineScope(Dispatchers.Default)

    /** The store key in memory, as AndroidKeyStoreKeys keeps it wrapped by the Android Keystore. */
    private class MemoryKeys : KeyStore {
        var key: ByteArray? = null
        override fun loadKey(): ByteArray? = key
        override fun saveKey(key: ByteArray) { this.key = key.copyOf() }
    }

    /** What AndroidKeyStoreKeys throws while the user has not confirmed her presence. */
    private class NotConfirmed : KeyStore {
        override fun loadKey(): ByteArray? = throw EropafException.Locked("Bevestig met je vingerafdruk, gezicht of pincode.")
        override fun saveKey(key: ByteArray) = throw EropafException.Locked("Bevestig met je vingerafdruk, gezicht of pincode.")
    }

    private val keys = MemoryKeys()

    init {
        // The provider the manifest declares, so a viewer's reads reach it.
        val info = ProviderInfo().apply { authority = OpenedFilesProvider.authority(app) }
        Robolectric.buildContentProvider(OpenedFilesProvider::class.java).create(info)
    }
    private val session = AppSession(app, keys, scope, deviceName = "Pixel van Sanne")

    @After
    fun close() {
        session.close()
        scope.cancel()
    }

    private fun waitFor(what: String, condition: () -> Boolean) {
        val until = System.nanoTime() + 10_000_000_000L
        while (!condition()) {
            check(System.nanoTime() < until) { "waited 10 s for $what" }
            Thread.sleep(10)
        }
    }

    @Test
    fun `the first start makes the store in the app's files and a lock shows only the unlock screen`() = runBlocking {
        assertTrue("locked before anything is opened", session.state.value.locked)
        session.unlock()
        assertFalse(session.state.value.locked)
        assertTrue(session.directory.startsWith(app.filesDir))
        assertTrue(session.directory.isDirectory)
        assertNotNull("the store key went to the key store", keys.key)
        assertEquals("Pixel van Sanne", session.eropaf.deviceName())
        val caseId = session.eropaf.newCase(Resident(name = "Aïsha El Amrani"), null)
        val opened = OpenedFilesProvider.share(app, "brief.pdf", "application/pdf", ByteArray(10))

        session.lock()
        assertTrue(session.state.value.locked)
        assertThrows(EropafException.Locked::class.java) { session.eropaf.cases() }
        assertThrows("a viewer reads nothing after the lock", FileNotFoundException::class.java) {
            app.contentResolver.openInputStream(opened)
        }
        assertEquals(null, session.attempt { session.eropaf.cases() })
        assertTrue(session.state.value.locked)

        session.unlock()
        assertFalse(session.state.value.locked)
        assertEquals(listOf(caseId), session.eropaf.cases().map { it.id })
    }

    @Test
    fun `without the user's confirmation the session stays locked and shows no error`() = runBlocking {
        val waiting = AppSession(app, NotConfirmed(), scope)
        waiting.unlock()
        assertTrue(waiting.state.value.locked)
        assertEquals(null, waiting.state.value.error)
        waiting.close()
    }

    @Test
    fun `the network Android reports reaches the core's syncer, which the status line shows`() = runBlocking {
        session.unlock()
        val connectivity = app.getSystemService(ConnectivityManager::class.java)
        val callbacks = shadowOf(connectivity).networkCallbacks
        assertEquals("the session listens for networks", 1, callbacks.size)
        val wifi = ShadowNetwork.newInstance(1)
        val caps = ShadowNetworkCapabilities.newInstance().also {
            shadowOf(it).addCapability(NetworkCapabilities.NET_CAPABILITY_INTERNET)
            shadowOf(it).addCapability(NetworkCapabilities.NET_CAPABILITY_NOT_METERED)
        }
        callbacks.forEach { it.onCapabilitiesChanged(wifi, caps) }
        waitFor("the syncer to hear the phone is online") { session.state.value.syncState?.online == true }
        callbacks.forEach { it.onLost(wifi) }
        waitFor("the syncer to hear the phone is offline") { session.state.value.syncState?.online == false }

        session.close()
        assertEquals("closing stops listening", 0, shadowOf(connectivity).networkCallbacks.size)
    }
}
