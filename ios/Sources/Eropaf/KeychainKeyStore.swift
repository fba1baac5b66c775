// The store key in the iOS Keychain: a generic password item on this device only (never in
// backups or on another phone), readable only with the user's presence (Face ID, Touch ID or
// the passcode, which iOS asks for itself) and only while the phone has a passcode.
import Foundation
import LocalAuthentication
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
            kSecUseAuthenticationContext: presenceContext(),
        ]
        var item: CFTypeRef?
        let status = SecItemCopyMatching(query as CFDictionary, &item)
        switch status {
        case errSecSuccess:
            return item as? Data
        case errSecItemNotFound:
            return nil
        case errSecInteractionNotAllowed:
            // The phone is locked: the key is not readable now.
            throw EropafError.Locked(messageNl: "Ontgrendel de telefoon om Eropaf te openen.")
        case errSecUserCanceled, errSecAuthFailed:
            // The user did not confirm: the store stays locked, nothing is wrong with it.
            throw EropafError.Locked(messageNl: "Bevestig met Face ID, Touch ID of je toegangscode.")
        default:
            throw keychainError(status)
        }
    }

    public func saveKey(key: Data) throws {
        var failure: Unmanaged<CFError>?
        // Removing the passcode deletes the item: a phone without one keeps no readable key.
        guard let access = SecAccessControlCreateWithFlags(
            nil, kSecAttrAccessibleWhenPasscodeSetThisDeviceOnly, .userPresence, &failure
        ) else {
            throw keychainError(errSecParam)
        }
        let item: [CFString: Any] = [
            kSecClass: kSecClassGenericPassword,
            kSecAttrService: service,
            kSecAttrAccount: account,
            kSecValueData: key,
            kSecAttrAccessControl: access,
        ]
        let status = SecItemAdd(item as CFDictionary, nil)
        guard status == errSecSuccess else { throw keychainError(status) }
    }

    private func presenceContext() -> LAContext {
        let context = LAContext()
        context.localizedReason = "Ontgrendel Eropaf om je casussen te zien"
        return context
    }

    private func keychainError(_ status: OSStatus) -> EropafError {
        let detail = "Keychain status \(status)"
        return EropafError.KeyStore(
            detail: detail,
            messageNl: "De sleutelopslag van het apparaat gaf een fout: \(detail)"
        )
    }
}
