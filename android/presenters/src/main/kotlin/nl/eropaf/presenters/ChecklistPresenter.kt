// The checklist flow of one assessment: the omgekeerde toets step by step, a verdict on each of
// the team's values, the proposed decision, maatwerk with its budget, and submitting it for
// review. The core decides the order and refuses what comes too early; this only shows it.
package nl.eropaf.presenters

import kotlinx.coroutines.flow.MutableStateFlow
import kotlinx.coroutines.flow.StateFlow
import kotlinx.coroutines.flow.asStateFlow
import kotlinx.coroutines.flow.update
import nl.eropaf.core.AssessmentView
import nl.eropaf.core.ChecklistItem
import nl.eropaf.core.Eropaf
import nl.eropaf.core.EropafException
import nl.eropaf.core.ReviewStage
import nl.eropaf.core.VerdictInfo
import nl.eropaf.core.formatEuroAmount
import nl.eropaf.core.model.Verdict
import nl.eropaf.core.parseEuroAmount
import nl.eropaf.core.verdicts

class ChecklistPresenter(private val eropaf: Eropaf, private val caseId: String) {
    /** One line of the overview: every step, value and the decision, in the core's order. */
    data class Item(val item: ChecklistItem, val title: String, val done: Boolean)

    /** The item on screen: its question and guidance, and what was answered so far. */
    data class Current(
        val item: ChecklistItem,
        val heading: String,
        val question: String,
        val guidance: List<String>,
        /** The stored answer, or the motivation of a value's verdict. */
        val text: String,
        /** For a value: the verdict given; the screen offers `verdictChoices`. */
        val verdict: Verdict? = null,
    ) {
        val isValue: Boolean get() = item is ChecklistItem.Value
    }

    data class State(
        val assessmentId: String? = null,
        val question: String = "",
        val frameworkTitle: String = "",
        val items: List<Item> = emptyList(),
        /** None once everything is answered: the screen shows maatwerk and submitting. */
        val current: Current? = null,
        /** "3 van 9 beantwoord". */
        val progress: String = "",
        val fraction: Float = 0f,
        /** What is still open and why, in the core's words. */
        val missing: List<String> = emptyList(),
        val justification: String = "",
        val maatwerk: Boolean = false,
        /** "€ 750,00", or none. */
        val budget: String? = null,
        /** Where it stands in review ("Concept", "Wacht op toetsing"). */
        val reviewLabel: String = "",
        /** What supervisors said, newest last: "Wijziging gevraagd: Onderbouw het bedrag". */
        val reviews: List<String> = emptyList(),
        val canSubmit: Boolean = false,
        val verdictChoices: List<VerdictInfo> = emptyList(),
        val error: String? = null,
        val locked: Boolean = false,
    )

    private val mutableState = MutableStateFlow(State(verdictChoices = verdicts()))
    val state: StateFlow<State> = mutableState.asStateFlow()
    /** The item the worker chose to revise; none follows the core's next item. */
    private var chosen: ChecklistItem? = null

    /** Starts a new assessment of `question` under the team's framework. */
    fun start(question: String, frameworkId: String? = null) = act {
        val id = eropaf.startAssessment(caseId, question, frameworkId)
        show(id)
    }

    /** Opens an existing assessment (from the case page or the review queue). */
    fun open(assessmentId: String) = act { show(assessmentId) }

    /** Goes back to an item to change it; the next answer returns to the core's order. */
    fun select(item: ChecklistItem) = act {
        chosen = item
        show(requireId())
    }

    /** Stores the answer to the current step, or the proposed decision. */
    fun answer(text: String) = act {
        val item = mutableState.value.current?.item ?: return@act
        eropaf.answer(caseId, requireId(), item, text)
        chosen = null
        show(requireId())
    }

    /** Gives the current value a verdict; the core says which verdicts need a motivation. */
    fun verdict(verdict: Verdict, motivation: String) = act {
        val item = mutableState.value.current?.item as? ChecklistItem.Value ?: return@act
        eropaf.setVerdict(caseId, requireId(), item.key, verdict, motivation)
        chosen = null
        show(requireId())
    }

    /** Marks the decision as maatwerk with the budget as typed ("750", "1.234,50"), or undoes it. */
    fun maatwerk(on: Boolean, budget: String) = act {
        val cents = if (on && budget.isNotBlank()) parseEuroAmount(budget) else null
        eropaf.setMaatwerk(caseId, requireId(), on, cents)
        show(requireId())
    }

    /** Submits the complete assessment: maatwerk waits for a supervisor, the rest needs none. */
    fun submit() = act {
        eropaf.submitAssessment(caseId, requireId())
        show(requireId())
    }

    private fun requireId(): String = mutableState.value.assessmentId
        ?: throw EropafException.InvalidInput("assessment", "no assessment is open", "Er is nog geen afweging geopend.")

    private fun show(id: String) {
        val view = eropaf.assessment(caseId, id)
        val status = eropaf.reviewStatus(caseId, id)
        val onScreen = chosen ?: view.progress.next
        mutableState.update {
            it.copy(
                assessmentId = id,
                question = view.question,
                frameworkTitle = view.frameworkTitle,
                items = items(view),
                current = onScreen?.let { item -> current(view, item) },
                progress = "${view.progress.answered} van ${view.progress.total} beantwoord",
                fraction = if (view.progress.total == 0u) 1f else view.progress.answered.toFloat() / view.progress.total.toFloat(),
                missing = view.progress.missing.map { m -> m.reason },
                justification = view.justification,
                maatwerk = view.maatwerk,
                budget = view.budgetCents?.let(::formatEuroAmount),
                reviewLabel = status.label,
                reviews = status.reviews.map(Dutch::review),
                canSubmit = view.progress.complete && status.stage == ReviewStage.DRAFT,
            )
        }
    }

    private fun items(view: AssessmentView): List<Item> =
        view.steps.map { Item(ChecklistItem.Step(it.step.key), "Stap ${it.step.number}: ${it.step.title}", it.answer.isNotBlank()) } +
            view.values.map { Item(ChecklistItem.Value(it.value.key), it.value.title, it.verdict != null) } +
            Item(ChecklistItem.Decision, DECISION, view.decision.isNotBlank())

    private fun current(view: AssessmentView, item: ChecklistItem): Current? = when (item) {
        is ChecklistItem.Step -> view.steps.firstOrNull { it.step.key == item.key }?.let {
            Current(item, "Stap ${it.step.number}: ${it.step.title}", it.step.question, it.step.guidance, it.answer)
        }
        is ChecklistItem.Value -> view.values.firstOrNull { it.value.key == item.key }?.let {
            Current(item, it.value.title, it.value.description, it.value.questions, it.motivation, it.verdict)
        }
        ChecklistItem.Decision -> Current(item, DECISION, "Wat stel je voor, gelet op alles hierboven?", emptyList(), view.decision)
    }

    private fun act(action: () -> Unit) = mutableState.call(
        cleared = { it.copy(error = null, locked = false) },
        locked = { it.copy(locked = true) },
        failed = { state, e -> state.copy(error = e.messageNl) },
        action = action,
    )

    private companion object {
        const val DECISION = "Het voorgestelde besluit"
    }
}
