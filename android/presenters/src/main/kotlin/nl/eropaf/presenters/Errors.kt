// The Dutch sentence of any error the core throws. Each case of `EropafException` carries its
// own `messageNl`; code that catches the sealed base (a screen showing whatever went wrong)
// reads it through this, and a new case added to the core fails to compile here first.
package nl.eropaf.presenters

import nl.eropaf.core.EropafException

val EropafException.messageNl: String
    get() = when (this) {
        is EropafException.NotFound -> messageNl
        is EropafException.InvalidInput -> messageNl
        is EropafException.InvalidFramework -> messageNl
        is EropafException.Locked -> messageNl
        is EropafException.Destroyed -> messageNl
        is EropafException.NoStore -> messageNl
        is EropafException.AlreadyExists -> messageNl
        is EropafException.Unauthorised -> messageNl
        is EropafException.Network -> messageNl
        is EropafException.Storage -> messageNl
        is EropafException.Corrupt -> messageNl
        is EropafException.KeyStore -> messageNl
        is EropafException.Crypto -> messageNl
        is EropafException.Refused -> messageNl
        is EropafException.Document -> messageNl
        is EropafException.Internal -> messageNl
    }
