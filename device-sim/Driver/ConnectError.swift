// The Connect protocol's error body (connectrpc.com/docs/protocol, "Error end"): a non-200 unary answer carries
// `{"code": "<name>", "message": "…"}` as application/json, where the code is a gRPC status name in snake_case
// (`unavailable`, `resource_exhausted`; `canceled` with one l). The code is what a client acts on; the HTTP status
// only stands in when the body is not such an object (a proxy's answer).

import GRPC
import Telemetry

/// A Connect error as its body states it.
struct ConnectError: Equatable, Sendable {
    /// The status code the body names.
    var code: GRPCStatus.Code
    /// The body's message ("" when it has none).
    var message: String

    /// An error from its parts.
    init(code: GRPCStatus.Code, message: String) {
        self.code = code
        self.message = message
    }

    /// The error in `body`, or nil when the body is not a Connect error object with a known code.
    init?(body: [UInt8]) {
        guard let value = try? JSONValue.parse(body), let name = value["code"]?.stringValue,
            let code = Self.code(named: name)
        else { return nil }
        self.code = code
        message = value["message"]?.stringValue ?? ""
    }

    /// The status code of a Connect code name, or nil (`ok` is no error code in Connect).
    static func code(named name: String) -> GRPCStatus.Code? {
        if name == "canceled" { return .cancelled }
        return GRPCStatus.Code.allCases.first { $0 != .ok && $0 != .cancelled && $0.name.lowercased() == name }
    }
}
