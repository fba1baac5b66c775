// What the app's calls cost on a long case, made from Kotlin the way a screen makes them:
// a resident followed for two years (100 visits with notes of about 1,500 characters and three
// observations each), typing into the last note, then the phone restarting and opening the
// case. Printed for the README and the issue (`long case:` lines, with the worst single call,
// the one a UI thread would wait for); checked only for what a worker would notice.
package nl.eropaf.jvm

import kotlin.test.assertEquals
import kotlin.test.assertTrue
import nl.eropaf.core.NewVisit
import nl.eropaf.core.model.LifeDomain
import nl.eropaf.core.model.Resident
import org.junit.jupiter.api.Test

class LongCaseCallTest {
    private val visits = 100
    private val autosaves = 50

    /** Dutch-looking text of about [chars] characters, different for every [seed]. */
    private fun words(seed: Int, chars: Int): String {
        val pool = listOf(
            "bewoner", "huur", "achterstand", "gesprek", "afspraak", "schuldhulp", "dochter",
            "werk", "budget", "brief", "gemeente", "zorg", "buurt", "overleg", "aanvraag", "wmo",
        )
        val out = StringBuilder()
        var n = seed.toLong() * 7919 + 17
        while (out.length < chars) {
            n = (n * 6364136223846793005L + 1442695040888963407L)
            out.append(pool[((n ushr 33) % pool.size).toInt()]).append(' ')
        }
        return out.toString().trim()
    }

    private class Calls(val name: String) {
        val micros = mutableListOf<Double>()

        inline fun <T> time(call: () -> T): T {
            val start = System.nanoTime()
            val result = call()
            micros += (System.nanoTime() - start) / 1000.0
            return result
        }

        fun print() {
            val sorted = micros.sorted()
            println(
                "long case: %-32s median %8.0f µs, worst %8.0f µs (%d calls)"
                    .format(name, sorted[sorted.size / 2], sorted.last(), sorted.size),
            )
        }
    }

    @Test
    fun `a case of a hundred long visits records, autosaves and opens after a restart`() {
        val phone = Device(tempDir("long"))
        val record = Calls("recordVisit")
        val autosave = Calls("editVisitNote (one character)")
        val open = Calls("open + caseDetail after restart")
        val list = Calls("cases()")
        var caseId = ""
        var lastVisit = ""
        var note = ""
        phone.create("Sanne").use { eropaf ->
            caseId = eropaf.newCase(Resident(name = "Willem Bakker"), null)
            for (n in 0 until visits) {
                note = words(n, 1_500)
                val visit = NewVisit(
                    note = note,
                    observations = (0 until 3).map {
                        observation(words(n * 3 + it, 60), LifeDomain.FINANCIEN, (it + 1).toUByte())
                    },
                )
                lastVisit = record.time { eropaf.recordVisit(caseId, visit) }
            }
            for (n in 0 until autosaves) {
                note += if (n % 6 == 5) " " else "a"
                autosave.time { eropaf.editVisitNote(caseId, lastVisit, note) }
            }
            list.time { eropaf.cases() }
        }
        repeat(3) {
            val case = open.time { phone.open().use { it.caseDetail(caseId) } }
            assertEquals(visits, case.visits.size)
            assertEquals(note, case.visits.single { it.id == lastVisit }.note)
        }
        for (calls in listOf(record, autosave, list, open)) calls.print()
        val worst = listOf(record, autosave, list, open).maxBy { it.micros.max() }
        println("long case: worst single call: %s, %.1f ms".format(worst.name, worst.micros.max() / 1000.0))
        assertTrue(record.micros.all { it > 0.0 })
    }
}
