import Crypto
import Foundation
import KafkaFront
import KafkaProtocol
import Testing
import _CryptoExtras

@Suite("The broker's side of SCRAM (RFC 5802, RFC 7677)", .timeLimit(.minutes(10)))
struct ScramTests {
    // RFC 7677, section 3: user "user", password "pencil", 4096 iterations.
    static let salt = Array(Data(base64Encoded: "W22ZaJ0SNY7soEsUEjb6gQ==")!)
    static let clientFirst = "n,,n=user,r=rOprNGfwEbeRWgbNEkqO"
    static let serverFirst = "r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096"
    static let clientFinal =
        "c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ="
    static let serverFinal = "v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4="

    static func exchange(password: String = "pencil") -> ScramServerExchange {
        let credential = ScramCredential(mechanism: .sha256, password: password, salt: salt, iterations: 4096)
        return ScramServerExchange(
            mechanism: .sha256,
            serverNonce: { "%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0" },
            lookup: { user, _ in user == "user" ? credential : nil }
        )
    }

    @Test("RFC 7677's SCRAM-SHA-256 example: the server's messages are the RFC's, byte for byte")
    func rfcVector() {
        var exchange = Self.exchange()
        #expect(exchange.receive(Array(Self.clientFirst.utf8)) == .challenge(Array(Self.serverFirst.utf8)))
        #expect(
            exchange.receive(Array(Self.clientFinal.utf8))
                == .success(user: "user", message: Array(Self.serverFinal.utf8))
        )
    }

    @Test("a wrong password, an unknown user, a wrong nonce and channel binding are refused")
    func refusals() {
        var wrongPassword = Self.exchange(password: "pen")
        _ = wrongPassword.receive(Array(Self.clientFirst.utf8))
        guard case .failure(let reason) = wrongPassword.receive(Array(Self.clientFinal.utf8)) else {
            Issue.record("a wrong password logged in")
            return
        }
        #expect(reason.contains("wrong password for 'user'"))

        var unknown = Self.exchange()
        #expect(
            unknown.receive(Array("n,,n=nobody,r=abc".utf8))
                == .failure(reason: "unknown user 'nobody' for SCRAM-SHA-256")
        )

        var otherNonce = Self.exchange()
        _ = otherNonce.receive(Array(Self.clientFirst.utf8))
        let tampered = Self.clientFinal.replacingOccurrences(of: "$k0,p=", with: "$k1,p=")
        #expect(
            otherNonce.receive(Array(tampered.utf8)) == .failure(reason: "a client-final message with the wrong nonce")
        )

        var binding = Self.exchange()
        #expect(
            binding.receive(Array("p=tls-unique,,n=user,r=abc".utf8))
                == .failure(
                    reason: "a client-first message without a gs2 header 'n,,' (channel binding is not offered)"
                )
        )
    }

    @Test("librdkafka before 2.6.1 repeats the client nonce in its final message: accepted, as Apache Kafka does")
    func librdkafkaNonce() {
        var exchange = Self.exchange()
        _ = exchange.receive(Array(Self.clientFirst.utf8))
        // The proof covers the final message as the client sent it, so compute one for it.
        let final = "c=biws,r=rOprNGfwEbeRWgbNEkqOrOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0"
        let proof = ScramTestClient.proof(
            password: "pencil",
            salt: Self.salt,
            authMessage: "n=user,r=rOprNGfwEbeRWgbNEkqO,\(Self.serverFirst),\(final)"
        )
        guard case .success(let user, _) = exchange.receive(Array("\(final),p=\(proof)".utf8)) else {
            Issue.record("the repeated nonce was refused")
            return
        }
        #expect(user == "user")
    }
}

/// The client's proof per RFC 5802 (SHA-256), to build a message no client library here sends.
enum ScramTestClient {
    static func proof(password: String, salt: [UInt8], authMessage: String) -> String {
        let salted = try! KDF.Insecure.PBKDF2.deriveKey(
            from: Array(password.utf8),
            salt: salt,
            using: .sha256,
            outputByteCount: 32,
            unsafeUncheckedRounds: 4096
        )
        let clientKey = Array(HMAC<SHA256>.authenticationCode(for: Array("Client Key".utf8), using: salted))
        let storedKey = Array(SHA256.hash(data: clientKey))
        let signature = Array(
            HMAC<SHA256>.authenticationCode(for: Array(authMessage.utf8), using: SymmetricKey(data: storedKey))
        )
        return Data(zip(clientKey, signature).map { $0 ^ $1 }).base64EncodedString()
    }
}
