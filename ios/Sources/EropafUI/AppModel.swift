// The app's state: the one Eropaf object, whether it is locked, a revision bumped when a sync
// changed cases, the sync state for the status lines, and joining and the manual sync (the sync
// screen's, as on Android). Each screen's own state is its view model's (EropafViewModels).
import Eropaf
import EropafViewModels
import Foundation
import Network
import SwiftUI
import UIKit

@MainActor
public final class AppModel: ObservableObject {
    public let eropaf: Eropaf
    @Published public var revision = 0
    /// The last join or sync failure, in the core's Dutch.
    @Published public var error: String?
    @Published public private(set) var syncProgress: SyncProgress?
    @Published public private(set) var lastSync: SyncReport?
    /// The background syncer's state: last sync, what waits for a connection, failures.
    @Published public private(set) var syncState: SyncState?
    @Published public private(set) var team: TeamInfo?
    @Published public private(set) var members: [Member] = []
    /// The code this phone shows after asking to join; the supervisor compares it.
    @Published public private(set) var safetyCode: String?
    /// True while the core holds no store key (the team's idle time passed or the app went to
    /// the background): the app shows only the unlock screen.
    @Published public private(set) var locked = false
    private let keyStore: KeyStore
    private let network = NWPathMonitor()

    public init(directory: URL, keyStore: KeyStore = KeychainKeyStore()) throws {
        self.keyStore = keyStore
        let unlock = Unlock.platformKeyStore(keyStore: keyStore)
        do {
            eropaf = try Eropaf.open(dir: directory.path, unlock: unlock)
        } catch EropafError.NoStore {
            eropaf = try Eropaf.create(dir: directory.path, unlock: unlock, deviceName: UIDevice.current.name)
        }
        // A preview cut short by the app being killed leaves its file behind.
        OpenedFiles.removeAll()
        eropaf.setChangeObserver(observer: Observer(model: self))
        eropaf.startAutoSync(timing: nil, observer: StateObserver(model: self))
        eropaf.reportInUse(inUse: true)
        watchNetwork()
    }

    /// The core decides when to sync and whether files come down on Wi-Fi; the app only says
    /// which network it is on. @Sendable: NWPathMonitor calls it on its own queue.
    private func watchNetwork() {
        let eropaf = self.eropaf
        network.pathUpdateHandler = { @Sendable path in
            let online = path.status == .satisfied
            eropaf.reportNetwork(online: online)
            if online && !path.isExpensive && !path.isConstrained {
                Task { _ = try? await eropaf.fetchFiles(onUnmeteredNetwork: true, listener: nil) }
            }
        }
        network.start(queue: DispatchQueue(label: "nl.eropaf.network"))
    }

    /// The app went to the background or a view model found the store locked: the store key
    /// leaves memory, and so do files shown in QuickLook; a running sync finishes.
    public func lock() {
        eropaf.reportInUse(inUse: false)
        eropaf.lock()
        OpenedFiles.removeAll()
        locked = true
    }

    /// Asks the Keychain for the key again; iOS shows Face ID, Touch ID or the passcode.
    public func unlock() async {
        do {
            try await eropaf.unlock(unlock: .platformKeyStore(keyStore: keyStore))
            eropaf.reportInUse(inUse: true)
            locked = false
            error = nil
        } catch EropafError.Locked {
            locked = true
        } catch {
            self.error = dutchMessage(error)
        }
    }

    /// The team, its members and the join's safety code, read again for the sync screen.
    public func readTeam() {
        team = attempt { try eropaf.teamInfo() } ?? nil
        members = team == nil ? [] : (attempt { try eropaf.members() } ?? [])
        if safetyCode == nil { safetyCode = attempt { try eropaf.joinSafetyCode() } ?? nil }
    }

    public func sync() async {
        do {
            lastSync = try await eropaf.sync(listener: Progress(model: self))
            error = nil
        } catch {
            self.error = dutchMessage(error)
        }
        syncProgress = nil
        readTeam()
    }

    /// Asks to join with an invitation code and shows the safety code the supervisor compares.
    public func join(code: String) async {
        do {
            safetyCode = try await eropaf.join(code: code)
            lastSync = try await eropaf.sync(listener: nil)
            error = nil
        } catch {
            self.error = dutchMessage(error)
        }
        readTeam()
    }

    private func attempt<T>(_ call: () throws -> T) -> T? {
        do {
            return try call()
        } catch EropafError.Locked {
            locked = true
            return nil
        } catch {
            self.error = dutchMessage(error)
            return nil
        }
    }

    private func dutchMessage(_ error: Error) -> String {
        (error as? EropafError)?.messageNl ?? "\(error)"
    }

    private final class Progress: SyncListener, @unchecked Sendable {
        weak var model: AppModel?
        init(model: AppModel) { self.model = model }
        func onProgress(progress: SyncProgress) {
            Task { @MainActor [weak model] in model?.syncProgress = progress }
        }
    }

    private final class StateObserver: SyncStateObserver, @unchecked Sendable {
        weak var model: AppModel?
        init(model: AppModel) { self.model = model }
        func onState(state: SyncState) {
            Task { @MainActor [weak model] in model?.syncState = state }
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
