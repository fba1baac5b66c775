// The Compose screens: case list with search, the case page with its files, recording a visit
// with observations, the checklist flow, sync with progress, and the supervisor's review queue.
// Each screen renders its presenter's state (../presenters, tested on the JVM) and calls its
// actions; no rule is decided here. No Android imports: what only the platform can do (show a
// file in another app, lock) is asked of `AppActions`, so these compile and run on the JVM too.
package nl.eropaf.app.ui

import androidx.compose.foundation.clickable
import androidx.compose.foundation.layout.Arrangement
import androidx.compose.foundation.layout.Column
import androidx.compose.foundation.layout.ColumnScope
import androidx.compose.foundation.layout.Row
import androidx.compose.foundation.layout.fillMaxSize
import androidx.compose.foundation.layout.fillMaxWidth
import androidx.compose.foundation.layout.padding
import androidx.compose.foundation.lazy.LazyColumn
import androidx.compose.foundation.lazy.items
import androidx.compose.foundation.rememberScrollState
import androidx.compose.foundation.verticalScroll
import androidx.compose.material3.Button
import androidx.compose.material3.Checkbox
import androidx.compose.material3.ExperimentalMaterial3Api
import androidx.compose.material3.FilterChip
import androidx.compose.material3.HorizontalDivider
import androidx.compose.material3.LinearProgressIndicator
import androidx.compose.material3.MaterialTheme
import androidx.compose.material3.OutlinedTextField
import androidx.compose.material3.Scaffold
import androidx.compose.material3.Text
import androidx.compose.material3.TextButton
import androidx.compose.material3.TopAppBar
import androidx.compose.runtime.Composable
import androidx.compose.runtime.LaunchedEffect
import androidx.compose.runtime.collectAsState
import androidx.compose.runtime.getValue
import androidx.compose.runtime.mutableStateOf
import androidx.compose.runtime.remember
import androidx.compose.runtime.rememberCoroutineScope
import androidx.compose.runtime.setValue
import androidx.compose.ui.Modifier
import androidx.compose.ui.unit.dp
import java.time.ZoneId
import kotlinx.coroutines.launch
import nl.eropaf.core.Eropaf
import nl.eropaf.core.Member
import nl.eropaf.core.SyncReport
import nl.eropaf.core.SyncState
import nl.eropaf.core.TeamInfo
import nl.eropaf.core.model.LifeDomain
import nl.eropaf.core.model.ReviewAction
import nl.eropaf.core.model.SyncProgress
import nl.eropaf.presenters.CaseListPresenter
import nl.eropaf.presenters.CasePagePresenter
import nl.eropaf.presenters.ChecklistPresenter
import nl.eropaf.presenters.RecordVisitPresenter
import nl.eropaf.presenters.ReviewQueuePresenter
import nl.eropaf.presenters.SyncStatus

/** Where the app is. */
sealed interface Screen {
    data object Cases : Screen
    data class Case(val caseId: String) : Screen
    /** Recording a visit; `visitId` once it is stored, so coming back (after a lock) goes on with it. */
    data class RecordVisit(val caseId: String, val visitId: String? = null) : Screen
    /** An assessment, or a new one of `question` when `assessmentId` is none. */
    data class Checklist(val caseId: String, val assessmentId: String?, val question: String? = null) : Screen
    data object Sync : Screen
    data object Reviews : Screen
}

/** What the screens ask of the app around them. */
interface AppActions {
    fun show(screen: Screen)

    /** Shows a file's bytes in a viewer app (on Android, read from memory, never a file). */
    fun viewFile(file: CasePagePresenter.FileRow, bytes: ByteArray)

    /** A presenter found the store locked: the app shows only the unlock screen. */
    fun locked()
}

/** Shown while the core is locked: nothing of any case, one button. */
@Composable
fun UnlockScreen(error: String?, askForPresence: () -> Unit) {
    Column(Modifier.padding(32.dp).fillMaxSize(), verticalArrangement = Arrangement.Center) {
        Text("Eropaf is vergrendeld", style = MaterialTheme.typography.headlineSmall)
        error?.let { Text(it, color = MaterialTheme.colorScheme.error) }
        Button(onClick = askForPresence) { Text("Ontgrendelen") }
    }
}

/**
 * The app around the screens: navigation, the last error, and the sync status on every screen.
 * `revision` changes when a sync changed cases, so each screen reads the core again. The sync
 * screen is the app's own (it shows joining and the manual sync).
 */
@OptIn(ExperimentalMaterial3Api::class)
@Composable
fun AppScaffold(
    eropaf: Eropaf,
    screen: Screen,
    revision: Int,
    error: String?,
    syncState: SyncState?,
    actions: AppActions,
    zone: ZoneId = ZoneId.systemDefault(),
    syncScreen: @Composable () -> Unit,
) {
    Scaffold(
        topBar = {
            TopAppBar(
                title = { Text("Eropaf") },
                actions = {
                    TextButton(onClick = { actions.show(Screen.Cases) }) { Text("Casussen") }
                    TextButton(onClick = { actions.show(Screen.Reviews) }) { Text("Toetsing") }
                    TextButton(onClick = { actions.show(Screen.Sync) }) { Text("Sync") }
                },
            )
        },
    ) { padding ->
        Column(Modifier.padding(padding).padding(16.dp).fillMaxSize()) {
            error?.let { Text(it, color = MaterialTheme.colorScheme.error) }
            // The background syncer's state, on every screen: a worker sees what waits.
            syncState?.let { state ->
                SyncStatus.lines(state, zone).forEach { Text(it, style = MaterialTheme.typography.bodySmall) }
            }
            when (screen) {
                Screen.Cases -> CaseList(eropaf, revision, actions)
                is Screen.Case -> CasePage(eropaf, screen.caseId, revision, actions, zone)
                is Screen.RecordVisit -> RecordVisit(eropaf, screen, actions)
                is Screen.Checklist -> Checklist(eropaf, screen, revision, actions)
                Screen.Sync -> syncScreen()
                Screen.Reviews -> ReviewQueue(eropaf, revision, actions, zone)
            }
        }
    }
}

/** A presenter's error in the core's Dutch, and a locked store sent to the unlock screen. */
@Composable
private fun Problems(actions: AppActions, error: String?, locked: Boolean) {
    if (locked) LaunchedEffect(Unit) { actions.locked() }
    error?.let { Text(it, color = MaterialTheme.colorScheme.error) }
}

@Composable
fun ColumnScope.CaseList(eropaf: Eropaf, revision: Int, actions: AppActions) {
    val presenter = remember { CaseListPresenter(eropaf) }
    val state by presenter.state.collectAsState()
    // `revision` changes when a sync changed cases: the list reads the core again.
    LaunchedEffect(revision) { presenter.refresh() }
    var newName by remember { mutableStateOf("") }
    Problems(actions, state.error, state.locked)
    OutlinedTextField(state.query, presenter::search, label = { Text("Zoek op naam") }, modifier = Modifier.fillMaxWidth())
    state.waiting?.let { Text(it, style = MaterialTheme.typography.bodySmall) }
    LazyColumn(Modifier.weight(1f)) {
        items(state.rows, key = { it.id }) { row ->
            Column(Modifier.fillMaxWidth().clickable { actions.show(Screen.Case(row.id)) }.padding(vertical = 8.dp)) {
                Text(row.residentName, style = MaterialTheme.typography.titleMedium)
                Text("${row.statusLabel} · ${row.visits} bezoeken")
                if (row.unsent) Text("Wacht op verbinding", style = MaterialTheme.typography.labelSmall)
            }
            HorizontalDivider()
        }
    }
    Row(horizontalArrangement = Arrangement.spacedBy(8.dp)) {
        OutlinedTextField(newName, { newName = it }, label = { Text("Nieuwe bewoner") }, modifier = Modifier.weight(1f))
        Button(onClick = {
            presenter.newCase(newName)?.let {
                newName = ""
                actions.show(Screen.Case(it))
            }
        }) { Text("Nieuw") }
    }
}

@Composable
fun CasePage(eropaf: Eropaf, caseId: String, revision: Int, actions: AppActions, zone: ZoneId) {
    val presenter = remember(caseId) { CasePagePresenter(eropaf, caseId, zone) }
    val state by presenter.state.collectAsState()
    LaunchedEffect(caseId, revision) { presenter.refresh() }
    val scope = rememberCoroutineScope()
    var question by remember { mutableStateOf("") }
    Problems(actions, state.error, state.locked)
    if (state.gone) {
        TextButton(onClick = { actions.show(Screen.Cases) }) { Text("Terug naar de casussen") }
        return
    }
    Column(Modifier.verticalScroll(rememberScrollState())) {
        Text(state.residentName, style = MaterialTheme.typography.headlineSmall)
        Text(state.statusLabel)
        if (state.unsent) Text("Wacht op verbinding", style = MaterialTheme.typography.labelSmall)
        state.conflicts.forEach { Text(it) }
        Button(onClick = { actions.show(Screen.RecordVisit(caseId)) }) { Text("Bezoek vastleggen") }
        Text("Bezoeken", style = MaterialTheme.typography.titleMedium)
        state.visits.forEach { visit ->
            Text(listOfNotNull(visit.at, visit.place).joinToString(" · "), style = MaterialTheme.typography.labelMedium)
            Text(visit.note)
            visit.observations.forEach { Text("• $it") }
        }
        Text("Afwegingen", style = MaterialTheme.typography.titleMedium)
        state.assessments.forEach { a ->
            Column(Modifier.clickable { actions.show(Screen.Checklist(caseId, a.id)) }.padding(vertical = 4.dp)) {
                Text(a.question)
                Text(listOf(a.reviewLabel, a.decision).filter { it.isNotBlank() }.joinToString(" · "))
            }
        }
        OutlinedTextField(question, { question = it }, label = { Text("Nieuwe afweging: de vraag") })
        Button(onClick = { actions.show(Screen.Checklist(caseId, null, question)) }) { Text("Afweging starten") }
        Text("Bijlagen", style = MaterialTheme.typography.titleMedium)
        state.files.forEach { file ->
            Column(Modifier.fillMaxWidth().clickable {
                scope.launch { presenter.openFile(file.id)?.let { actions.viewFile(file, it) } }
            }.padding(vertical = 4.dp)) {
                Text(file.name)
                Text(listOfNotNull(file.caption, file.size, if (file.onDevice) null else "op de relay").joinToString(" · "))
                file.fetching?.let { LinearProgressIndicator(progress = { it }, modifier = Modifier.fillMaxWidth()) }
            }
        }
    }
}

@Composable
fun RecordVisit(eropaf: Eropaf, screen: Screen.RecordVisit, actions: AppActions) {
    val caseId = screen.caseId
    val presenter = remember(caseId) { RecordVisitPresenter(eropaf, caseId) }
    val state by presenter.state.collectAsState()
    // The visit is stored the moment the screen opens; from then on every keystroke is saved.
    // The app keeps its id in the screen, so the screen drawn again after the phone locked
    // goes on with the same visit instead of starting an empty second one.
    LaunchedEffect(caseId) {
        presenter.start(visitId = screen.visitId)
        presenter.state.value.visitId?.takeIf { it != screen.visitId }?.let {
            actions.show(screen.copy(visitId = it))
        }
    }
    var observationText by remember { mutableStateOf("") }
    var domain by remember { mutableStateOf<LifeDomain?>(null) }
    var score by remember { mutableStateOf<UByte?>(null) }
    Problems(actions, state.error, state.locked)
    Column(Modifier.verticalScroll(rememberScrollState())) {
        OutlinedTextField(state.note, presenter::type, label = { Text("Verslag") }, modifier = Modifier.fillMaxWidth())
        Text(if (state.saved) "Opgeslagen" else "Opslaan…", style = MaterialTheme.typography.labelSmall)
        state.observations.forEach { Text("• $it") }
        OutlinedTextField(observationText, { observationText = it }, label = { Text("Observatie") })
        state.domains.chunked(3).forEach { row ->
            Row {
                row.forEach { d ->
                    FilterChip(domain == d.domain, { domain = if (domain == d.domain) null else d.domain }, { Text(d.label) })
                }
            }
        }
        Row {
            (1..5).forEach { n ->
                FilterChip(score?.toInt() == n, { score = if (score?.toInt() == n) null else n.toUByte() }, { Text("$n") })
            }
        }
        TextButton(onClick = {
            presenter.observe(observationText, domain, score)
            if (presenter.state.value.error == null) {
                observationText = ""; domain = null; score = null
            }
        }) { Text("Observatie toevoegen") }
        Button(onClick = { actions.show(Screen.Case(caseId)) }) { Text("Klaar") }
    }
}

@Composable
fun Checklist(eropaf: Eropaf, screen: Screen.Checklist, revision: Int, actions: AppActions) {
    val presenter = remember(screen) { ChecklistPresenter(eropaf, screen.caseId) }
    val state by presenter.state.collectAsState()
    LaunchedEffect(screen, revision) {
        val opened = screen.assessmentId ?: presenter.state.value.assessmentId
        when {
            opened != null -> presenter.open(opened)
            screen.question != null -> presenter.start(screen.question)
        }
    }
    var budget by remember { mutableStateOf("") }
    Problems(actions, state.error, state.locked)
    Column(Modifier.verticalScroll(rememberScrollState())) {
        Text(state.question, style = MaterialTheme.typography.titleMedium)
        Text(state.frameworkTitle, style = MaterialTheme.typography.labelMedium)
        LinearProgressIndicator(progress = { state.fraction }, modifier = Modifier.fillMaxWidth())
        Text(state.progress)
        state.items.forEach { item ->
            Text(
                (if (item.done) "✓ " else "○ ") + item.title,
                Modifier.clickable { presenter.select(item.item) },
            )
        }
        HorizontalDivider()
        val current = state.current
        if (current != null) {
            var text by remember(current.item) { mutableStateOf(current.text) }
            Text(current.heading, style = MaterialTheme.typography.titleSmall)
            Text(current.question)
            current.guidance.forEach { Text("• $it") }
            OutlinedTextField(
                text, { text = it },
                label = { Text(if (current.isValue) "Motivering" else "Antwoord") },
                modifier = Modifier.fillMaxWidth(),
            )
            if (current.isValue) {
                state.verdictChoices.forEach { choice ->
                    TextButton(onClick = { presenter.verdict(choice.verdict, text) }) { Text(choice.label) }
                }
            } else {
                Button(onClick = { presenter.answer(text) }) { Text("Opslaan en verder") }
            }
        } else {
            Row {
                Checkbox(state.maatwerk, { presenter.maatwerk(it, budget) })
                Text("Maatwerk: wijkt af van het standaardbeleid")
            }
            OutlinedTextField(budget, { budget = it }, label = { Text("Budget in euro's (optioneel)") })
            state.budget?.let { Text(it) }
            Button(onClick = { presenter.submit() }, enabled = state.canSubmit) { Text("Indienen") }
        }
        Text(state.reviewLabel, style = MaterialTheme.typography.labelMedium)
        state.reviews.forEach { Text(it) }
        state.missing.forEach { Text("Nog open: $it", style = MaterialTheme.typography.bodySmall) }
        HorizontalDivider()
        Text(state.justification)
    }
}

/**
 * Joining a team (the invitation code, then the safety code to compare) and, once in it, the
 * manual sync with its progress and the team's members.
 */
@Composable
fun SyncScreen(
    team: TeamInfo?,
    progress: SyncProgress?,
    lastSync: SyncReport?,
    safetyCode: String?,
    members: List<Member>,
    onJoin: (code: String) -> Unit,
    onSync: () -> Unit,
) {
    var code by remember { mutableStateOf("") }
    if (team == null) {
        OutlinedTextField(code, { code = it }, label = { Text("Uitnodigingscode") })
        Button(onClick = { onJoin(code) }) { Text("Aanmelden bij het team") }
        if (lastSync?.waitingForApproval == true) {
            safetyCode?.let { shown ->
                Text("Veiligheidscode: $shown")
                Text("Laat deze code zien aan de leidinggevende; die laat dit apparaat pas toe als de code gelijk is.")
            }
            Text("Wacht op toelating door een leidinggevende; synchroniseer later opnieuw.")
            Button(onClick = onSync) { Text("Synchroniseren") }
        }
        return
    }
    Text("${team.teamName} · ${team.relayUrl}")
    Button(onClick = onSync, enabled = progress == null) { Text("Nu synchroniseren") }
    when (progress) {
        SyncProgress.Roster -> Text("Teamlijst bijwerken…")
        is SyncProgress.Pushing -> LinearProgressIndicator(
            progress = { if (progress.total == 0uL) 1f else progress.done.toFloat() / progress.total.toFloat() },
            modifier = Modifier.fillMaxWidth(),
        )
        is SyncProgress.Pulling -> Text("${progress.applied} wijzigingen binnengehaald…")
        is SyncProgress.Uploading -> Text("Bijlagen versturen: ${progress.done} van ${progress.total} delen…")
        null -> lastSync?.let { Text("Verstuurd: ${it.pushed}, ontvangen: ${it.pulled}") }
    }
    members.forEach {
        Text("${it.member} (${it.roleLabel})${if (it.revoked) " — ingetrokken" else ""}")
    }
}

/** The supervisor's review queue: open a decision, read its justification, give a verdict. */
@Composable
fun ReviewQueue(eropaf: Eropaf, revision: Int, actions: AppActions, zone: ZoneId) {
    val presenter = remember { ReviewQueuePresenter(eropaf, zone) }
    val state by presenter.state.collectAsState()
    LaunchedEffect(revision) { presenter.refresh() }
    Problems(actions, state.error, state.locked)
    val open = state.open
    if (open != null) {
        var note by remember(open.assessmentId) { mutableStateOf("") }
        Column(Modifier.verticalScroll(rememberScrollState())) {
            Text(open.resident, style = MaterialTheme.typography.titleMedium)
            open.history.forEach { Text(it, style = MaterialTheme.typography.labelMedium) }
            Text(open.justification)
            OutlinedTextField(note, { note = it }, label = { Text("Toelichting") }, modifier = Modifier.fillMaxWidth())
            Row {
                ReviewAction.entries.forEach { action ->
                    TextButton(onClick = { presenter.decide(action, note) }) { Text(ReviewQueuePresenter.label(action)) }
                }
            }
            TextButton(onClick = presenter::close) { Text("Terug") }
        }
        return
    }
    state.empty?.let { Text(it) }
    LazyColumn {
        items(state.rows, key = { it.assessmentId }) { row ->
            Column(Modifier.fillMaxWidth().clickable { presenter.open(row) }.padding(vertical = 8.dp)) {
                Text("${row.resident}: ${row.question}")
                Text("${row.statusLabel} · ${row.details}")
            }
            HorizontalDivider()
        }
    }
}
