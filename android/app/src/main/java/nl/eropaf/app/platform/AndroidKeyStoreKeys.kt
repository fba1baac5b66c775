// The store key in the Android Keystore. The core needs the 256-bit key itself, and keys
// inside the AndroidKeyStore never leave it; so a non-exportable AES key there wraps the
// store key (AES-GCM), and only the wrapped bytes lie in the app's no-backup directory.
// The wrapping key needs the user's presence: it works only for a short while after the
// phone's PIN, pattern or biometric was confirmed, and otherwise the core hears Locked.
package nl.eropaf.app.platform

import android.content.Context
import android.os.Build
import android.security.keystore.KeyGenParameterSpec
import android.security.keystore.KeyProperties
import android.security.keystore.UserNotAuthenticatedException
import java.io.File
import java.security.KeyStore as JavaKeyStore
import javax.crypto.Cipher
import javax.crypto.KeyGenerator
import javax.crypto.SecretKey
import javax.crypto.spec.GCMParameterSpec
import nl.eropaf.core.EropafException
import nl.eropaf.core.KeyStore

class AndroidKeyStoreKeys(context: Context) : KeyStore {
    private val wrapped = File(context.noBackupFilesDir, "store-key.wrapped")

    override fun loadKey(): ByteArray? {
        if (!wrapped.exists()) return null
        val bytes = wrapped.readBytes()
        if (bytes.size <= IV_BYTES) throw keyStoreError("the wrapped store key is truncated")
        return try {
            val cipher = Cipher.getInstance(TRANSFORMATION)
            cipher.init(Cipher.DECRYPT_MODE, wrappingKey(), GCMParameterSpec(128, bytes, 0, IV_BYTES))
            cipher.doFinal(bytes, IV_BYTES, bytes.size - IV_BYTES)
        } catch (e: UserNotAuthenticatedException) {
            throw EropafException.Locked("Bevestig met je vingerafdruk, gezicht of pincode.")
        } catch (e: java.security.GeneralSecurityException) {
            throw keyStoreError(e.javaClass.simpleName)
        }
    }

    override fun saveKey(key: ByteArray) {
        try {
            val cipher = Cipher.getInstance(TRANSFORMATION)
            cipher.init(Cipher.ENCRYPT_MODE, wrappingKey())
            val sealed = cipher.iv + cipher.doFinal(key)
            val partial = File(wrapped.path + ".new")
            partial.writeBytes(sealed)
            if (!partial.renameTo(wrapped)) throw keyStoreError("could not store the wrapped key")
        } catch (e: UserNotAuthenticatedException) {
            throw EropafException.Locked("Bevestig met je vingerafdruk, gezicht of pincode.")
        } catch (e: java.security.GeneralSecurityException) {
            throw keyStoreError(e.javaClass.simpleName)
        }
    }

    private fun wrappingKey(): SecretKey {
        val keyStore = JavaKeyStore.getInstance(PROVIDER).apply { load(null) }
        (keyStore.getKey(ALIAS, null) as? SecretKey)?.let { return it }
        val generator = KeyGenerator.getInstance(KeyProperties.KEY_ALGORITHM_AES, PROVIDER)
        val spec = KeyGenParameterSpec.Builder(ALIAS, KeyProperties.PURPOSE_ENCRYPT or KeyProperties.PURPOSE_DECRYPT)
            .setBlockModes(KeyProperties.BLOCK_MODE_GCM)
            .setEncryptionPaddings(KeyProperties.ENCRYPTION_PADDING_NONE)
            .setKeySize(256)
            // The user's presence unlocks it; the core decides how long the store then stays
            // open (its idle time), this only how long after the prompt the key may be read.
            .setUserAuthenticationRequired(true)
            // Removing the screen lock or enrolling a new fingerprint makes the key unusable:
            // a thief who adds her own finger reads nothing.
            .setInvalidatedByBiometricEnrollment(true)
        if (Build.VERSION.SDK_INT >= Build.VERSION_CODES.R) {
            spec.setUserAuthenticationParameters(
                PRESENCE_VALID_SECONDS,
                KeyProperties.AUTH_BIOMETRIC_STRONG or KeyProperties.AUTH_DEVICE_CREDENTIAL,
            )
        } else {
            @Suppress("DEPRECATION")
            spec.setUserAuthenticationValidityDurationSeconds(PRESENCE_VALID_SECONDS)
        }
        generator.init(spec.build())
        return generator.generateKey()
    }

    private fun keyStoreError(detail: String) = EropafException.KeyStore(
        detail,
        "De sleutelopslag van het apparaat gaf een fout: $detail",
    )

    private companion object {
        const val PROVIDER = "AndroidKeyStore"
        const val ALIAS = "eropaf-store-key-wrapper"
        const val TRANSFORMATION = "AES/GCM/NoPadding"
        const val IV_BYTES = 12
        const val PRESENCE_VALID_SECONDS = 30
    }
}
