// The Dutch sentence of any error the core throws, and how a screen's call records it. Each
// case of `EropafException` carries its own `messageNl`; code that catches the sealed base reads
// it through this, and a new case added to the core fails to compile here first.
package nl.eropaf.presenters

import kotlinx.coroutines.flow.MutableStateFlow
import kotlinx.coroutines.flow.update
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

/**
 * Runs one of a screen's calls to the core and writes how it went into the screen's state:
 * `cleared` after a success, `locked` when the store is locked (the app then shows only the
 * unlock screen), `failed` with the core's Dutch sentence for any other error.
 */
internal inline fun <S> MutableStateFlow<S>.call(
    cleared: (S) -> S,
    crossinline locked: (S) -> S,
    crossinline failed: (S, EropafException) -> S,
    action: () -> Unit,
) {
    try {
        action()
        update(cleared)
    } catch (e: EropafException.Locked) {
        update { locked(it) }
    } catch (e: EropafException) {
        update { failed(it, e) }
    }
}
