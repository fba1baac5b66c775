// The connectivity hook: tells the core whether the phone has a network that reaches the
// internet, and whether it is unmetered (Wi-Fi: the team's policy may fetch files then). The
// core decides what to do with it (when to sync, whether to fetch); this only reports.
package nl.eropaf.app.platform

import android.net.ConnectivityManager
import android.net.Network
import android.net.NetworkCapabilities

/** What the shell reports: online at all, and on an unmetered network. */
data class NetworkState(val online: Boolean, val unmetered: Boolean)

class NetworkReporter(
    private val connectivity: ConnectivityManager,
    private val report: (NetworkState) -> Unit,
) {
    private var last: NetworkState? = null
    private val networks = mutableMapOf<Network, NetworkState>()

    private val callback = object : ConnectivityManager.NetworkCallback() {
        override fun onCapabilitiesChanged(network: Network, capabilities: NetworkCapabilities) {
            networks[network] = NetworkState(
                online = capabilities.hasCapability(NetworkCapabilities.NET_CAPABILITY_INTERNET),
                unmetered = capabilities.hasCapability(NetworkCapabilities.NET_CAPABILITY_NOT_METERED),
            )
            tell()
        }

        override fun onLost(network: Network) {
            networks.remove(network)
            tell()
        }
    }

    /** Starts listening; the current state is reported as soon as Android tells it. */
    fun start() {
        connectivity.registerDefaultNetworkCallback(callback)
    }

    fun stop() {
        connectivity.unregisterNetworkCallback(callback)
    }

    private fun tell() {
        val now = NetworkState(
            online = networks.values.any { it.online },
            unmetered = networks.values.any { it.online && it.unmetered },
        )
        if (now != last) {
            last = now
            report(now)
        }
    }
}
