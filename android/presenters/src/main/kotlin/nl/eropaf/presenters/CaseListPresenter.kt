// The case list's state and actions, in plain Kotlin over the bindings (no Android imports):
// the Compose screen only renders `state`. Tested on the JVM against the real library
// (android/jvm-tests, CaseListPresenterTest).
package nl.eropaf.presenters

import kotlinx.coroutines.flow.MutableStateFlow
import kotlinx.coroutines.flow.StateFlow
import kotlinx.coroutines.flow.asStateFlow
import kotlinx.coroutines.flow.update
import nl.eropaf.core.CaseSummary
import nl.eropaf.core.Eropaf
import nl.eropaf.core.model.Resident

class CaseListPresenter(private val eropaf: Eropaf) {
    /** One case as the list shows it. */
    data class Row(
        val id: String,
        val residentName: String,
        val statusLabel: String,
        val visits: Int,
        /** Work on this phone the team has not received yet. */
        val unsent: Boolean,
    )

    data class State(
        val query: String = "",
        val rows: List<Row> = emptyList(),
        /** "3 wijzigingen wachten op verbinding", or none when nothing waits. */
        val waiting: String? = null,
        /** A Dutch message when the last action failed. */
        val error: String? = null,
        /** The store is locked: the screen shows only the unlock screen. */
        val locked: Boolean = false,
    )

    private val mutableState = MutableStateFlow(State())
    val state: StateFlow<State> = mutableState.asStateFlow()

    /** Reads the list again (after a sync changed cases, or coming back to the screen). */
    fun refresh() = load(mutableState.value.query)

    /**
     * Opens a case for a new resident; only the name is needed. Returns the case to show, or
     * none with the reason on screen (an empty name).
     */
    fun newCase(residentName: String): String? {
        var id: String? = null
        act { id = eropaf.newCase(Resident(name = residentName), null) }
        if (id != null) refresh()
        return id
    }

    /** Filters by resident name, ignoring case and accents; a blank query lists all. */
    fun search(query: String) = load(query)

    /** The typed query stays on screen whatever the list's read brings. */
    private fun load(query: String) {
        mutableState.update { it.copy(query = query) }
        act {
            val cases: List<CaseSummary> =
                if (query.isBlank()) eropaf.cases() else eropaf.search(query.trim())
            val unsent = eropaf.unsentWork()
            val waitingCases = unsent.caseIds.toSet()
            mutableState.value = State(
                query = query,
                rows = cases.map {
                    Row(it.id, it.residentName, it.statusLabel, it.visitCount.toInt(), it.id in waitingCases)
                },
                waiting = waitingText(unsent.changes, unsent.files),
            )
        }
    }

    private fun act(action: () -> Unit) = mutableState.call(
        cleared = { it.copy(error = null, locked = false) },
        locked = { it.copy(locked = true) },
        failed = { state, e -> state.copy(error = e.messageNl) },
        action = action,
    )

    companion object {
        /** What waits for a connection, in Dutch; none when nothing does. */
        fun waitingText(changes: ULong, files: ULong): String? {
            val parts = buildList {
                if (changes > 0uL) add(if (changes == 1uL) "1 wijziging" else "$changes wijzigingen")
                if (files > 0uL) add(if (files == 1uL) "1 bijlage" else "$files bijlagen")
            }
            if (parts.isEmpty()) return null
            val verb = if (changes + files == 1uL) "wacht" else "wachten"
            return "${parts.joinToString(" en ")} $verb op verbinding"
        }
    }
}
