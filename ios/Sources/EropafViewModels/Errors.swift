// The Dutch sentence of any error the core throws. Each case of `EropafError` carries its own
// `messageNl`; code that catches the enum as a whole (a screen showing whatever went wrong)
// reads it through this, and a new case added to the core fails to compile here first.
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
