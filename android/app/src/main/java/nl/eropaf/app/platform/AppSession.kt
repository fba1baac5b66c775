// The app's session with the core as Android runs it: opens (the first time, creates) the store
// in the app's files through the platform key store, starts the core's background syncer and
// the connectivity hook, locks when the app goes to the background, and holds what the screens
// show around them. Plain Android and coroutines, no AndroidX, so it is compiled and tested here.
package nl.eropaf.app.platform

import android.content.Context
import android.net.ConnectivityManager
import android.os.Build
import java.io.File
import kotlinx.coroutines.CoroutineScope
import kotlinx.coroutines.flow.MutableStateFlow
import kotlinx.coroutines.flow.StateFlow
import kotlinx.coroutines.flow.asStateFlow
import kotlinx.coroutines.flow.update
import kotlinx.coroutines.launch
import nl.eropaf.core.ChangeObserver
import nl.eropaf.core.Eropaf
import nl.eropaf.core.EropafException
import nl.eropaf.core.KeyStore
import nl.eropaf.core.SyncListener
import nl.eropaf.core.SyncReport
import nl.eropaf.core.SyncState
import nl.eropaf.core.SyncStateObserver
import nl.eropaf.core.Unlock
import nl.eropaf.core.model.SyncProgress
import nl.eropaf.presenters.messageNl

class AppSession(
    private val context: Context,
    private val keys: KeyStore,
    /** Where fetching files on Wi-Fi runs: the app's view-model scope. */
    private val scope: CoroutineScope,
    private val deviceName: String = Build.MODEL,
) {
    data class State(
        /**
         * The core holds no store key (the team's idle time passed, the app went to the
         * background, or the user was not confirmed yet): the app shows only the unlock screen.
         */
        val locked: Boolean = true,
        val error: String? = null,
        /** Bumped when a sync changed cases, so screens read the core again. */
        val revision: Int = 0,
        /** The background syncer's state: last sync, what waits for a connection, failures. */
        val syncState: SyncState? = null,
        val syncProgress: SyncProgress? = null,
        val lastSync: SyncReport? = null,
        /** The code this phone shows after asking to join; the supervisor compares it. */
        val safetyCode: String? = null,
    )

    private val mutableState = MutableStateFlow(State())
    val state: StateFlow<State> = mutableState.asStateFlow()
    private var opened: Eropaf? = null
    private var network: NetworkReporter? = null

    /** The store, or Locked while the app has not opened it yet. */
    val eropaf: Eropaf
        get() = opened ?: throw EropafException.Locked("Eropaf is vergrendeld. Ontgrendel om verder te gaan.")

    /** Where the store lives: the app's private files, never backed up (see the manifest). */
    val directory: File get() = context.filesDir.resolve("eropaf")

    /**
     * Opens or unlocks the store. The key store hands out the key only shortly after the user
     * confirmed biometric or PIN (or unlocked the phone); otherwise this stays locked.
     */
    suspend fun unlock() {
        try {
            val store = opened
            if (store == null) {
                opened = open().also {
                    observe(it)
                    syncByItself(it)
                }
            } else {
                store.unlock(Unlock.PlatformKeyStore(keys))
            }
            opened?.reportInUse(true)
            mutableState.update { it.copy(locked = false, error = null) }
        } catch (e: EropafException.Locked) {
            mutableState.update { it.copy(locked = true) }
        } catch (e: EropafException) {
            mutableState.update { it.copy(error = e.messageNl) }
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
        mutableState.update { it.copy(locked = true) }
    }

    /** Runs a core call; a typed error becomes the Dutch message on screen. */
    fun <T> attempt(call: () -> T): T? = try {
        call().also { mutableState.update { it.copy(error = null) } }
    } catch (e: EropafException.Locked) {
        mutableState.update { it.copy(locked = true) }
        null
    } catch (e: EropafException) {
        mutableState.update { it.copy(error = e.messageNl) }
        null
    }

    /** The worker's own "sync now", with its progress for the sync screen. */
    suspend fun sync() {
        try {
            val report = eropaf.sync(object : SyncListener {
                override fun onProgress(progress: SyncProgress) {
                    mutableState.update { it.copy(syncProgress = progress) }
                }
            })
            mutableState.update { it.copy(lastSync = report, error = null) }
        } catch (e: EropafException) {
            mutableState.update { it.copy(error = e.messageNl) }
        } finally {
            mutableState.update { it.copy(syncProgress = null) }
        }
    }

    /** Asks to join with an invitation code and shows the safety code the supervisor compares. */
    suspend fun join(code: String) {
        try {
            val shown = eropaf.join(code)
            mutableState.update { it.copy(safetyCode = shown) }
            val report = eropaf.sync(null)
            mutableState.update { it.copy(lastSync = report, error = null) }
        } catch (e: EropafException) {
            mutableState.update { it.copy(error = e.messageNl) }
        }
    }

    fun close() {
        network?.stop()
        opened?.stopAutoSync()
        opened?.close()
        opened = null
    }

    private fun open(): Eropaf {
        val unlock = Unlock.PlatformKeyStore(keys)
        return try {
            Eropaf.open(directory.path, unlock)
        } catch (e: EropafException.NoStore) {
            Eropaf.create(directory.path, unlock, deviceName)
        }
    }

    /** The core decides when to sync; this reports only the network and shows the state. */
    private fun syncByItself(store: Eropaf) {
        store.startAutoSync(null, object : SyncStateObserver {
            override fun onState(state: SyncState) {
                mutableState.update { it.copy(syncState = state) }
            }
        })
        val connectivity = context.getSystemService(ConnectivityManager::class.java)
        network = NetworkReporter(connectivity) { now ->
            store.reportNetwork(now.online)
            if (now.unmetered) {
                // The team's policy decides whether files come down on Wi-Fi.
                scope.launch { runCatching { store.fetchFiles(true, null) } }
            }
        }.also { it.start() }
    }

    private fun observe(store: Eropaf) = store.setChangeObserver(object : ChangeObserver {
        override fun casesChanged(caseIds: List<String>) {
            mutableState.update { it.copy(revision = it.revision + 1) }
        }
    })
}
