// The supervisor's review queue: the decisions that depart from standard policy, oldest first
// as the core orders them, each opened with its full justification and backed, sent back with a
// question, or escalated. The rules (who may review, what needs a note) are the core's.
package nl.eropaf.presenters

import java.time.ZoneId
import kotlinx.coroutines.flow.MutableStateFlow
import kotlinx.coroutines.flow.StateFlow
import kotlinx.coroutines.flow.asStateFlow
import kotlinx.coroutines.flow.update
import nl.eropaf.core.Eropaf
import nl.eropaf.core.EropafException
import nl.eropaf.core.formatEuroAmount
import nl.eropaf.core.model.ReviewAction

class ReviewQueuePresenter(private val eropaf: Eropaf, private val zone: ZoneId = ZoneId.systemDefault()) {
    data class Row(
        val caseId: String,
        val assessmentId: String,
        val resident: String,
        val question: String,
        /** "Sanne · 4-12-2026 · € 1.500,00 · Teamleider". */
        val details: String,
        val statusLabel: String,
    )

    /** The decision opened for review. */
    data class Open(
        val caseId: String,
        val assessmentId: String,
        val resident: String,
        val justification: String,
        /** Earlier verdicts on it, e.g. after the worker answered a question. */
        val history: List<String>,
    )

    data class State(
        val rows: List<Row> = emptyList(),
        val open: Open? = null,
        /** "Niets te toetsen" when the queue is empty, for the screen to say so. */
        val empty: String? = null,
        val error: String? = null,
        val locked: Boolean = false,
    )

    private val mutableState = MutableStateFlow(State())
    val state: StateFlow<State> = mutableState.asStateFlow()

    fun refresh() = act {
        val names = eropaf.members().associate { it.deviceId to it.member }
        val rows = eropaf.reviewQueue().map { item ->
            val details = listOfNotNull(
                names[item.authorDevice],
                Dutch.date(item.submittedAt, zone),
                item.budgetCents?.let(::formatEuroAmount),
                item.rung,
            )
            Row(item.caseId, item.assessmentId, item.resident, item.question, details.joinToString(" · "), item.status.label)
        }
        mutableState.update {
            it.copy(rows = rows, empty = if (rows.isEmpty()) "Niets te toetsen" else null)
        }
    }

    fun open(row: Row) = act {
        val view = eropaf.assessment(row.caseId, row.assessmentId)
        val status = eropaf.reviewStatus(row.caseId, row.assessmentId)
        val history = status.reviews.map(Dutch::review)
        mutableState.update { it.copy(open = Open(row.caseId, row.assessmentId, row.resident, view.justification, history)) }
    }

    fun close() = mutableState.update { it.copy(open = null, error = null) }

    /**
     * Backs the open decision, sends it back, or escalates it. Asking for changes and escalating
     * need a note; without one the core refuses, nothing is written and the decision stays open.
     */
    fun decide(action: ReviewAction, note: String) = act {
        val open = mutableState.value.open ?: return@act
        eropaf.reviewAssessment(open.caseId, open.assessmentId, action, note)
        mutableState.update { it.copy(open = null) }
        refresh()
    }

    private fun act(action: () -> Unit) = mutableState.call(
        cleared = { it.copy(error = null, locked = false) },
        locked = { it.copy(locked = true) },
        failed = { state, e -> state.copy(error = e.messageNl) },
        action = action,
    )

    companion object {
        /** The buttons, in Dutch. */
        fun label(action: ReviewAction): String = when (action) {
            ReviewAction.APPROVE -> "Akkoord"
            ReviewAction.REQUEST_CHANGES -> "Wijziging vragen"
            ReviewAction.ESCALATE -> "Escaleren"
        }
    }
}
