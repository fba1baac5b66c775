// The app's view model: the session with the core (platform/AppSession, compiled and tested
// here) kept across configuration changes, and which screen shows. No rules live here; each
// screen's state is its presenter's (../presenters).
package nl.eropaf.app

import android.app.Application
import androidx.compose.runtime.getValue
import androidx.compose.runtime.mutableStateOf
import androidx.compose.runtime.setValue
import androidx.lifecycle.AndroidViewModel
import androidx.lifecycle.viewModelScope
import kotlinx.coroutines.launch
import nl.eropaf.app.platform.AndroidKeyStoreKeys
import nl.eropaf.app.platform.AppSession
import nl.eropaf.app.ui.Screen

class AppModel(application: Application) : AndroidViewModel(application) {
    val session = AppSession(application, AndroidKeyStoreKeys(application), viewModelScope)

    var screen: Screen by mutableStateOf(Screen.Cases)

    init {
        unlock()
    }

    fun unlock() = viewModelScope.launch { session.unlock() }

    fun lock() = session.lock()

    fun sync() = viewModelScope.launch { session.sync() }

    fun join(code: String) = viewModelScope.launch { session.join(code) }

    override fun onCleared() = session.close()
}
