// `grpc.reflection.v1.ServerReflection/ServerReflectionInfo` and its v1alpha twin: a bidirectional stream on which
// each request is answered by one response, in order, as soon as it arrives; the call ends OK at the client's end.
//
// Answers come from a ProtoDescriptorIndex (schema/'s FileDescriptorSet): list_services names every service the set
// declares; file_by_filename and file_containing_symbol send the file and every file it imports (clients need them
// to build descriptors; the protocol allows re-sending files an earlier answer carried, which keeps this handler
// stateless between requests); a name the set does not have is an error_response NOT_FOUND and the stream goes on.
// No file served declares an extension: file_containing_extension is NOT_FOUND, and all_extension_numbers_of_type
// is an empty list for a message type the set declares (NOT_FOUND for any other name).

import Telemetry

/// One ServerReflectionInfo call (see the file comment); transport-neutral, driven by its transport.
public final class ServerReflectionCallHandler: StandardServiceHandler {
    /// The paths of the method in both packages the clients in use ask for.
    public static let methodPaths = [
        "/grpc.reflection.v1.ServerReflection/ServerReflectionInfo",
        "/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo",
    ]
    /// The path prefix both packages share.
    public static let servicePathPrefix = "/grpc.reflection."
    /// Largest request accepted: a file or symbol name, not a payload.
    static let maxRequestBytes = 64 << 10

    /// The call's `grpc-timeout`, for the transport's deadline.
    public let timeoutNanoseconds: UInt64?
    private let index: ProtoDescriptorIndex
    private var deframer = GRPCMessageDeframer(maxMessageBytes: maxRequestBytes)
    private var hasSentHeaders = false
    private var hasEnded = false
    /// True once the call produced its final status or was cancelled.
    public private(set) var isFinished = false

    /// A call answered from `index`.
    public init(index: ProtoDescriptorIndex, timeoutNanoseconds: UInt64? = nil) {
        self.index = index
        self.timeoutNanoseconds = timeoutNanoseconds
    }

    /// Requests received so far.
    public var messageCount: Int { deframer.messageCount }
    /// Bytes of a request received in part.
    public var bufferedBytes: Int { deframer.bufferedBytes }
    /// True once the client half-closed or the call finished.
    public var isRequestComplete: Bool { hasEnded || isFinished }

    /// Request bytes: each request is answered as soon as it is complete (the first answer after the headers).
    public func receive(_ bytes: UnsafeRawBufferPointer) -> [GRPCResponsePart] {
        guard !isFinished else { return [] }
        var parts: [GRPCResponsePart] = []
        do throws(GRPCDeframeErrorOr<GRPCStatus>) {
            try deframer.process(bytes) { (message: UnsafeRawBufferPointer) throws(GRPCStatus) in
                let request: ServerReflectionRequest
                do throws(DecodeError) {
                    request = try ServerReflectionRequest(protobuf: Array(message))
                } catch {
                    throw GRPCStatus(.invalidArgument, "invalid ServerReflectionRequest: \(error.description)")
                }
                if !hasSentHeaders {
                    hasSentHeaders = true
                    parts.append(.headers(.responseHeaders))
                }
                parts.append(.message(answer(request.query).responseBytes(answering: request)))
            }
        } catch {
            return parts + end(with: error.status)
        }
        return parts
    }

    /// The client's end: the call ends OK (INVALID_ARGUMENT when it ended inside a request).
    public func receiveEnd() -> [GRPCResponsePart] {
        guard !isFinished else { return [] }
        hasEnded = true
        do { try deframer.finish() } catch { return end(with: error.status) }
        return end(with: .ok)
    }

    /// Nothing changes between requests: nothing to say.
    public func poll() -> [GRPCResponsePart] { [] }

    /// The transport ends the call with `status`, unless it already finished.
    public func end(with status: GRPCStatus) -> [GRPCResponsePart] {
        guard !isFinished else { return [] }
        isFinished = true
        return [.status(status, trailers: GRPCMetadata())]
    }

    /// The client or the transport went away: nothing more is sent.
    public func cancel() {
        isFinished = true
    }

    /// What the index says to `query`.
    func answer(_ query: ServerReflectionRequest.Query) -> ServerReflectionAnswer {
        switch query {
        case .listServices:
            return .services(index.serviceNames)
        case .fileByFilename(let name):
            guard let file = index.file(named: name) else {
                return .error(GRPCStatus(.notFound, "unknown file \(name)"))
            }
            return .files(index.bytesWithDependencies(of: file))
        case .fileContainingSymbol(let symbol):
            guard let (file, _) = index.file(containingSymbol: symbol) else {
                return .error(GRPCStatus(.notFound, "unknown symbol \(symbol)"))
            }
            return .files(index.bytesWithDependencies(of: file))
        case .fileContainingExtension(let type, let number):
            return .error(GRPCStatus(.notFound, "no extension \(number) of \(type): no file served declares any"))
        case .allExtensionNumbersOfType(let type):
            guard let (_, kind) = index.file(containingSymbol: type), kind == .message else {
                return .error(GRPCStatus(.notFound, "unknown message type \(type)"))
            }
            return .noExtensionNumbers(baseTypeName: type)
        case .none:
            return .error(GRPCStatus(.invalidArgument, "the request sets none of message_request's fields"))
        }
    }
}
