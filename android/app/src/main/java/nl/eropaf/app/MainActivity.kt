// The one activity: the unlock screen while the core is locked, the app otherwise. Going to
// the background locks the store; unlocking asks the platform for the user's presence (the
// phone's PIN, pattern or biometric) and then lets the core read the key again.
package nl.eropaf.app

import android.app.KeyguardManager
import android.content.Intent
import android.os.Bundle
import androidx.activity.ComponentActivity
import androidx.activity.compose.BackHandler
import androidx.activity.compose.setContent
import androidx.activity.result.contract.ActivityResultContracts
import androidx.activity.viewModels
import androidx.compose.material3.MaterialTheme
import androidx.compose.runtime.collectAsState
import androidx.compose.runtime.getValue
import nl.eropaf.app.platform.OpenedFilesProvider
import nl.eropaf.app.ui.AppActions
import nl.eropaf.app.ui.AppScaffold
import nl.eropaf.app.ui.Screen
import nl.eropaf.app.ui.SyncScreen
import nl.eropaf.app.ui.UnlockScreen
import nl.eropaf.presenters.CasePagePresenter

class MainActivity : ComponentActivity() {
    private val model: AppModel by viewModels()

    private val confirmPresence =
        registerForActivityResult(ActivityResultContracts.StartActivityForResult()) { result ->
            if (result.resultCode == RESULT_OK) model.unlock()
        }

    override fun onCreate(savedInstanceState: Bundle?) {
        super.onCreate(savedInstanceState)
        setContent {
            BackHandler(enabled = model.screen != Screen.Cases) { model.screen = Screen.Cases }
            val session by model.session.state.collectAsState()
            MaterialTheme {
                if (session.locked) {
                    UnlockScreen(session.error, ::askForPresence)
                } else {
                    val store = model.session
                    AppScaffold(store.eropaf, model.screen, session.revision, session.error, session.syncState, actions) {
                        SyncScreen(
                            team = store.attempt { store.eropaf.teamInfo() },
                            progress = session.syncProgress,
                            lastSync = session.lastSync,
                            safetyCode = session.safetyCode ?: store.attempt { store.eropaf.joinSafetyCode() },
                            members = store.attempt { store.eropaf.members() }.orEmpty(),
                            onJoin = { model.join(it) },
                            onSync = { model.sync() },
                        )
                    }
                }
            }
        }
    }

    private val actions = object : AppActions {
        override fun show(screen: Screen) {
            model.screen = screen
        }

        /** In the viewer the worker picks, read from memory through OpenedFilesProvider. */
        override fun viewFile(file: CasePagePresenter.FileRow, bytes: ByteArray) {
            val uri = OpenedFilesProvider.share(this@MainActivity, file.name, file.mediaType, bytes)
            val view = Intent(Intent.ACTION_VIEW).setDataAndType(uri, file.mediaType)
                .addFlags(Intent.FLAG_GRANT_READ_URI_PERMISSION)
            startActivity(Intent.createChooser(view, file.name))
        }

        override fun locked() = model.lock()
    }

    override fun onStop() {
        super.onStop()
        model.lock()
    }

    private fun askForPresence() {
        val keyguard = getSystemService(KeyguardManager::class.java)
        // Deprecated for BiometricPrompt, but available from API 21 without a dependency, and
        // it accepts biometric as well as the PIN. Null: the phone has no screen lock, and the
        // key store refuses a key that needs one; its error then shows on the unlock screen.
        @Suppress("DEPRECATION")
        val intent = keyguard.createConfirmDeviceCredentialIntent(
            "Eropaf ontgrendelen",
            "Bevestig dat jij het bent om je casussen te zien.",
        )
        if (intent == null) model.unlock() else confirmPresence.launch(intent)
    }
}
