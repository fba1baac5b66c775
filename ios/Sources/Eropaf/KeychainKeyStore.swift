// The store key in the iOS Keychain: a generic password item readable after the first
// unlock, on this device only (never in backups or on another phone).
import Foundation
import Security

public final class KeychainKeyStore: KeyStore {
    private let service: String
    private let account = "store-key"

    public init(service: String = "nl.eropaf.store") {
        self.service = service
    }

    public func loadKey() throws -> Data? {
        let query: [CFString: Any] = [
            kSecClass: kSecClassGenericPassword,
            kSecAttrService: service,
            kSecAttrAccount: account,
            kSecReturnData: true,
            kSecMatchLimit: kSecMatchLimitOne,
        ]
        var item: CFTypeRef?
        let status = SecItemCopyMatching(query as CFDictionary, &item)
        switch status {
        case errSecSuccess:
            return item as? Data
        case errSecItemNotFound:
            return nil
        case errSecInteractionNotAllowed:
            // The phone has not been unlocked since it started: the key is not readable yet.
            throw EropafError.Locked(messageNl: "Ontgrendel de telefoon om Eropaf te openen.")
        default:
            throw keychainError(status)
        }
    }

    public func saveKey(key: Data) throws {
        let item: [CFString: Any] = [
            kSecClass: kSecClassGenericPassword,
            kSecAttrService: service,
            kSecAttrAccount: account,
            kSecValueData: key,
            kSecAttrAccessible: kSecAttrAccessibleAfterFirstUnlockThisDeviceOnly,
        ]
        let status = SecItemAdd(item as CFDictionary, nil)
        guard status == errSecSuccess else { throw keychainError(status) }
    }

    private func keychainError(_ status: OSStatus) -> EropafError {
        let detail = "Keychain status \(status)"
        return EropafError.KeyStore(
            detail: detail,
            messageNl: "De sleutelopslag van het apparaat gaf een fout: \(detail)"
        )
    }
}
