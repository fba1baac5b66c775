package nl.eropaf.app

import android.os.Bundle
import androidx.activity.ComponentActivity
import androidx.activity.compose.BackHandler
import androidx.activity.compose.setContent
import androidx.compose.material3.MaterialTheme
import androidx.lifecycle.viewmodel.compose.viewModel
import nl.eropaf.app.ui.AppScaffold

class MainActivity : ComponentActivity() {
    override fun onCreate(savedInstanceState: Bundle?) {
        super.onCreate(savedInstanceState)
        setContent {
            val model: AppModel = viewModel()
            BackHandler(enabled = model.screen != Screen.Cases) { model.screen = Screen.Cases }
            MaterialTheme { AppScaffold(model) }
        }
    }
}
