public import Crypto

#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// Port's encryption of secret inputs (`"encryption": "aes256-gcm"`, contract §8), exactly
/// as port-agent decrypts them (`app/utils.py`): standard base64 of a 16-byte IV, the
/// ciphertext and the 16-byte GCM tag; the key is the first 32 bytes (UTF-8) of the client
/// secret; no additional data. Object inputs are encrypted as their compact JSON text.
public enum SecretInput {
    /// The key's length, and so the shortest client secret that can encrypt.
    public static let keyLength = 32
    /// The IV's length (not GCM's usual 12).
    public static let ivLength = 16
    /// The tag's length.
    public static let tagLength = 16

    /// Why a value could not be encrypted or decrypted.
    public struct Failure: Error, Sendable, Equatable, CustomStringConvertible {
        /// What is wrong.
        public let description: String

        /// A failure saying what is wrong.
        public init(description: String) { self.description = description }
    }

    /// The key: the secret's first 32 UTF-8 bytes; a shorter secret cannot be a key.
    public static func key(clientSecret: String) throws(Failure) -> SymmetricKey {
        let bytes = Array(clientSecret.utf8)
        guard bytes.count >= keyLength else {
            throw Failure(
                description:
                    "the client secret is \(bytes.count) bytes; secret inputs need one of at least \(keyLength) (the key is its first \(keyLength) bytes)"
            )
        }
        return SymmetricKey(data: bytes.prefix(keyLength))
    }

    /// The text Port encrypts for an input value: a string as it is, anything else as
    /// compact JSON.
    public static func plaintext(of value: JSONValue) -> [UInt8] {
        if let text = value.stringValue { return Array(text.utf8) }
        return value.compactBytes
    }

    /// Encrypts `plaintext` with a fresh random IV; returns base64(IV ‖ ciphertext ‖ tag).
    public static func encrypt(_ plaintext: [UInt8], clientSecret: String) throws(Failure) -> String {
        let key = try key(clientSecret: clientSecret)
        do {
            let nonce = try AES.GCM.Nonce(data: (0..<ivLength).map { _ in UInt8.random(in: 0...255) })
            let box = try AES.GCM.seal(plaintext, using: key, nonce: nonce)
            return Data(Array(nonce) + Array(box.ciphertext) + Array(box.tag)).base64EncodedString()
        } catch {
            throw Failure(description: "AES-256-GCM could not encrypt: \(error)")
        }
    }

    /// Decrypts base64(IV ‖ ciphertext ‖ tag); a value that is not base64, too short, or
    /// whose tag does not match the key is an error saying which.
    public static func decrypt(_ encoded: String, clientSecret: String) throws(Failure) -> [UInt8] {
        let key = try key(clientSecret: clientSecret)
        guard let data = Data(base64Encoded: encoded) else { throw Failure(description: "the value is not base64") }
        let bytes = Array(data)
        guard bytes.count >= ivLength + tagLength else {
            throw Failure(
                description: "the value is \(bytes.count) bytes, shorter than an IV and a tag (\(ivLength + tagLength))"
            )
        }
        do {
            let box = try AES.GCM.SealedBox(
                nonce: AES.GCM.Nonce(data: bytes[..<ivLength]),
                ciphertext: bytes[ivLength..<(bytes.count - tagLength)],
                tag: bytes[(bytes.count - tagLength)...]
            )
            return Array(try AES.GCM.open(box, using: key))
        } catch {
            throw Failure(
                description: "the value does not decrypt with this client secret (wrong key or altered value)"
            )
        }
    }
}
