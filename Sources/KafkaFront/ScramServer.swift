import Crypto
import Synchronization
import _CryptoExtras

#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// A SCRAM mechanism Kafka speaks (RFC 5802 with the hashes of RFC 7677 and Kafka's KIP-84).
package enum ScramMechanism: String, Sendable, CaseIterable, Hashable {
    case sha512 = "SCRAM-SHA-512"
    case sha256 = "SCRAM-SHA-256"

    fileprivate func hmac(key: [UInt8], _ data: [UInt8]) -> [UInt8] {
        switch self {
        case .sha512: Array(HMAC<SHA512>.authenticationCode(for: data, using: SymmetricKey(data: key)))
        case .sha256: Array(HMAC<SHA256>.authenticationCode(for: data, using: SymmetricKey(data: key)))
        }
    }

    fileprivate func hash(_ data: [UInt8]) -> [UInt8] {
        switch self {
        case .sha512: Array(SHA512.hash(data: data))
        case .sha256: Array(SHA256.hash(data: data))
        }
    }

    fileprivate func saltedPassword(_ password: String, salt: [UInt8], iterations: Int) -> [UInt8] {
        let (function, size): (KDF.Insecure.PBKDF2.HashFunction, Int) =
            switch self {
            case .sha512: (.sha512, 64)
            case .sha256: (.sha256, 32)
            }
        // PBKDF2 only fails on parameters we never pass (zero rounds or output size).
        let key = try! KDF.Insecure.PBKDF2.deriveKey(
            from: Array(password.utf8),
            salt: salt,
            using: function,
            outputByteCount: size,
            unsafeUncheckedRounds: iterations
        )
        return key.withUnsafeBytes { Array($0) }
    }
}

/// A user's stored SCRAM credential for one mechanism, as a broker keeps it: salt,
/// iteration count, StoredKey and ServerKey.
///
/// The keys are derived from the password when a client first authenticates, not when the
/// credential is made: 4,096 rounds of PBKDF2 were a tenth of the emulator's start-up, for a
/// credential most runs never use. Until then the password is kept (the emulator writes it
/// in the env file anyway).
package struct ScramCredential: Sendable {
    package let mechanism: ScramMechanism
    package let salt: [UInt8]
    package let iterations: Int
    private let keys: DerivedKeys

    var storedKey: [UInt8] { keys.value.stored }
    var serverKey: [UInt8] { keys.value.server }

    /// The credential of a password, with a random 16-byte salt unless `salt` is given.
    package init(mechanism: ScramMechanism, password: String, salt: [UInt8]? = nil, iterations: Int = 4096) {
        var generator = SystemRandomNumberGenerator()
        let salt = salt ?? (0..<16).map { _ in UInt8.random(in: .min ... .max, using: &generator) }
        self.mechanism = mechanism
        self.salt = salt
        self.iterations = iterations
        keys = DerivedKeys(mechanism: mechanism, password: password, salt: salt, iterations: iterations)
    }
}

/// StoredKey and ServerKey, derived once, on first use.
private final class DerivedKeys: Sendable {
    private enum State {
        case pending(password: String)
        case derived(stored: [UInt8], server: [UInt8])
    }
    private let mechanism: ScramMechanism
    private let salt: [UInt8]
    private let iterations: Int
    private let state: Mutex<State>

    init(mechanism: ScramMechanism, password: String, salt: [UInt8], iterations: Int) {
        self.mechanism = mechanism
        self.salt = salt
        self.iterations = iterations
        state = Mutex(.pending(password: password))
    }

    var value: (stored: [UInt8], server: [UInt8]) {
        state.withLock { state in
            switch state {
            case .derived(let stored, let server):
                return (stored, server)
            case .pending(let password):
                let salted = mechanism.saltedPassword(password, salt: salt, iterations: iterations)
                let stored = mechanism.hash(mechanism.hmac(key: salted, Array("Client Key".utf8)))
                let server = mechanism.hmac(key: salted, Array("Server Key".utf8))
                state = .derived(stored: stored, server: server)
                return (stored, server)
            }
        }
    }
}

/// The broker's side of one SCRAM exchange: client-first → server-first, client-final →
/// server-final. Failures end the exchange with a message for the log and Kafka's error.
package struct ScramServerExchange: Sendable {
    package enum Step: Sendable, Equatable {
        /// Send this message to the client and wait for its next one.
        case challenge([UInt8])
        /// Authenticated as `user`: send this last message.
        case success(user: String, message: [UInt8])
        /// Authentication failed; `reason` is for the log, never for the client.
        case failure(reason: String)
    }

    private enum State {
        case awaitingClientFirst
        case awaitingClientFinal(
            user: String,
            credential: ScramCredential,
            clientFirstBare: String,
            serverFirst: String,
            nonce: String,
            gs2Header: String
        )
        case done
    }

    package let mechanism: ScramMechanism
    private let lookup: @Sendable (String, ScramMechanism) -> ScramCredential?
    private let serverNonce: @Sendable () -> String
    private var state = State.awaitingClientFirst

    /// An exchange for `mechanism`; `lookup` finds a user's credential for a mechanism, and
    /// `serverNonce` makes the server's part of the nonce (random unless given, for tests).
    package init(
        mechanism: ScramMechanism,
        serverNonce: @escaping @Sendable () -> String = ScramServerExchange.randomNonce,
        lookup: @escaping @Sendable (String, ScramMechanism) -> ScramCredential?
    ) {
        self.mechanism = mechanism
        self.serverNonce = serverNonce
        self.lookup = lookup
    }

    /// Takes the client's next message and says what to answer.
    package mutating func receive(_ bytes: [UInt8]) -> Step {
        guard let message = String(bytes: bytes, encoding: .utf8) else {
            state = .done
            return .failure(reason: "a SCRAM message that is not UTF-8")
        }
        switch state {
        case .awaitingClientFirst:
            return clientFirst(message)
        case .awaitingClientFinal(let user, let credential, let clientFirstBare, let serverFirst, let nonce, let gs2):
            state = .done
            return clientFinal(
                message,
                user: user,
                credential: credential,
                clientFirstBare: clientFirstBare,
                serverFirst: serverFirst,
                nonce: nonce,
                gs2Header: gs2
            )
        case .done:
            return .failure(reason: "a SCRAM message after the exchange ended")
        }
    }

    private mutating func clientFirst(_ message: String) -> Step {
        state = .done
        // gs2-header: "n,," or "y,," (no channel binding), optionally with "a=authzid".
        let parts = message.split(separator: ",", maxSplits: 2, omittingEmptySubsequences: false)
        guard parts.count == 3, parts[0] == "n" || parts[0] == "y" else {
            return .failure(
                reason: "a client-first message without a gs2 header 'n,,' (channel binding is not offered)"
            )
        }
        let gs2Header = "\(parts[0]),\(parts[1]),"
        let bare = String(parts[2])
        let attributes = Self.attributes(bare)
        guard let rawUser = attributes["n"], let clientNonce = attributes["r"], !clientNonce.isEmpty else {
            return .failure(reason: "a client-first message without n= and r=")
        }
        let user = rawUser.replacing("=2C", with: ",").replacing("=3D", with: "=")
        guard let credential = lookup(user, mechanism) else {
            return .failure(reason: "unknown user '\(user)' for \(mechanism.rawValue)")
        }
        let nonce = clientNonce + serverNonce()
        let serverFirst = "r=\(nonce),s=\(Data(credential.salt).base64EncodedString()),i=\(credential.iterations)"
        state = .awaitingClientFinal(
            user: user,
            credential: credential,
            clientFirstBare: bare,
            serverFirst: serverFirst,
            nonce: nonce,
            gs2Header: gs2Header
        )
        return .challenge(Array(serverFirst.utf8))
    }

    private func clientFinal(
        _ message: String,
        user: String,
        credential: ScramCredential,
        clientFirstBare: String,
        serverFirst: String,
        nonce: String,
        gs2Header: String
    ) -> Step {
        guard let proofRange = message.firstRange(of: ",p=") else {
            return .failure(reason: "a client-final message without a proof")
        }
        let withoutProof = String(message[..<proofRange.lowerBound])
        let attributes = Self.attributes(withoutProof)
        guard attributes["c"] == Data(gs2Header.utf8).base64EncodedString() else {
            return .failure(reason: "a client-final message whose channel binding does not match its gs2 header")
        }
        // librdkafka before 2.6.1 repeats the client nonce in front of the whole nonce;
        // Apache Kafka (3.8.1) accepts a final nonce that ends with the server's.
        guard let finalNonce = attributes["r"], finalNonce.hasSuffix(nonce) else {
            return .failure(reason: "a client-final message with the wrong nonce")
        }
        guard let proof = Data(base64Encoded: String(message[proofRange.upperBound...])).map(Array.init),
            proof.count == credential.storedKey.count
        else {
            return .failure(reason: "a client-final message whose proof is not base64 of the right size")
        }
        let authMessage = Array("\(clientFirstBare),\(serverFirst),\(withoutProof)".utf8)
        let clientSignature = mechanism.hmac(key: credential.storedKey, authMessage)
        let clientKey = zip(proof, clientSignature).map { $0 ^ $1 }
        guard mechanism.hash(clientKey) == credential.storedKey else {
            return .failure(reason: "wrong password for '\(user)' (\(mechanism.rawValue))")
        }
        let serverSignature = mechanism.hmac(key: credential.serverKey, authMessage)
        return .success(user: user, message: Array("v=\(Data(serverSignature).base64EncodedString())".utf8))
    }

    private static func attributes(_ text: String) -> [String: String] {
        var result: [String: String] = [:]
        for part in text.split(separator: ",") {
            guard let equals = part.firstIndex(of: "="), equals != part.startIndex else { continue }
            let key = String(part[..<equals])
            if result[key] == nil { result[key] = String(part[part.index(after: equals)...]) }
        }
        return result
    }

    /// 18 random bytes in base64 (24 characters, no padding, no comma).
    package static func randomNonce() -> String {
        var generator = SystemRandomNumberGenerator()
        let bytes = (0..<18).map { _ in UInt8.random(in: .min ... .max, using: &generator) }
        return Data(bytes).base64EncodedString()
    }
}
