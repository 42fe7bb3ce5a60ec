import AsyncHTTPClient
import NIOCore
import NIOHTTP1
import PortContract

#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// Posts the invocation to a URL with Port's signature headers, as port-agent does; a 2xx
/// answer means SUCCESS.
public struct WebhookHandler: Sendable {
    /// Where the invocation goes.
    public var url: String
    /// The key of `X-Port-Signature` (the client secret).
    public var signingSecret: String
    /// How long the endpoint may take.
    public var timeout: Duration = .seconds(30)

    /// A handler posting to `url`.
    public init(url: String, signingSecret: String) {
        self.url = url
        self.signingSecret = signingSecret
    }

    /// The handler as a `RunHandler`.
    public var handler: RunHandler { { context in try await post(context) } }

    private func post(_ context: RunContext) async throws {
        let body = context.invocation.message.compactText
        let timestamp = String(Int(Date().timeIntervalSince1970))
        var request = HTTPClientRequest(url: url)
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/json")
        request.headers.add(name: PortSignature.timestampHeader, value: timestamp)
        request.headers.add(
            name: PortSignature.signatureHeader,
            value: PortSignature.sign(body, secret: signingSecret, timestamp: timestamp)
        )
        request.body = .bytes(ByteBuffer(string: body))
        try await context.log("Sending the invocation to \(url)")
        let response = try await HTTPClient.shared.execute(request, timeout: .seconds(timeout.components.seconds))
        let status = Int(response.status.code)
        guard (200..<300).contains(status) else {
            let text = String(buffer: try await response.body.collect(upTo: 4096))
            throw CommandFailure(message: "the webhook answered \(status): \(text.prefix(200))")
        }
        try await context.log("The webhook answered \(status)")
    }
}
