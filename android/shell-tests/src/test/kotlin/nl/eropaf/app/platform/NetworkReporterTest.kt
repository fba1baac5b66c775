// The connectivity hook under Robolectric (Android 14's framework classes from Maven Central):
// networks come and go as Android reports them, and the core hears each change once.
package nl.eropaf.app.platform

import android.net.ConnectivityManager
import android.net.NetworkCapabilities
import org.junit.Assert.assertEquals
import org.junit.Test
import org.junit.runner.RunWith
import org.robolectric.RobolectricTestRunner
import org.robolectric.RuntimeEnvironment
import org.robolectric.Shadows.shadowOf
import org.robolectric.annotation.Config
import org.robolectric.shadows.ShadowNetwork
import org.robolectric.shadows.ShadowNetworkCapabilities

@RunWith(RobolectricTestRunner::class)
@Config(sdk = [34])
class NetworkReporterTest {
    private val connectivity =
        RuntimeEnvironment.getApplication().getSystemService(ConnectivityManager::class.java)

    private fun capabilities(vararg capability: Int): NetworkCapabilities {
        val caps = ShadowNetworkCapabilities.newInstance()
        capability.forEach { shadowOf(caps).addCapability(it) }
        return caps
    }

    @Test
    fun `wifi, then mobile data, then nothing, each reported once`() {
        val heard = mutableListOf<NetworkState>()
        val reporter = NetworkReporter(connectivity) { heard += it }
        reporter.start()
        val callbacks = shadowOf(connectivity).networkCallbacks
        assertEquals(1, callbacks.size)
        val wifi = ShadowNetwork.newInstance(1)
        val mobile = ShadowNetwork.newInstance(2)
        val internet = NetworkCapabilities.NET_CAPABILITY_INTERNET
        val unmetered = NetworkCapabilities.NET_CAPABILITY_NOT_METERED

        callbacks.forEach { it.onCapabilitiesChanged(wifi, capabilities(internet, unmetered)) }
        callbacks.forEach { it.onCapabilitiesChanged(wifi, capabilities(internet, unmetered)) }
        callbacks.forEach { it.onLost(wifi) }
        callbacks.forEach { it.onCapabilitiesChanged(mobile, capabilities(internet)) }
        callbacks.forEach { it.onLost(mobile) }

        assertEquals(
            listOf(
                NetworkState(online = true, unmetered = true),
                NetworkState(online = false, unmetered = false),
                NetworkState(online = true, unmetered = false),
                NetworkState(online = false, unmetered = false),
            ),
            heard,
        )
        reporter.stop()
        assertEquals(0, shadowOf(connectivity).networkCallbacks.size)
    }
}
