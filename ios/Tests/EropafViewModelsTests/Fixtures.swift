// What the tests share: a key store kept in memory as the app keeps it in the Keychain, a phone
// as a store directory with its key store, a real relay process on loopback and a team of two
// phones on it, all on the real library (no mocks).
import Eropaf
import Foundation
import XCTest

/// Keeps the store key in memory, as the app keeps it in the Keychain.
final class MemoryKeyStore: KeyStore, @unchecked Sendable {
    private var key: Data?

    func loadKey() throws -> Data? { key }

    func saveKey(key: Data) throws { self.key = key }
}

/// One phone: a store directory and its key store.
struct Phone {
    let dir: URL
    let keys = MemoryKeyStore()

    func create(_ name: String) throws -> Eropaf {
        try Eropaf.create(dir: dir.path, unlock: .platformKeyStore(keyStore: keys), deviceName: name)
    }

    func open() throws -> Eropaf {
        try Eropaf.open(dir: dir.path, unlock: .platformKeyStore(keyStore: keys))
    }
}

struct FixtureError: Error, CustomStringConvertible {
    let description: String
}

/// `eropaf relay serve` on a free loopback port, with its own database. The binary is the
/// workspace's own, which ios/test-swift.sh names in EROPAF_BIN.
final class Relay {
    let url: String
    private let process: Process
    private let db: URL

    private init(process: Process, url: String, db: URL) {
        self.process = process
        self.url = url
        self.db = db
    }

    private static func bin() throws -> URL {
        guard let path = ProcessInfo.processInfo.environment["EROPAF_BIN"] else {
            throw FixtureError(description: "EROPAF_BIN is not set: run ios/test-swift.sh")
        }
        return URL(fileURLWithPath: path)
    }

    static func start(in dir: URL) throws -> Relay {
        let db = dir.appendingPathComponent("relay.db")
        let process = Process()
        process.executableURL = try bin()
        process.arguments = ["relay", "serve", "--db", db.path, "--listen", "127.0.0.1:0"]
        let out = Pipe()
        process.standardOutput = out
        try withNoSignalsBlocked { try process.run() }
        let reader = out.fileHandleForReading
        var first = Data()
        while !first.contains(UInt8(ascii: "\n")) {
            let chunk = reader.availableData
            if chunk.isEmpty {
                process.terminate()
                throw FixtureError(description: "the relay exited before it listened")
            }
            first.append(chunk)
        }
        let line = String(decoding: first, as: UTF8.self)
        guard let found = line.range(of: "http://[^[:space:]]+", options: .regularExpression) else {
            process.terminate()
            throw FixtureError(description: "no address in the relay's first line: \(line)")
        }
        // Keep draining its status lines so the relay never blocks on a full pipe; the reader
        // ends when the relay does.
        Thread.detachNewThread {
            while !reader.availableData.isEmpty {}
        }
        return Relay(process: process, url: String(line[found]), db: db)
    }

    /// A test on Swift's cooperative pool runs on a dispatch thread that blocks signals, and a
    /// child inherits its mask: a relay started there would never hear `close()`'s SIGTERM.
    private static func withNoSignalsBlocked<T>(_ body: () throws -> T) rethrows -> T {
        var none = sigset_t()
        var old = sigset_t()
        sigemptyset(&none)
        pthread_sigmask(SIG_SETMASK, &none, &old)
        defer { pthread_sigmask(SIG_SETMASK, &old, nil) }
        return try body()
    }

    /// A fresh one-time code for registering a team, as the operator issues one.
    func registrationCode() throws -> String {
        let issue = Process()
        issue.executableURL = try Self.bin()
        issue.arguments = ["relay", "code", "--db", db.path]
        let out = Pipe()
        issue.standardOutput = out
        try issue.run()
        let printed = out.fileHandleForReading.readDataToEndOfFile()
        issue.waitUntilExit()
        let code = String(decoding: printed, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        guard issue.terminationStatus == 0, code.count == 32 else {
            throw FixtureError(description: "no registration code: \(code)")
        }
        return code
    }

    /// Stops the relay, as a server going away; safe to call again.
    func close() {
        guard process.isRunning else { return }
        process.terminate()
        let deadline = Date().addingTimeInterval(10)
        while process.isRunning && Date() < deadline { usleep(10_000) }
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        process.waitUntilExit()
    }
}

extension XCTestCase {
    /// A fresh temporary directory, deleted when the test ends.
    func tempDir(_ prefix: String) throws -> URL {
        let dir = FileManager.default.temporaryDirectory
            .appendingPathComponent("eropaf-\(prefix)-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        addTeardownBlock { try? FileManager.default.removeItem(at: dir) }
        return dir
    }

    /// A phone in a fresh temporary directory, deleted when the test ends.
    func phone(_ prefix: String) throws -> Phone {
        Phone(dir: try tempDir(prefix))
    }

    /// A relay for this test, stopped when it ends (a test may stop it sooner).
    func relay() throws -> Relay {
        let relay = try Relay.start(in: try tempDir("relay"))
        addTeardownBlock { relay.close() }
        return relay
    }

    /// A supervisor ("Fatima") who made a team on `relay` and a worker ("Sanne") she admitted,
    /// for tests of what crosses between phones.
    func team(on relay: Relay) async throws -> (supervisor: Eropaf, worker: Eropaf) {
        let supervisor = try phone("supervisor").create("Fatima")
        let worker = try phone("worker").create("Sanne")
        _ = try supervisor.createTeam(
            teamName: "Wijkteam Noord", relayUrl: relay.url, registrationCode: try relay.registrationCode()
        )
        _ = try await supervisor.sync(listener: nil)
        let shown = try await worker.join(code: try await supervisor.invite(role: .worker).code)
        _ = try await worker.sync(listener: nil)
        _ = try await supervisor.sync(listener: nil)
        let joiners = try await supervisor.pendingJoiners()
        XCTAssertEqual(joiners.count, 1, "one phone asked to join")
        _ = try await supervisor.admit(deviceId: try XCTUnwrap(joiners.first).deviceId, code: shown)
        _ = try await worker.sync(listener: nil)
        return (supervisor, worker)
    }
}

/// Walks an assessment through the core's checklist order with plain answers and support.
func completeChecklist(_ eropaf: Eropaf, caseId: String, assessmentId: String, decision: String) throws {
    while let next = try eropaf.assessment(caseId: caseId, assessmentId: assessmentId).progress.next {
        switch next {
        case let .step(key):
            try eropaf.answer(caseId: caseId, assessmentId: assessmentId, item: next, text: "Antwoord bij \(key)")
        case let .value(key):
            try eropaf.setVerdict(
                caseId: caseId, assessmentId: assessmentId, valueKey: key, verdict: .supports, motivation: "Past"
            )
        case .decision:
            try eropaf.answer(caseId: caseId, assessmentId: assessmentId, item: next, text: decision)
        }
    }
}
