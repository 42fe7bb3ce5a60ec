package import PortContract
package import StateLog
import Synchronization

#if canImport(FoundationEssentials)
package import FoundationEssentials
#else
package import Foundation
#endif

/// Port's access tokens: one active token per credential pair, the same token until it expires.
package final class TokenStore: Sendable {
    private struct Issued {
        let token: String
        let clientID: String
        let expiresAt: Date
    }

    private struct State {
        var byClient: [String: Issued] = [:]
        var byToken: [String: Issued] = [:]

        /// Makes `issued` its client's active token, in place of the one before.
        mutating func activate(_ issued: Issued) {
            if let old = byClient[issued.clientID] { byToken[old.token] = nil }
            byClient[issued.clientID] = issued
            byToken[issued.token] = issued
        }

        /// Expires every token at `time`. They are kept, marked expired, so that their next
        /// use is refused as expired rather than unknown.
        mutating func expireAll(at time: Date) {
            for (token, issued) in byToken where issued.expiresAt > time {
                byToken[token] = Issued(token: token, clientID: issued.clientID, expiresAt: time)
            }
            byClient.removeAll()
        }
    }

    private let credentials: [String: String]
    private let ttl: Duration
    private let orgID: String
    private let now: @Sendable () -> Date
    private let state = Mutex(State())
    /// Where issued tokens are recorded (`--state-dir`), so that a consumer's token still
    /// works after a restart.
    private let stateLog: StateLog?

    /// Creates a store that accepts these client id → secret pairs and issues tokens living
    /// `ttl`, recording each in `stateLog` when given.
    package init(
        credentials: [String: String],
        ttl: Duration,
        orgID: String,
        now: @escaping @Sendable () -> Date = { Date() },
        stateLog: StateLog? = nil
    ) {
        self.credentials = credentials
        self.ttl = ttl
        self.orgID = orgID
        self.now = now
        self.stateLog = stateLog
    }

    /// A token and its lifetime in whole seconds.
    package struct Grant: Sendable, Equatable {
        /// The bearer token.
        package let accessToken: String
        /// Seconds until it expires.
        package let expiresIn: Int
    }

    /// Issues a token for valid credentials, or returns the one still active.
    package func issue(clientID: String, clientSecret: String) throws(PortError) -> Grant {
        guard let secret = credentials[clientID], secret == clientSecret else {
            throw PortError(
                status: 401,
                code: "unauthorized",
                message: "The client id or client secret is incorrect",
                rule: "valid-credentials"
            )
        }
        let current = now()
        return state.withLock { state in
            if let active = state.byClient[clientID], active.expiresAt > current {
                return Grant(accessToken: active.token, expiresIn: Int(active.expiresAt.timeIntervalSince(current)))
            }
            let expiresAt = current.addingTimeInterval(ttl.seconds)
            let issued = Issued(
                token: makeToken(clientID: clientID, issuedAt: current, expiresAt: expiresAt),
                clientID: clientID,
                expiresAt: expiresAt
            )
            state.activate(issued)
            stateLog.record(.tokens, "tok", Self.stateRecord(issued, active: true))
            return Grant(accessToken: issued.token, expiresIn: Int(ttl.seconds.rounded()))
        }
    }

    /// The client id behind an `Authorization` header value, or 401 `unauthorized`.
    package func authenticate(authorization: String?) throws(PortError) -> String {
        guard let token = Self.bearerToken(authorization) else {
            throw Self.unauthorized("Authorization header with a Bearer token is required", rule: "token-required")
        }
        guard let issued = state.withLock({ $0.byToken[token] }) else {
            throw Self.unauthorized("token is invalid", rule: "token-known")
        }
        guard issued.expiresAt > now() else { throw Self.unauthorized("token is expired", rule: "token-not-expired") }
        return issued.clientID
    }

    /// The client id of a token, without checking expiry (for the journal).
    package func clientID(forAuthorization authorization: String?) -> String? {
        guard let token = Self.bearerToken(authorization) else { return nil }
        return state.withLock { $0.byToken[token]?.clientID }
    }

    /// The token of an `Authorization: Bearer <token>` header value, if it is one.
    private static func bearerToken(_ authorization: String?) -> String? {
        guard let authorization else { return nil }
        let bytes = authorization.utf8
        let scheme = Array("bearer ".utf8)
        guard bytes.count > scheme.count, zip(bytes, scheme).allSatisfy({ $0 | 0x20 == $1 }) else { return nil }
        let token = bytes.dropFirst(scheme.count).drop { $0 == UInt8(ascii: " ") }
        let end = token.lastIndex { $0 != UInt8(ascii: " ") }.map { token.index(after: $0) } ?? token.startIndex
        return String(decoding: token[..<end], as: UTF8.self)
    }

    /// Expires every token now.
    package func expireAll() {
        let current = now()
        state.withLock { state in
            state.expireAll(at: current)
            stateLog.record(.tokens, "expire-all", ["at": current.stateJSON])
        }
    }

    private static func stateRecord(_ issued: Issued, active: Bool) -> JSONObject {
        [
            "token": .string(issued.token), "clientID": .string(issued.clientID),
            "expiresAt": issued.expiresAt.stateJSON, "active": .bool(active),
        ]
    }

    /// Applies one record of the tokens (`--state-dir`'s load). Records nothing.
    package func restore(_ kind: String, _ fields: JSONObject) throws(StateCodecError) {
        let record = try StateFields(.object(fields), "token")
        switch kind {
        case "tok":
            let issued = Issued(
                token: try record.string("token"),
                clientID: try record.string("clientID"),
                expiresAt: try record.date("expiresAt")
            )
            let active = try record.bool("active")
            state.withLock { state in
                if active { state.activate(issued) } else { state.byToken[issued.token] = issued }
            }
        case "expire-all":
            let time = try record.date("at")
            state.withLock { $0.expireAll(at: time) }
        default: throw StateCodecError(field: "k", reason: "\"\(kind)\" is not a kind of the tokens' records")
        }
    }

    /// The tokens as records (those that expired a day ago are dropped), and the last log
    /// record they include.
    package func stateSection() -> StateSection {
        let (copy, fence) = state.withLock { ($0, stateLog.fence) }
        let horizon = now().addingTimeInterval(-86_400)
        let records = copy.byToken.values.filter { $0.expiresAt > horizon }.sorted { $0.token < $1.token }.map {
            issued in
            StateRecords.payload(
                .tokens,
                "tok",
                Self.stateRecord(issued, active: copy.byClient[issued.clientID]?.token == issued.token)
            )
        }
        return StateSection(store: .tokens, fence: fence, records: records)
    }

    private static func unauthorized(_ message: String, rule: String) -> PortError {
        PortError(status: 401, code: "unauthorized", message: message, rule: rule)
    }

    /// A JWT-shaped token (header.payload.signature, base64url) naming the client and org.
    /// Client credentials are a machine's, as in Port's tokens: `isMachine: true` and
    /// `personalToken: false` (Ocean's actions processor polls only for a machine token).
    private func makeToken(clientID: String, issuedAt: Date, expiresAt: Date) -> String {
        let header: JSONValue = ["alg": "HS256", "typ": "JWT"]
        let payload: JSONValue = [
            "clientId": .string(clientID), "orgId": .string(orgID),
            "iat": .int(Int64(issuedAt.timeIntervalSince1970)), "exp": .int(Int64(expiresAt.timeIntervalSince1970)),
            "jti": .string(PortIdentifier.make(prefix: "")), "isMachine": true, "personalToken": false,
        ]
        let signature = (0..<32).map { _ in UInt8.random(in: 0...255) }
        return [header.compactBytes, payload.compactBytes, signature].map(Self.base64URL).joined(separator: ".")
    }

    private static func base64URL(_ bytes: [UInt8]) -> String {
        Data(bytes).base64EncodedString()
            .replacing("+", with: "-")
            .replacing("/", with: "_")
            .replacing("=", with: "")
    }
}

extension Duration {
    /// The duration in seconds, as a floating-point number.
    package var seconds: Double {
        let (seconds, attoseconds) = components
        return Double(seconds) + Double(attoseconds) / 1e18
    }
}
