// The messages of `grpc.reflection.v1` (and v1alpha, which has the same ones) that the server reads and writes,
// with their field numbers from schema/grpc/reflection/v1/reflection.proto:
//   ServerReflectionRequest   host = 1; oneof: file_by_filename = 3, file_containing_symbol = 4,
//                             file_containing_extension = 5 (ExtensionRequest: containing_type = 1,
//                             extension_number = 2), all_extension_numbers_of_type = 6, list_services = 7
//   ServerReflectionResponse  valid_host = 1, original_request = 2; oneof: file_descriptor_response = 4,
//                             all_extension_numbers_response = 5, list_services_response = 6, error_response = 7
//   FileDescriptorResponse    repeated bytes file_descriptor_proto = 1
//   ExtensionNumberResponse   base_type_name = 1, repeated int32 extension_number = 2
//   ListServiceResponse       repeated ServiceResponse service = 1 (ServiceResponse: name = 1)
//   ErrorResponse             error_code = 1, error_message = 2

import Telemetry

/// A `ServerReflectionRequest`: what the client asks, and its bytes (echoed in the response's `original_request`).
struct ServerReflectionRequest: Equatable {
    /// The request's oneof; the last member on the wire wins, as protobuf's rules say.
    enum Query: Equatable {
        case fileByFilename(String)
        case fileContainingSymbol(String)
        case fileContainingExtension(containingType: String, extensionNumber: Int32)
        case allExtensionNumbersOfType(String)
        case listServices
        /// The client set none of the oneof's members.
        case none
    }

    var host = ""
    var query = Query.none
    /// The message as received.
    var bytes: [UInt8]

    /// Decodes a request; unknown fields are skipped.
    init(protobuf bytes: [UInt8]) throws(DecodeError) {
        self.bytes = bytes
        for field in try ProtobufField.fields(of: bytes) {
            switch field.number {
            case 1: host = try Self.string(field, "host")
            case 3: query = .fileByFilename(try Self.string(field, "file_by_filename"))
            case 4: query = .fileContainingSymbol(try Self.string(field, "file_containing_symbol"))
            case 5:
                guard let message = field.bytes else {
                    throw DecodeError(.wrongWireType(expected: "message", got: 0), path: "file_containing_extension")
                }
                var containingType = ""
                var number: Int32 = 0
                for inner in try ProtobufField.fields(of: message) {
                    switch inner.number {
                    case 1: containingType = try Self.string(inner, "file_containing_extension.containing_type")
                    case 2: number = Int32(truncatingIfNeeded: inner.varint ?? 0)
                    default: break
                    }
                }
                query = .fileContainingExtension(containingType: containingType, extensionNumber: number)
            case 6: query = .allExtensionNumbersOfType(try Self.string(field, "all_extension_numbers_of_type"))
            case 7:
                _ = try Self.string(field, "list_services")
                query = .listServices
            default: break
            }
        }
    }

    private static func string(_ field: ProtobufField, _ path: String) throws(DecodeError) -> String {
        guard let text = field.string else { throw DecodeError(.expected("a UTF-8 string"), path: path) }
        return text
    }
}

/// The answer part of a `ServerReflectionResponse` (its oneof).
enum ServerReflectionAnswer: Equatable {
    /// Serialized `FileDescriptorProto`s: the file asked for first, then its dependencies.
    case files([[UInt8]])
    /// The extension numbers of a message type: none, as no file served declares an extension.
    case noExtensionNumbers(baseTypeName: String)
    /// The fully qualified names of the services served.
    case services([String])
    /// The request failed: a gRPC status code and a message.
    case error(GRPCStatus)

    /// The whole `ServerReflectionResponse` answering `request`.
    func responseBytes(answering request: ServerReflectionRequest) -> [UInt8] {
        var response = ProtobufMessageWriter()
        response.appendString(1, request.host)
        response.appendLengthDelimited(2, request.bytes)
        var inner = ProtobufMessageWriter()
        let field: Int
        switch self {
        case .files(let files):
            field = 4
            for file in files { inner.appendLengthDelimited(1, file) }
        case .noExtensionNumbers(let baseTypeName):
            field = 5
            inner.appendString(1, baseTypeName)
        case .services(let names):
            field = 6
            for name in names {
                var service = ProtobufMessageWriter()
                service.appendString(1, name)
                inner.appendLengthDelimited(1, service.bytes)
            }
        case .error(let status):
            field = 7
            inner.appendVarint(1, UInt64(status.code.rawValue))
            inner.appendString(2, status.message)
        }
        // The oneof member is written even when its message is empty: its presence is the answer's kind.
        response.appendLengthDelimited(field, inner.bytes)
        return response.bytes
    }
}
