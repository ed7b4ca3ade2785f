// Checks a request head in the order the gRPC spec prescribes, then finds the handler registered for its path:
//   1. HTTP method POST, else HTTP 405;   2. a gRPC content type, else HTTP 415;
//   3. a registered path, else UNIMPLEMENTED naming the implemented methods;
//   4. `grpc-encoding` identity (or absent), else UNIMPLEMENTED;   5. a well-formed `grpc-timeout`, else
//   INVALID_ARGUMENT;   6. the method's own checks (its factory), which throw the status to answer with.
// Steps 1–2 are HTTP answers because such a request may not come from a gRPC client at all.

/// Method path → handler factory, shared by every transport (HTTP/2 today, gRPC-Web later) so that adding an RPC
/// kind is one registration and no transport code.
public struct GRPCRouter<Handler>: Sendable {
    /// Makes the handler for a call whose head passed the generic checks; `timeoutNanoseconds` is the parsed
    /// `grpc-timeout`. Throws the status that refuses the call (Trailers-Only).
    public typealias Factory =
        @Sendable (_ head: GRPCRequestHead, _ timeoutNanoseconds: UInt64?) throws(GRPCStatus)
        -> Handler

    /// The registered paths, in registration order (the UNIMPLEMENTED message lists them so).
    public private(set) var methodPaths: [String] = []
    /// Paths of the same service served elsewhere (Watch, by its own call): named in the UNIMPLEMENTED message too.
    public var servedElsewhere: [String] = []
    private var factories: [String: Factory] = [:]

    /// A router with no methods (every path is UNIMPLEMENTED).
    public init() {}

    /// Registers `factory` for calls to `path` (`/package.Service/Method`); a second registration replaces the first.
    public mutating func register(_ path: String, _ factory: @escaping Factory) {
        if factories.updateValue(factory, forKey: path) == nil { methodPaths.append(path) }
    }

    /// True when `path` has a handler.
    public func handles(_ path: String) -> Bool { factories[path] != nil }

    /// Validates `head` and makes its call's handler, or says how to refuse the request.
    public func route(_ head: GRPCRequestHead) throws(GRPCRequestRejection) -> Handler {
        guard head.method == "POST" else {
            throw .http(status: 405, message: "gRPC requires POST, got \(head.method ?? "no method")")
        }
        guard let contentType = head.contentType, GRPCRequestHead.isGRPCContentType(contentType) else {
            throw .http(
                status: 415,
                message: "content-type must be application/grpc, got "
                    + (head.contentType ?? "none"))
        }
        let path = head.path ?? ""
        guard let factory = factories[path] else {
            throw .grpc(GRPCStatus(.unimplemented, "unknown method \(path); this server implements \(implemented)"))
        }
        if let encoding = head.metadata["grpc-encoding"], encoding != "identity" {
            throw .grpc(GRPCStatus(.unimplemented, "grpc-encoding \(encoding) is not supported; use identity"))
        }
        var timeout: UInt64?
        if let text = head.metadata["grpc-timeout"] {
            guard let parsed = GRPCTimeout.parse(text) else {
                throw .grpc(GRPCStatus(.invalidArgument, "malformed grpc-timeout \"\(text)\""))
            }
            timeout = parsed
        }
        do {
            return try factory(head, timeout)
        } catch {
            throw .grpc(error)
        }
    }

    /// "A", "A and B", "A, B and C".
    private var implemented: String {
        let paths = methodPaths + servedElsewhere
        guard let last = paths.last else { return "no methods" }
        guard paths.count > 1 else { return last }
        return paths.dropLast().joined(separator: ", ") + " and " + last
    }
}
