// The sync state as the app's status line says it, in Dutch: when the phone last synced, what
// waits for a connection, and why the last try failed. A pure function of the core's
// SyncState, as the Android SyncStatus.
import Eropaf
import Foundation

public enum SyncStatus {
    /// The status lines, most important first. `now` decides whether the last sync is shown
    /// with its time only (today) or with its day too.
    public static func lines(_ state: SyncState, timeZone: TimeZone, now: Date = Date()) -> [String] {
        var lines: [String] = []
        if state.syncing {
            lines.append("Synchroniseren…")
        } else if !state.online {
            lines.append("Geen verbinding: wat je vastlegt blijft op deze telefoon tot er weer verbinding is")
        } else if let at = state.lastSyncedAt {
            var calendar = Calendar(identifier: .gregorian)
            calendar.timeZone = timeZone
            let pattern = calendar.isDate(at, inSameDayAs: now) ? "HH:mm" : "d-M HH:mm"
            lines.append("Laatst gesynchroniseerd \(Dutch.format(at, pattern, timeZone))")
        } else {
            lines.append("Nog niet gesynchroniseerd")
        }
        if let waiting = CaseListViewModel.waitingText(changes: state.unsentChanges, files: state.unsentFiles) {
            lines.append(waiting)
        }
        if let error = state.lastError {
            let times = state.failures > 1 ? " (\(state.failures) keer)" : ""
            lines.append("Synchroniseren lukte niet\(times): \(error)")
        }
        return lines
    }
}
