// What a call through the Kotlin bindings costs against the same call made in Rust, measured
// in one run on the same store: rounds alternate between the two sides (so neither gets the
// warmer cache or the quieter disk), and the median round counts. Printed for the README and
// the issue; checked only for sense.
package nl.eropaf.jvm

import kotlin.test.assertEquals
import kotlin.test.assertTrue
import nl.eropaf.core.Eropaf
import nl.eropaf.core.MeasuredCall
import nl.eropaf.core.NewVisit
import nl.eropaf.core.measureNativeCalls
import nl.eropaf.core.model.LifeDomain
import nl.eropaf.core.model.Resident
import org.junit.jupiter.api.Test

class CallCostTest {
    private val rounds = 5

    /** Median microseconds per call over [rounds] rounds of [calls] calls, Kotlin and Rust. */
    private fun compare(
        name: String,
        calls: Int,
        kotlin: (Int) -> Unit,
        rust: () -> java.time.Duration,
    ): Pair<Double, Double> {
        val kotlinRounds = mutableListOf<Double>()
        val rustRounds = mutableListOf<Double>()
        repeat(rounds) {
            val start = System.nanoTime()
            for (n in 0 until calls) kotlin(n)
            kotlinRounds += (System.nanoTime() - start) / 1000.0 / calls
            rustRounds += rust().toNanos() / 1000.0 / calls
        }
        val k = kotlinRounds.sorted()[rounds / 2]
        val r = rustRounds.sorted()[rounds / 2]
        println(
            "call cost: %-14s Kotlin %8.1f µs/call, Rust %8.1f µs/call, ratio %.2f (median of %d rounds of %d calls)"
                .format(name, k, r, k / r, rounds, calls),
        )
        return k to r
    }

    @Test
    fun `a call from Kotlin costs about what the same call costs in Rust`() {
        Device(tempDir("cost")).create("Sanne").use { eropaf: Eropaf ->
            val caseId = eropaf.newCase(Resident(name = "Willem Bakker"), null)
            for (n in 0 until 20) eropaf.newCase(Resident(name = "Bewoner $n"), null)
            // The same visit measure_native_calls records on the Rust side.
            val visit = { n: Int ->
                NewVisit(
                    note = "Meetbezoek $n",
                    observations = listOf(observation("Post ligt ongeopend op tafel", LifeDomain.FINANCIEN, 2u)),
                )
            }
            // Warm up both paths: the JIT, the page cache, the case document cache.
            repeat(20) { eropaf.recordVisit(caseId, visit(it)); eropaf.cases() }
            measureNativeCalls(eropaf, MeasuredCall.RECORD_VISIT, caseId, 20u)

            val writes = 40
            val (kotlinWrite, rustWrite) = compare(
                "record_visit", writes,
                { eropaf.recordVisit(caseId, visit(it)) },
                { measureNativeCalls(eropaf, MeasuredCall.RECORD_VISIT, caseId, writes.toUInt()) },
            )
            val reads = 400
            val (kotlinRead, rustRead) = compare(
                "cases (21)", reads,
                { eropaf.cases() },
                { measureNativeCalls(eropaf, MeasuredCall.LIST_CASES, caseId, reads.toUInt()) },
            )
            // A call that does next to nothing in Rust: what crossing the boundary itself costs.
            val empty = 20_000
            val start = System.nanoTime()
            repeat(empty) { eropaf.deviceId() }
            println("call cost: %-14s Kotlin %8.1f µs/call (the boundary itself)".format("device_id", (System.nanoTime() - start) / 1000.0 / empty))

            assertEquals(40 + 2 * rounds * writes, eropaf.caseDetail(caseId).visits.size)
            assertTrue(listOf(kotlinWrite, rustWrite, kotlinRead, rustRead).all { it > 0.0 })
        }
    }
}
