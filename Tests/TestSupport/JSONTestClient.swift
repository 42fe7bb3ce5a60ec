import Foundation
public import PortContract

/// The tests' one JSON client of an HTTP API on 127.0.0.1, over `RawHTTPClient`: every
/// request carries `Content-Type: application/json` and, when given, a bearer token.
public struct JSONTestClient: Sendable {
    /// The port of the API.
    public let port: Int

    /// A client of the API on `port`.
    public init(port: Int) {
        self.port = port
    }

    /// A client of the API at `baseURL` (`http://127.0.0.1:PORT`, with or without a path).
    public init(baseURL: String) {
        let hostAndPort = baseURL.split(separator: "/").dropFirst().first ?? ""
        port = Int(hostAndPort.split(separator: ":").last ?? "") ?? 0
    }

    /// Sends one request; the answer's status, JSON body and headers (lower-cased names).
    public func call(
        _ method: String,
        _ path: String,
        token: String? = nil,
        body: String? = nil
    ) async throws -> (status: Int, json: JSONValue, headers: [String: String]) {
        var headers: [(String, String)] = [("Content-Type", "application/json")]
        if let token { headers.append(("Authorization", "Bearer \(token)")) }
        let response = try await RawHTTPClient.send(
            port: port,
            method: method,
            path: path,
            headers: headers,
            body: Array((body ?? "").utf8)
        )
        return (response.status, try JSONValue.parse(response.body), response.headers)
    }

    /// An access token for these credentials, from `POST /v1/auth/access_token`.
    public func token(clientID: String, clientSecret: String) async throws -> String {
        let body: JSONValue = ["clientId": .string(clientID), "clientSecret": .string(clientSecret)]
        let answer = try await call("POST", "/v1/auth/access_token", body: body.compactText)
        guard let token = answer.json["accessToken"]?.stringValue else {
            throw RawHTTPError(description: "no access token in \(answer.status) \(answer.json.compactText)")
        }
        return token
    }
}
