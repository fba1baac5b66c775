// How the screens write dates, sizes and observations for a Dutch reader ("4-12-2026 10:42",
// "1,2 MB"). The words come from the core; dates depend on the phone's time zone, so they
// are put together here.
package nl.eropaf.presenters

import java.time.Instant
import java.time.ZoneId
import java.time.format.DateTimeFormatter
import java.util.Locale
import nl.eropaf.core.Observation
import nl.eropaf.core.Review

object Dutch {
    private val dateTime = DateTimeFormatter.ofPattern("d-M-yyyy HH:mm")
    private val date = DateTimeFormatter.ofPattern("d-M-yyyy")
    private val locale = Locale.forLanguageTag("nl-NL")

    fun dateTime(at: Instant, zone: ZoneId): String = at.atZone(zone).format(dateTime)

    fun date(at: Instant, zone: ZoneId): String = at.atZone(zone).format(date)

    /** An observation with its labels first: "Financiën, Niet zelfredzaam: Huurachterstand". */
    fun observation(o: Observation): String {
        val labels = listOfNotNull(o.domainLabel, o.scoreLabel).joinToString(", ")
        return if (labels.isEmpty()) o.text else "$labels: ${o.text}"
    }

    /** A supervisor's verdict with its note, when there is one: "Aanpassing gevraagd: Onderbouw het bedrag". */
    fun review(r: Review): String = if (r.note.isBlank()) r.verdictLabel else "${r.verdictLabel}: ${r.note}"

    /** A file's size as a worker reads it: "950 bytes", "300 kB", "1,2 MB". */
    fun size(bytes: ULong): String = when {
        bytes < 1_000uL -> "$bytes bytes"
        bytes < 1_000_000uL -> "${(bytes + 500uL) / 1_000uL} kB"
        else -> String.format(locale, "%.1f MB", bytes.toDouble() / 1_000_000.0)
    }
}
