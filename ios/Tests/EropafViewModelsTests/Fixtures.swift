// What the tests share: a key store kept in memory as the app keeps it in the Keychain, and a
// phone as a store directory with its key store, on the real library (no mocks).
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

extension XCTestCase {
    /// A phone in a fresh temporary directory, deleted when the test ends.
    func phone(_ prefix: String) throws -> Phone {
        let dir = FileManager.default.temporaryDirectory
            .appendingPathComponent("eropaf-\(prefix)-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        addTeardownBlock { try? FileManager.default.removeItem(at: dir) }
        return Phone(dir: dir)
    }
}
