// One case as its page shows it: the resident, the visits, the assessments with where each
// stands in review, the files (opened here, fetched from the relay when they are not on this
// phone, with progress) and whether the team has everything. Plain Kotlin over the bindings.
package nl.eropaf.presenters

import java.time.ZoneId
import kotlinx.coroutines.flow.MutableStateFlow
import kotlinx.coroutines.flow.StateFlow
import kotlinx.coroutines.flow.asStateFlow
import kotlinx.coroutines.flow.update
import nl.eropaf.core.Case
import nl.eropaf.core.DownloadListener
import nl.eropaf.core.Eropaf
import nl.eropaf.core.EropafException

class CasePagePresenter(
    private val eropaf: Eropaf,
    private val caseId: String,
    private val zone: ZoneId = ZoneId.systemDefault(),
) {
    data class VisitRow(
        val id: String,
        val at: String,
        val place: String?,
        val note: String,
        /** "Wonen, 2 Kwetsbaar: Huurachterstand van twee maanden" per observation. */
        val observations: List<String>,
    )

    data class AssessmentRow(
        val id: String,
        val question: String,
        /** The proposed decision; empty while the checklist has not reached it. */
        val decision: String,
        val maatwerk: Boolean,
        /** Where it stands in review, in Dutch ("Wacht op toetsing", "Goedgekeurd"). */
        val reviewLabel: String,
    )

    data class FileRow(
        val id: String,
        val name: String,
        /** "application/pdf": what the viewer app is chosen by. */
        val mediaType: String,
        val caption: String?,
        val size: String,
        /** The bytes are on this phone; otherwise opening fetches them from the relay. */
        val onDevice: Boolean,
        /** 0.0–1.0 while it is being fetched; none otherwise. */
        val fetching: Float? = null,
    )

    data class State(
        val loaded: Boolean = false,
        val residentName: String = "",
        val statusLabel: String = "",
        val visits: List<VisitRow> = emptyList(),
        val assessments: List<AssessmentRow> = emptyList(),
        val files: List<FileRow> = emptyList(),
        /** Fields two colleagues changed at once, for the worker to settle ("Conflict in ..."). */
        val conflicts: List<String> = emptyList(),
        /** Something of this case on this phone the team has not received yet. */
        val unsent: Boolean = false,
        /** The case is no longer on this phone (erased, or handed over and forgotten). */
        val gone: Boolean = false,
        val error: String? = null,
        val locked: Boolean = false,
    )

    private val mutableState = MutableStateFlow(State())
    val state: StateFlow<State> = mutableState.asStateFlow()

    /** Reads the case again: on opening the page, and whenever the core says it changed. */
    fun refresh() = act {
        val case = eropaf.caseDetail(caseId)
        val unsent = caseId in eropaf.unsentWork().caseIds
        val fetching = mutableState.value.files.associate { it.id to it.fetching }
        mutableState.value = render(case, unsent, fetching)
    }

    /**
     * The file's bytes, fetched from the relay first when this phone does not hold them; the row
     * shows how far the fetch is. Null (with the reason on screen) when it could not be opened,
     * e.g. without a connection; what was fetched stays and the next try goes on from there.
     */
    suspend fun openFile(fileId: String): ByteArray? {
        val row = mutableState.value.files.firstOrNull { it.id == fileId } ?: return null
        if (!row.onDevice) {
            setFetching(fileId, 0f)
            try {
                eropaf.downloadAttachment(caseId, fileId, object : DownloadListener {
                    override fun onProgress(doneBytes: ULong, totalBytes: ULong) {
                        val fraction = if (totalBytes == 0uL) 1f else doneBytes.toFloat() / totalBytes.toFloat()
                        setFetching(fileId, fraction)
                    }
                })
            } catch (e: EropafException) {
                setFetching(fileId, null)
                // Recorded as any failed call is: the reason on screen, or the unlock screen.
                act { throw e }
                return null
            }
        }
        var bytes: ByteArray? = null
        act { bytes = eropaf.attachmentContent(caseId, fileId) }
        setFetching(fileId, null)
        if (bytes != null) refresh()
        return bytes
    }

    private fun setFetching(fileId: String, fraction: Float?) = mutableState.update { state ->
        state.copy(files = state.files.map { if (it.id == fileId) it.copy(fetching = fraction) else it })
    }

    private fun render(case: Case, unsent: Boolean, fetching: Map<String, Float?>) = State(
        loaded = true,
        residentName = case.resident.name,
        statusLabel = case.statusLabel,
        visits = case.visits.sortedByDescending { it.at }.map { visit ->
            VisitRow(
                id = visit.id,
                at = Dutch.dateTime(visit.at, zone),
                place = visit.place,
                note = visit.note,
                observations = visit.observations.map(Dutch::observation),
            )
        },
        assessments = case.assessments.map { a ->
            AssessmentRow(a.id, a.question, a.decision, a.maatwerk, eropaf.reviewStatus(caseId, a.id).label)
        },
        files = case.attachments.map { f ->
            FileRow(f.id, f.name, f.mediaType, f.caption, Dutch.size(f.size), f.onDevice, fetching[f.id])
        },
        conflicts = case.conflicts.map { "Conflict in ${it.path}: ${it.values.joinToString(" / ")}" },
        unsent = unsent,
    )

    private fun act(action: () -> Unit) = mutableState.call(
        cleared = { it.copy(error = null, locked = false) },
        locked = { it.copy(locked = true) },
        failed = { state, e -> state.copy(gone = state.gone || e is EropafException.NotFound, error = e.messageNl) },
        action = action,
    )
}
