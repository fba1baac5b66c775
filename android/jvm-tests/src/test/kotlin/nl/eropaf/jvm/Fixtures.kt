// What the tests share: a Kotlin KeyStore as an app writes one, a real relay process on
// loopback, and small builders for the records the app fills in.
package nl.eropaf.jvm

import java.io.BufferedReader
import java.io.InputStreamReader
import java.nio.file.Files
import java.nio.file.Path
import java.util.concurrent.TimeUnit
import nl.eropaf.core.ChecklistItem
import nl.eropaf.core.Eropaf
import nl.eropaf.core.KeyStore
import nl.eropaf.core.NewObservation
import nl.eropaf.core.NewVisit
import nl.eropaf.core.Role
import nl.eropaf.core.Unlock
import nl.eropaf.core.model.LifeDomain
import nl.eropaf.core.model.Verdict

/** Keeps the store key in memory, as the app keeps it in the Android Keystore. */
class MemoryKeyStore(var key: ByteArray? = null) : KeyStore {
    var saves = 0

    override fun loadKey(): ByteArray? = key

    override fun saveKey(key: ByteArray) {
        this.key = key.copyOf()
        saves += 1
    }
}

/** A key store whose platform keystore fails, e.g. after the user removed the screen lock. */
class BrokenKeyStore : KeyStore {
    override fun loadKey(): ByteArray? = throw IllegalStateException("KeyPermanentlyInvalidatedException")

    override fun saveKey(key: ByteArray) = throw IllegalStateException("KeyPermanentlyInvalidatedException")
}

/** One phone: a store directory and its key store. */
class Device(val dir: Path, val keys: MemoryKeyStore = MemoryKeyStore()) {
    fun create(name: String): Eropaf =
        Eropaf.create(dir.toString(), Unlock.PlatformKeyStore(keys), name)

    fun open(): Eropaf = Eropaf.open(dir.toString(), Unlock.PlatformKeyStore(keys))
}

/** `eropaf relay serve` on a free loopback port, with its own database. */
class Relay private constructor(
    private val process: Process,
    val url: String,
    private val db: Path,
) : AutoCloseable {
    /** A fresh one-time code for registering a team, as the operator issues one (`eropaf relay code`). */
    fun registrationCode(): String {
        val issue = ProcessBuilder(bin(), "relay", "code", "--db", db.toString())
            .redirectError(ProcessBuilder.Redirect.INHERIT).start()
        val code = issue.inputStream.bufferedReader().readText().trim()
        check(issue.waitFor() == 0 && code.length == 32) { "no registration code: $code" }
        return code
    }

    override fun close() {
        process.destroy()
        if (!process.waitFor(10, TimeUnit.SECONDS)) process.destroyForcibly()
    }

    companion object {
        private fun bin(): String = System.getProperty("eropaf.bin")
            ?: error("eropaf.bin is not set: run android/test-jvm.sh")

        fun start(dir: Path): Relay {
            val db = dir.resolve("relay.db")
            val process = ProcessBuilder(
                bin(), "relay", "serve",
                "--db", db.toString(),
                "--listen", "127.0.0.1:0",
            ).redirectError(ProcessBuilder.Redirect.INHERIT).start()
            val out = BufferedReader(InputStreamReader(process.inputStream))
            val first = out.readLine() ?: error("the relay exited before it listened")
            val url = Regex("http://\\S+").find(first)?.value
                ?: error("no address in the relay's first line: $first")
            // Keep draining its status lines so the relay never blocks on a full pipe.
            // Closing the relay closes its output under this reader: that end is expected.
            Thread { runCatching { out.lineSequence().forEach { } } }.apply { isDaemon = true }.start()
            return Relay(process, url, db)
        }
    }
}

fun tempDir(prefix: String): Path = Files.createTempDirectory("eropaf-$prefix")

fun visit(note: String, vararg observations: NewObservation) =
    NewVisit(note = note, observations = observations.toList())

fun observation(text: String, domain: LifeDomain? = null, score: UByte? = null) =
    NewObservation(text = text, domain = domain, score = score)

/**
 * A supervisor ("Fatima") who made a team on `relay` and a worker ("Sanne") she admitted, for
 * tests of what crosses between phones. SyncTest checks the joining itself step by step.
 */
suspend fun withTeam(relay: Relay, test: suspend (supervisor: Eropaf, worker: Eropaf) -> Unit) {
    Device(tempDir("supervisor")).create("Fatima").use { supervisor ->
        Device(tempDir("worker")).create("Sanne").use { worker ->
            supervisor.createTeam("Wijkteam Noord", relay.url, relay.registrationCode())
            supervisor.sync(null)
            val shown = worker.join(supervisor.invite(Role.WORKER).code)
            worker.sync(null)
            supervisor.sync(null)
            supervisor.admit(supervisor.pendingJoiners().single().deviceId, shown)
            worker.sync(null)
            test(supervisor, worker)
        }
    }
}

/** Walks an assessment through the core's checklist order with plain answers and support. */
fun completeChecklist(eropaf: Eropaf, caseId: String, assessmentId: String, decision: String) {
    while (true) {
        when (val next = eropaf.assessment(caseId, assessmentId).progress.next ?: break) {
            is ChecklistItem.Step -> eropaf.answer(caseId, assessmentId, next, "Antwoord bij ${next.key}")
            is ChecklistItem.Value -> eropaf.setVerdict(caseId, assessmentId, next.key, Verdict.SUPPORTS, "Past")
            ChecklistItem.Decision -> eropaf.answer(caseId, assessmentId, next, decision)
        }
    }
}
