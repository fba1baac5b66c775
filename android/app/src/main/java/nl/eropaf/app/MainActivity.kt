// The one activity: the unlock screen while the core is locked, the app otherwise. Going to
// the background locks the store; unlocking asks the platform for the user's presence (the
// phone's PIN, pattern or biometric) and then lets the core read the key again.
package nl.eropaf.app

import android.app.KeyguardManager
import android.os.Bundle
import androidx.activity.ComponentActivity
import androidx.activity.compose.BackHandler
import androidx.activity.compose.setContent
import androidx.activity.result.contract.ActivityResultContracts
import androidx.activity.viewModels
import androidx.compose.material3.MaterialTheme
import nl.eropaf.app.ui.AppScaffold
import nl.eropaf.app.ui.UnlockScreen

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
            MaterialTheme {
                if (model.locked) UnlockScreen(model, ::askForPresence) else AppScaffold(model)
            }
        }
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
