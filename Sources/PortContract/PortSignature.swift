import Crypto

#if canImport(FoundationEssentials)
public import FoundationEssentials
#else
public import Foundation
#endif

/// The signature Port puts on messages for its execution agent (`WEBHOOK` actions with
/// `agent: true`), exactly as port-agent verifies it.
///
/// The message carries `"headers": {"X-Port-Signature": "v1,<base64>", "X-Port-Timestamp":
/// "<epoch seconds>"}`. The signature is base64(HMAC-SHA256(key: client secret, data:
/// "<timestamp>.<compact JSON of the message without those two header keys>")), the compact
/// JSON being Python's `json.dumps(separators=(",", ":"), ensure_ascii=False)`.
public enum PortSignature {
    /// The header that carries the signature.
    public static let signatureHeader = "X-Port-Signature"
    /// The header that carries the timestamp.
    public static let timestampHeader = "X-Port-Timestamp"

    /// `v1,<base64 HMAC-SHA256>` of `"<timestamp>.<text>"` keyed with `secret`.
    public static func sign(_ text: String, secret: String, timestamp: String) -> String {
        let key = SymmetricKey(data: Data(secret.utf8))
        let code = HMAC<SHA256>.authenticationCode(for: Data("\(timestamp).\(text)".utf8), using: key)
        return "v1," + Data(code).base64EncodedString()
    }

    /// The message with `headers` holding a signature and timestamp of everything else.
    /// Other headers the message already has are kept and signed.
    public static func signed(_ message: JSONObject, secret: String, at date: Date) -> JSONObject {
        let timestamp = String(Int(date.timeIntervalSince1970))
        var unsigned = message
        var headers = message["headers"]?.objectValue ?? [:]
        headers[signatureHeader] = nil
        headers[timestampHeader] = nil
        unsigned["headers"] = .object(headers)
        headers[signatureHeader] = .string(
            sign(JSONValue.object(unsigned).compactText, secret: secret, timestamp: timestamp)
        )
        headers[timestampHeader] = .string(timestamp)
        unsigned["headers"] = .object(headers)
        return unsigned
    }

    /// Whether a received message carries a valid signature for `secret`: port-agent's check.
    public static func isValid(_ message: JSONObject, secret: String) -> Bool {
        guard let headers = message["headers"]?.objectValue,
            let signature = headers[signatureHeader]?.stringValue,
            let timestamp = headers[timestampHeader]?.stringValue
        else { return false }
        var stripped = headers
        stripped[signatureHeader] = nil
        stripped[timestampHeader] = nil
        var unsigned = message
        unsigned["headers"] = .object(stripped)
        return sign(JSONValue.object(unsigned).compactText, secret: secret, timestamp: timestamp) == signature
    }
}
