// The app's state: the one Eropaf object, a revision bumped when a sync changed cases, and
// the error sentence to show. No rules live here: lists, labels, checks and the next step of
// the checklist all come from the core.
import Eropaf
import EropafViewModels
import Foundation
import SwiftUI
import UIKit

@MainActor
public final class AppModel: ObservableObject {
    public let eropaf: Eropaf
    @Published public var revision = 0
    @Published public var error: String?
    @Published public var syncProgress: SyncProgress?
    @Published public var lastSync: SyncReport?
    /// The code this phone shows after asking to join; the supervisor compares it.
    @Published public var safetyCode: String?
    /// True while the core holds no store key (the team's idle time passed or the app went to
    /// the background): the app shows only the unlock screen.
    @Published public var locked = false
    private let keyStore: KeyStore

    public init(directory: URL, keyStore: KeyStore = KeychainKeyStore()) throws {
        self.keyStore = keyStore
        let unlock = Unlock.platformKeyStore(keyStore: keyStore)
        do {
            eropaf = try Eropaf.open(dir: directory.path, unlock: unlock)
        } catch EropafError.NoStore {
            eropaf = try Eropaf.create(dir: directory.path, unlock: unlock, deviceName: UIDevice.current.name)
        }
        eropaf.setChangeObserver(observer: Observer(model: self))
    }

    /// Runs a core call; a typed error becomes the Dutch sentence on screen. Screens call this
    /// while SwiftUI reads their body, so the error is published only when it changes.
    @discardableResult
    public func attempt<T>(_ call: () throws -> T) -> T? {
        do {
            let value = try call()
            show(nil)
            return value
        } catch EropafError.Locked {
            if !locked { locked = true }
            return nil
        } catch let failure as EropafError {
            show(failure.messageNl)
            return nil
        } catch {
            show("\(error)")
            return nil
        }
    }

    private func show(_ message: String?) {
        if error != message { error = message }
    }

    /// The app went to the background: the store key leaves memory; a running sync finishes.
    public func lock() {
        eropaf.lock()
        locked = true
    }

    /// Asks the Keychain for the key again; iOS shows Face ID, Touch ID or the passcode.
    public func unlock() async {
        do {
            try await eropaf.unlock(unlock: .platformKeyStore(keyStore: keyStore))
            locked = false
            error = nil
        } catch EropafError.Locked {
            locked = true
        } catch let failure as EropafError {
            error = failure.messageNl
        } catch {
            self.error = "\(error)"
        }
    }

    public func sync() async {
        do {
            lastSync = try await eropaf.sync(listener: Progress(model: self))
            error = nil
        } catch let failure as EropafError {
            error = failure.messageNl
        } catch {
            self.error = "\(error)"
        }
        syncProgress = nil
    }

    public func join(code: String) async {
        do {
            safetyCode = try await eropaf.join(code: code)
            lastSync = try await eropaf.sync(listener: nil)
            error = nil
        } catch let failure as EropafError {
            error = failure.messageNl
        } catch {
            self.error = "\(error)"
        }
    }

    private final class Progress: SyncListener, @unchecked Sendable {
        weak var model: AppModel?
        init(model: AppModel) { self.model = model }
        func onProgress(progress: SyncProgress) {
            Task { @MainActor [weak model] in model?.syncProgress = progress }
        }
    }

    private final class Observer: ChangeObserver, @unchecked Sendable {
        weak var model: AppModel?
        init(model: AppModel) { self.model = model }
        func casesChanged(caseIds: [String]) {
            Task { @MainActor [weak model] in model?.revision += 1 }
        }
    }
}
