// Recording a visit: the screen's state and actions in plain Kotlin. The visit exists from the
// first moment (so nothing typed is ever only on screen), and every keystroke is saved as it is
// typed: one small change in the core, well under a millisecond here, durable at once.
package nl.eropaf.presenters

import kotlinx.coroutines.flow.MutableStateFlow
import kotlinx.coroutines.flow.StateFlow
import kotlinx.coroutines.flow.asStateFlow
import nl.eropaf.core.Eropaf
import nl.eropaf.core.EropafException
import nl.eropaf.core.LifeDomainInfo
import nl.eropaf.core.NewObservation
import nl.eropaf.core.NewVisit
import nl.eropaf.core.lifeDomains
import nl.eropaf.core.model.LifeDomain

class RecordVisitPresenter(private val eropaf: Eropaf, private val caseId: String) {
    data class State(
        val visitId: String? = null,
        val place: String? = null,
        /** The note as the worker typed it. */
        val note: String = "",
        /** The observations stored with the visit, as the case page shows them. */
        val observations: List<String> = emptyList(),
        /** The life domains an observation can be about, for the screen's choice. */
        val domains: List<LifeDomainInfo> = emptyList(),
        /** The note on screen is the note stored. */
        val saved: Boolean = true,
        val error: String? = null,
        val locked: Boolean = false,
    )

    private val mutableState = MutableStateFlow(State())
    val state: StateFlow<State> = mutableState.asStateFlow()

    /** Opens a new visit, stored at once, or goes on with `visitId` (after a restart). */
    fun start(place: String? = null, visitId: String? = null) = act {
        val id = visitId ?: eropaf.recordVisit(caseId, NewVisit(note = "", place = place))
        val stored = eropaf.caseDetail(caseId).visits.firstOrNull { it.id == id }
            // A visit id kept from before a restart whose case has since lost it.
            ?: throw EropafException.NotFound("visit", id, "Bezoek $id bestaat niet op dit apparaat.")
        mutableState.value = State(
            visitId = id,
            place = stored.place,
            note = stored.note,
            observations = stored.observations.map(Dutch::observation),
            domains = lifeDomains(),
        )
    }

    /**
     * Stores an observation with the visit: what the worker saw, and optionally the life domain
     * and a 1–5 self-sufficiency score. An empty text or a score out of range is refused in
     * Dutch and the typed text stays on screen.
     */
    fun observe(text: String, domain: LifeDomain? = null, score: UByte? = null) = act {
        val visitId = mutableState.value.visitId ?: return@act
        eropaf.addObservation(caseId, visitId, NewObservation(text = text, domain = domain, score = score))
        val stored = eropaf.caseDetail(caseId).visits.firstOrNull { it.id == visitId } ?: return@act
        mutableState.value = mutableState.value.copy(observations = stored.observations.map(Dutch::observation))
    }

    /**
     * The note as it now reads on screen: saved before this returns. The core stores a note
     * without the spaces around it; the screen keeps what was typed, a trailing space included,
     * so the next keystroke lands where the worker expects.
     */
    fun type(note: String) {
        val visitId = mutableState.value.visitId ?: return
        mutableState.value = mutableState.value.copy(note = note, saved = false)
        act {
            eropaf.editVisitNote(caseId, visitId, note)
            mutableState.value = mutableState.value.copy(saved = mutableState.value.note.trim() == note.trim())
        }
    }

    private fun act(action: () -> Unit) = mutableState.call(
        cleared = { it.copy(error = null, locked = false) },
        locked = { it.copy(locked = true) },
        failed = { state, e -> state.copy(error = e.messageNl) },
        action = action,
    )
}
