// The sync state as the app's status line says it, in Dutch: when the phone last synced,
// what waits for a connection, and why the last try failed. Plain Kotlin, tested on the JVM.
package nl.eropaf.presenters

import java.time.ZoneId
import java.time.ZonedDateTime
import java.time.format.DateTimeFormatter
import nl.eropaf.core.SyncState

object SyncStatus {
    private val clock = DateTimeFormatter.ofPattern("HH:mm")
    private val day = DateTimeFormatter.ofPattern("d-M HH:mm")

    /** The status lines, most important first. */
    fun lines(state: SyncState, zone: ZoneId, today: ZonedDateTime = ZonedDateTime.now(zone)): List<String> =
        buildList {
            when {
                state.syncing -> add("Synchroniseren…")
                !state.online -> add("Geen verbinding: wat je vastlegt blijft op deze telefoon tot er weer verbinding is")
                state.lastSyncedAt != null -> {
                    val at = ZonedDateTime.ofInstant(state.lastSyncedAt, zone)
                    val shown = if (at.toLocalDate() == today.toLocalDate()) at.format(clock) else at.format(day)
                    add("Laatst gesynchroniseerd $shown")
                }
                else -> add("Nog niet gesynchroniseerd")
            }
            CaseListPresenter.waitingText(state.unsentChanges, state.unsentFiles)?.let { add(it) }
            state.lastError?.let { error ->
                val times = if (state.failures > 1u) " (${state.failures} keer)" else ""
                add("Synchroniseren lukte niet$times: $error")
            }
        }
}
