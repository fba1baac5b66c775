// The Compose screens: case list with search, case detail, recording a visit with
// observations, the checklist flow, sync with progress, and the supervisor's review queue.
// Each screen reads the core and submits to it; what to show next is the core's answer.
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
import androidx.compose.runtime.getValue
import androidx.compose.runtime.mutableStateListOf
import androidx.compose.runtime.mutableStateOf
import androidx.compose.runtime.remember
import androidx.compose.runtime.setValue
import androidx.compose.ui.Modifier
import androidx.compose.ui.unit.dp
import nl.eropaf.app.AppModel
import nl.eropaf.app.Screen
import nl.eropaf.core.ChecklistItem
import nl.eropaf.core.NewObservation
import nl.eropaf.core.NewVisit
import nl.eropaf.core.lifeDomains
import nl.eropaf.core.model.Resident
import nl.eropaf.core.model.SyncProgress
import nl.eropaf.core.verdicts

/** Shown while the core is locked: nothing of any case, one button. */
@Composable
fun UnlockScreen(model: AppModel, askForPresence: () -> Unit) {
    Column(Modifier.padding(32.dp).fillMaxSize(), verticalArrangement = Arrangement.Center) {
        Text("Eropaf is vergrendeld", style = MaterialTheme.typography.headlineSmall)
        model.error?.let { Text(it, color = MaterialTheme.colorScheme.error) }
        Button(onClick = askForPresence) { Text("Ontgrendelen") }
    }
}

@OptIn(ExperimentalMaterial3Api::class)
@Composable
fun AppScaffold(model: AppModel) {
    Scaffold(
        topBar = {
            TopAppBar(
                title = { Text("Eropaf") },
                actions = {
                    TextButton(onClick = { model.screen = Screen.Cases }) { Text("Casussen") }
                    TextButton(onClick = { model.screen = Screen.Reviews }) { Text("Toetsing") }
                    TextButton(onClick = { model.screen = Screen.Sync }) { Text("Sync") }
                },
            )
        },
    ) { padding ->
        Column(Modifier.padding(padding).padding(16.dp).fillMaxSize()) {
            model.error?.let { Text(it, color = MaterialTheme.colorScheme.error) }
            // Reading `revision` makes every screen read the core again after a sync.
            model.revision
            when (val screen = model.screen) {
                Screen.Cases -> CaseList(model)
                is Screen.Case -> CaseDetail(model, screen.caseId)
                is Screen.RecordVisit -> RecordVisit(model, screen.caseId)
                is Screen.Checklist -> Checklist(model, screen.caseId, screen.assessmentId)
                Screen.Sync -> SyncScreen(model)
                Screen.Reviews -> ReviewQueue(model)
            }
        }
    }
}

@Composable
fun ColumnScope.CaseList(model: AppModel) {
    var query by remember { mutableStateOf("") }
    var newName by remember { mutableStateOf("") }
    OutlinedTextField(query, { query = it }, label = { Text("Zoek op naam") }, modifier = Modifier.fillMaxWidth())
    val cases = model.attempt { if (query.isBlank()) model.eropaf.cases() else model.eropaf.search(query) }.orEmpty()
    LazyColumn(Modifier.weight(1f)) {
        items(cases, key = { it.id }) { case ->
            Column(Modifier.fillMaxWidth().clickable { model.screen = Screen.Case(case.id) }.padding(vertical = 8.dp)) {
                Text(case.residentName, style = MaterialTheme.typography.titleMedium)
                Text("${case.statusLabel} · ${case.visitCount} bezoeken · ${case.assessmentCount} afwegingen")
                if (case.conflictCount > 0u) Text("${case.conflictCount} velden in conflict")
            }
            HorizontalDivider()
        }
    }
    Row(horizontalArrangement = Arrangement.spacedBy(8.dp)) {
        OutlinedTextField(newName, { newName = it }, label = { Text("Nieuwe bewoner") }, modifier = Modifier.weight(1f))
        Button(onClick = {
            model.attempt { model.eropaf.newCase(Resident(name = newName), null) }?.let {
                newName = ""
                model.screen = Screen.Case(it)
            }
        }) { Text("Nieuw") }
    }
}

@Composable
fun CaseDetail(model: AppModel, caseId: String) {
    val case = model.attempt { model.eropaf.caseDetail(caseId) } ?: return
    var question by remember { mutableStateOf("") }
    Column(Modifier.verticalScroll(rememberScrollState())) {
        Text(case.resident.name, style = MaterialTheme.typography.headlineSmall)
        Text(case.statusLabel)
        case.conflicts.forEach { Text("Conflict in ${it.path}: ${it.values.joinToString(" / ")}") }
        Button(onClick = { model.screen = Screen.RecordVisit(caseId) }) { Text("Bezoek vastleggen") }
        Text("Bezoeken", style = MaterialTheme.typography.titleMedium)
        case.visits.forEach { visit ->
            Text("${visit.at} ${visit.place.orEmpty()}", style = MaterialTheme.typography.labelMedium)
            Text(visit.note)
            visit.observations.forEach { o ->
                Text("• ${listOfNotNull(o.domainLabel, o.scoreLabel).joinToString(", ")} ${o.text}")
            }
        }
        Text("Afwegingen", style = MaterialTheme.typography.titleMedium)
        case.assessments.forEach { a ->
            Text(a.question, Modifier.clickable { model.screen = Screen.Checklist(caseId, a.id) })
        }
        OutlinedTextField(question, { question = it }, label = { Text("Nieuwe afweging: de vraag") })
        Button(onClick = {
            model.attempt { model.eropaf.startAssessment(caseId, question, null) }
                ?.let { model.screen = Screen.Checklist(caseId, it) }
        }) { Text("Afweging starten") }
        Text("Toetsing", style = MaterialTheme.typography.titleMedium)
        case.reviews.forEach { Text("${it.verdictLabel}: ${it.note}") }
    }
}

@Composable
fun RecordVisit(model: AppModel, caseId: String) {
    var note by remember { mutableStateOf("") }
    var place by remember { mutableStateOf("") }
    var observationText by remember { mutableStateOf("") }
    var domainIndex by remember { mutableStateOf<Int?>(null) }
    var score by remember { mutableStateOf<UByte?>(null) }
    val observations = remember { mutableStateListOf<NewObservation>() }
    val domains = remember { lifeDomains() }
    Column(Modifier.verticalScroll(rememberScrollState())) {
        OutlinedTextField(note, { note = it }, label = { Text("Verslag") }, modifier = Modifier.fillMaxWidth())
        OutlinedTextField(place, { place = it }, label = { Text("Plaats (optioneel)") })
        observations.forEach { Text("• ${it.text}") }
        OutlinedTextField(observationText, { observationText = it }, label = { Text("Observatie") })
        domains.chunked(3).forEach { row ->
            Row { row.forEach { d ->
                val index = domains.indexOf(d)
                FilterChip(domainIndex == index, { domainIndex = if (domainIndex == index) null else index }, { Text(d.label) })
            } }
        }
        Row { (1..5).forEach { n ->
            FilterChip(score?.toInt() == n, { score = if (score?.toInt() == n) null else n.toUByte() }, { Text("$n") })
        } }
        TextButton(onClick = {
            observations += NewObservation(observationText, domainIndex?.let { domains[it].domain }, score)
            observationText = ""; domainIndex = null; score = null
        }) { Text("Observatie toevoegen") }
        Button(onClick = {
            val visit = NewVisit(note = note, place = place.ifBlank { null }, observations = observations.toList())
            model.attempt { model.eropaf.recordVisit(caseId, visit) }?.let { model.screen = Screen.Case(caseId) }
        }) { Text("Opslaan") }
    }
}

@Composable
fun Checklist(model: AppModel, caseId: String, assessmentId: String) {
    var refresh by remember { mutableStateOf(0) }
    refresh
    val view = model.attempt { model.eropaf.assessment(caseId, assessmentId) } ?: return
    var text by remember(view.progress.next) { mutableStateOf("") }
    var maatwerk by remember { mutableStateOf(view.maatwerk) }
    Column(Modifier.verticalScroll(rememberScrollState())) {
        Text(view.question, style = MaterialTheme.typography.titleMedium)
        LinearProgressIndicator(
            progress = { view.progress.answered.toFloat() / view.progress.total.toFloat() },
            modifier = Modifier.fillMaxWidth(),
        )
        when (val next = view.progress.next) {
            is ChecklistItem.Step -> {
                val step = view.steps.first { it.step.key == next.key }.step
                Text("Stap ${step.number}: ${step.title}", style = MaterialTheme.typography.titleSmall)
                Text(step.question)
                step.guidance.forEach { Text("• $it") }
                OutlinedTextField(text, { text = it }, modifier = Modifier.fillMaxWidth())
                Button(onClick = {
                    model.attempt { model.eropaf.answer(caseId, assessmentId, next, text) }?.let { refresh++ }
                }) { Text("Volgende") }
            }
            is ChecklistItem.Value -> {
                val value = view.values.first { it.value.key == next.key }.value
                Text(value.title, style = MaterialTheme.typography.titleSmall)
                Text(value.description)
                value.questions.forEach { Text("• $it") }
                OutlinedTextField(text, { text = it }, label = { Text("Motivering") }, modifier = Modifier.fillMaxWidth())
                verdicts().forEach { v ->
                    TextButton(onClick = {
                        model.attempt { model.eropaf.setVerdict(caseId, assessmentId, next.key, v.verdict, text) }
                            ?.let { refresh++ }
                    }) { Text(v.label) }
                }
            }
            ChecklistItem.Decision -> {
                Text("Het voorgestelde besluit", style = MaterialTheme.typography.titleSmall)
                OutlinedTextField(text, { text = it }, modifier = Modifier.fillMaxWidth())
                Button(onClick = {
                    model.attempt { model.eropaf.answer(caseId, assessmentId, next, text) }?.let { refresh++ }
                }) { Text("Besluit vastleggen") }
            }
            null -> Row {
                Checkbox(maatwerk, {
                    maatwerk = it
                    model.attempt { model.eropaf.setMaatwerk(caseId, assessmentId, it, view.budgetCents) }
                })
                Text("Maatwerk: wijkt af van het standaardbeleid")
            }
        }
        view.progress.missing.forEach { Text("Nog open: ${it.reason}", style = MaterialTheme.typography.bodySmall) }
        HorizontalDivider()
        Text(view.justification)
    }
}

@Composable
fun SyncScreen(model: AppModel) {
    val team = model.attempt { model.eropaf.teamInfo() }
    var code by remember { mutableStateOf("") }
    if (team == null) {
        OutlinedTextField(code, { code = it }, label = { Text("Uitnodigingscode") })
        Button(onClick = { model.join(code) }) { Text("Aanmelden bij het team") }
        model.lastSync?.takeIf { it.waitingForApproval }?.let {
            (model.safetyCode ?: model.attempt { model.eropaf.joinSafetyCode() })?.let { shown ->
                Text("Veiligheidscode: $shown")
                Text("Laat deze code zien aan de leidinggevende; die laat dit apparaat pas toe als de code gelijk is.")
            }
            Text("Wacht op toelating door een leidinggevende; synchroniseer later opnieuw.")
            Button(onClick = { model.sync() }) { Text("Synchroniseren") }
        }
        return
    }
    Text("${team.teamName} · ${team.relayUrl}")
    Button(onClick = { model.sync() }, enabled = model.syncProgress == null) { Text("Synchroniseren") }
    when (val p = model.syncProgress) {
        SyncProgress.Roster -> Text("Teamlijst bijwerken…")
        is SyncProgress.Pushing -> LinearProgressIndicator(
            progress = { if (p.total == 0uL) 1f else p.done.toFloat() / p.total.toFloat() },
            modifier = Modifier.fillMaxWidth(),
        )
        is SyncProgress.Pulling -> Text("${p.applied} wijzigingen binnengehaald…")
        is SyncProgress.Uploading -> Text("Bijlagen versturen: ${p.done} van ${p.total} delen…")
        null -> model.lastSync?.let { Text("Verstuurd: ${it.pushed}, ontvangen: ${it.pulled}") }
    }
    model.syncState?.let { state ->
        state.lastSyncedAt?.let {
            val at = java.time.ZonedDateTime.ofInstant(it, java.time.ZoneId.systemDefault())
            Text("Laatst gesynchroniseerd ${at.format(java.time.format.DateTimeFormatter.ofPattern("HH:mm"))}")
        }
        if (state.unsentChanges > 0uL) Text("${state.unsentChanges} wijzigingen wachten op verbinding")
        if (state.unsentFiles > 0uL) Text("${state.unsentFiles} bijlagen wachten op verbinding")
        state.lastError?.let { Text("Synchroniseren lukte niet: $it") }
    }
    model.attempt { model.eropaf.members() }.orEmpty().forEach {
        Text("${it.member} (${it.roleLabel})${if (it.revoked) " — ingetrokken" else ""}")
    }
}

/** The supervisor's review queue, as the core orders it; a verdict is given on the checklist. */
@Composable
fun ReviewQueue(model: AppModel) {
    val queue = model.attempt { model.eropaf.reviewQueue() }.orEmpty()
    LazyColumn {
        items(queue, key = { it.assessmentId }) { item ->
            Column(Modifier.clickable { model.screen = Screen.Checklist(item.caseId, item.assessmentId) }.padding(vertical = 8.dp)) {
                Text("${item.resident}: ${item.question}")
                Text("${item.status.label} · ${item.rung}")
            }
        }
    }
}
