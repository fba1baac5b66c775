// What a call through the Kotlin bindings costs against the same call made in Rust, measured
// in one run on the same store: printed for the README and the issue, checked only for sense.
package nl.eropaf.jvm

import java.time.Duration
import nl.eropaf.core.Eropaf
import nl.eropaf.core.LifeDomain
import nl.eropaf.core.MeasuredCall
import nl.eropaf.core.NewVisit
import nl.eropaf.core.Resident
import nl.eropaf.core.measureNativeCalls
import org.junit.jupiter.api.Test
import kotlin.test.assertEquals
import kotlin.test.assertTrue

class CallCostTest {
    private fun timeKotlin(iterations: Int, call: (Int) -> Unit): Duration {
        val start = System.nanoTime()
        for (n in 0 until iterations) call(n)
        return Duration.ofNanos(System.nanoTime() - start)
    }

    private fun report(name: String, iterations: Int, kotlin: Duration, rust: Duration) {
        val perKotlin = kotlin.toNanos() / 1000.0 / iterations
        val perRust = rust.toNanos() / 1000.0 / iterations
        println(
            "call cost: %-12s Kotlin %9.1f µs/call, Rust %9.1f µs/call, ratio %.2f (%d calls each)"
                .format(name, perKotlin, perRust, perKotlin / perRust, iterations),
        )
    }

    @Test
    fun `a call from Kotlin costs about what the same call costs in Rust`() {
        Device(tempDir("cost")).create("Sanne").use { eropaf ->
            val caseId = eropaf.newCase(Resident(name = "Willem Bakker"), null)
            for (n in 0 until 20) eropaf.newCase(Resident(name = "Bewoner $n"), null)
            val visit = { n: Int ->
                NewVisit(
                    note = "Meetbezoek $n",
                    observations = listOf(observation("Post ligt ongeopend op tafel", LifeDomain.FINANCIEN, 2u)),
                )
            }
            // Warm up both paths (JIT, page cache, the case document cache).
            timeKotlin(20) { eropaf.recordVisit(caseId, visit(it)) }
            measureNativeCalls(eropaf, MeasuredCall.RECORD_VISIT, caseId, 20u)

            val writes = 200
            val kotlinWrites = timeKotlin(writes) { eropaf.recordVisit(caseId, visit(it)) }
            val rustWrites = measureNativeCalls(eropaf, MeasuredCall.RECORD_VISIT, caseId, writes.toUInt())
            report("record_visit", writes, kotlinWrites, rustWrites)

            val reads = 2000
            timeKotlin(100) { eropaf.cases() }
            val kotlinReads = timeKotlin(reads) { eropaf.cases() }
            val rustReads = measureNativeCalls(eropaf, MeasuredCall.LIST_CASES, caseId, reads.toUInt())
            report("cases (21)", reads, kotlinReads, rustReads)

            assertEquals(40 + 2 * writes, eropaf.caseDetail(caseId).visits.size)
            assertTrue(!kotlinWrites.isZero && !rustWrites.isZero && !kotlinReads.isZero && !rustReads.isZero)
        }
    }
}
