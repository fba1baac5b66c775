// The app's state: the one Eropaf object, which screen shows, and the sync state. No rules
// live here; each screen's state is its presenter's (../presenters), every list, label and
// check comes from the core, and errors are shown with the Dutch sentence the core wrote.
package nl.eropaf.app

import android.app.Application
import androidx.compose.runtime.getValue
import androidx.compose.runtime.mutableStateOf
import androidx.compose.runtime.setValue
import androidx.lifecycle.AndroidViewModel
import androidx.lifecycle.viewModelScope
import kotlinx.coroutines.launch
import android.net.ConnectivityManager
import nl.eropaf.app.platform.AndroidKeyStoreKeys
import nl.eropaf.app.platform.NetworkReporter
import nl.eropaf.app.platform.OpenedFilesProvider
import nl.eropaf.app.ui.Screen
import nl.eropaf.core.ChangeObserver
import nl.eropaf.core.Eropaf
import nl.eropaf.core.EropafException
import nl.eropaf.core.SyncListener
import nl.eropaf.core.SyncReport
import nl.eropaf.core.SyncState
import nl.eropaf.core.SyncStateObserver
import nl.eropaf.core.Unlock
import nl.eropaf.core.model.SyncProgress
import nl.eropaf.presenters.messageNl

class AppModel(application: Application) : AndroidViewModel(application) {
    private val keys = AndroidKeyStoreKeys(application)
    private var opened: Eropaf? = null

    /** The store, or Locked while the app has not opened it yet. */
    val eropaf: Eropaf
        get() = opened ?: throw EropafException.Locked("Eropaf is vergrendeld. Ontgrendel om verder te gaan.")

    /**
     * True while the core holds no store key (the team's idle time passed, the app went to the
     * background, or the user was not confirmed yet): the app shows only the unlock screen.
     */
    var locked: Boolean by mutableStateOf(true)

    var screen: Screen by mutableStateOf(Screen.Cases)
    var error: String? by mutableStateOf(null)
    /** Bumped when a sync changed cases, so screens read the core again. */
    var revision: Int by mutableStateOf(0)
    var syncProgress: SyncProgress? by mutableStateOf(null)
    var lastSync: SyncReport? by mutableStateOf(null)
    /** The background syncer's state: last sync, what waits for a connection, failures. */
    var syncState: SyncState? by mutableStateOf(null)
    private var network: NetworkReporter? = null
    /** The code this phone shows after asking to join; the supervisor compares it. */
    var safetyCode: String? by mutableStateOf(null)

    init {
        unlock()
    }

    /**
     * Opens or unlocks the store. The key store hands out the key only shortly after the user
     * confirmed biometric or PIN (or unlocked the phone); otherwise this stays locked.
     */
    fun unlock() = viewModelScope.launch {
        try {
            val store = opened
            if (store == null) {
                opened = openStore(getApplication(), keys).also {
                    observe(it)
                    syncByItself(it)
                }
            } else {
                store.unlock(Unlock.PlatformKeyStore(keys))
            }
            opened?.reportInUse(true)
            locked = false
            error = null
        } catch (e: EropafException.Locked) {
            locked = true
        } catch (e: EropafException) {
            error = e.messageNl
        }
    }

    /**
     * The app went to the background: the store key leaves memory, and so do files handed to
     * a viewer; a running sync finishes.
     */
    fun lock() {
        opened?.reportInUse(false)
        opened?.lock()
        OpenedFilesProvider.forgetAll()
        locked = true
    }

    /** The core decides when to sync; this reports only the network and shows the state. */
    private fun syncByItself(store: Eropaf) {
        store.startAutoSync(null, object : SyncStateObserver {
            override fun onState(state: SyncState) {
                viewModelScope.launch { syncState = state }
            }
        })
        val connectivity = getApplication<Application>().getSystemService(ConnectivityManager::class.java)
        network = NetworkReporter(connectivity) { now ->
            store.reportNetwork(now.online)
            if (now.unmetered) {
                // The team's policy decides whether files come down on Wi-Fi.
                viewModelScope.launch { runCatching { store.fetchFiles(true, null) } }
            }
        }.also { it.start() }
    }

    private fun observe(store: Eropaf) = store.setChangeObserver(object : ChangeObserver {
        override fun casesChanged(caseIds: List<String>) {
            viewModelScope.launch { revision += 1 }
        }
    })

    /** Runs a core call; a typed error becomes the Dutch message on screen. */
    fun <T> attempt(call: () -> T): T? = try {
        call().also { error = null }
    } catch (e: EropafException.Locked) {
        locked = true
        null
    } catch (e: EropafException) {
        error = e.messageNl
        null
    }

    fun sync() = viewModelScope.launch {
        try {
            lastSync = eropaf.sync(object : SyncListener {
                override fun onProgress(progress: SyncProgress) {
                    viewModelScope.launch { syncProgress = progress }
                }
            })
            error = null
        } catch (e: EropafException) {
            error = e.messageNl
        } finally {
            syncProgress = null
        }
    }

    /** Asks to join with an invitation code and shows the safety code the supervisor compares. */
    fun join(code: String) = viewModelScope.launch {
        try {
            safetyCode = eropaf.join(code)
            lastSync = eropaf.sync(null)
            error = null
        } catch (e: EropafException) {
            error = e.messageNl
        }
    }

    override fun onCleared() {
        network?.stop()
        opened?.stopAutoSync()
        opened?.close()
    }

    private companion object {
        fun openStore(application: Application, keys: AndroidKeyStoreKeys): Eropaf {
            val dir = application.filesDir.resolve("eropaf").path
            val unlock = Unlock.PlatformKeyStore(keys)
            return try {
                Eropaf.open(dir, unlock)
            } catch (e: EropafException.NoStore) {
                Eropaf.create(dir, unlock, android.os.Build.MODEL)
            }
        }
    }
}
