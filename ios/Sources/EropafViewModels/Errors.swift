// The Dutch sentence of any error the core throws, and how a screen's call records it. Each case
// of `EropafError` carries its own `messageNl`; code that catches the enum as a whole reads it
// through this, and a new case added to the core fails to compile here first.
import Eropaf

extension EropafError {
    /// The Dutch sentence the core wrote for this error.
    public var messageNl: String {
        switch self {
        case let .NotFound(_, _, message), let .InvalidInput(_, _, message),
             let .InvalidFramework(_, _, message), let .Locked(message), let .Destroyed(message),
             let .NoStore(_, message), let .AlreadyExists(_, message),
             let .Unauthorised(_, message), let .Network(_, _, message),
             let .Storage(_, message), let .Corrupt(_, message), let .KeyStore(_, message),
             let .Crypto(_, message), let .Refused(_, message), let .Document(_, message),
             let .Internal(_, message):
            return message
        }
    }
}

/// What a view model shows for an error: the core's sentence, or the error itself when
/// something other than the core threw (the bindings failing to read an answer).
func dutchMessage(_ error: Error) -> String {
    (error as? EropafError)?.messageNl ?? "\(error)"
}

/// What every screen's state says of its last call to the core.
protocol ScreenState: Equatable {
    /// A Dutch message when the last call failed.
    var error: String? { get set }
    /// The store is locked: the screen shows only the unlock screen.
    var locked: Bool { get set }
    /// Records a call that failed other than on a locked store. A screen that reads more into
    /// an error (the case page: NotFound means its case is gone) says so here.
    mutating func failed(_ error: Error)
}

extension ScreenState {
    mutating func failed(_ error: Error) {
        self.error = dutchMessage(error)
    }

    /// The state after one of the screen's calls to the core: cleared after a success, `locked`
    /// when the store is locked, `failed` otherwise. As the Android presenters' `call`; a value
    /// in, a value out, so that the case page on the main actor and the other view models share
    /// it, and a view model writes `state` once and its screen re-renders once.
    func after(_ call: Result<Void, Error>) -> Self {
        var next = self
        switch call {
        case .success:
            next.error = nil
            next.locked = false
        case .failure(EropafError.Locked):
            next.locked = true
        case let .failure(error):
            next.failed(error)
        }
        return next
    }
}
