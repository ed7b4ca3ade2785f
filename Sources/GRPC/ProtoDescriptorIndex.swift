// The index server reflection answers from: a FileDescriptorSet (protoc's --descriptor_set_out with
// --include_imports) read once, its files kept as the exact bytes protoc wrote, and every fully qualified symbol
// mapped to the file that declares it.
//
// Only what the index needs is read of descriptor.proto's messages (google/protobuf/descriptor.proto's numbers):
//   FileDescriptorSet      file = 1
//   FileDescriptorProto    name = 1, package = 2, dependency = 3, message_type = 4, enum_type = 5, service = 6
//   DescriptorProto        name = 1, field = 2, nested_type = 3, enum_type = 4, oneof_decl = 8
//   EnumDescriptorProto    name = 1, value = 2        ServiceDescriptorProto  name = 1, method = 2
//   FieldDescriptorProto, OneofDescriptorProto, EnumValueDescriptorProto, MethodDescriptorProto   name = 1
// Symbols are named as protobuf scopes them: `package.Message`, `package.Message.Nested`, `package.Message.field`,
// `package.Service`, `package.Service.Method`, and an enum value beside its enum (`package.Message.VALUE`).

import Telemetry

/// The protobuf files a server describes, by file name and by symbol (see the file comment).
public struct ProtoDescriptorIndex: Sendable {
    /// One `FileDescriptorProto` of the set.
    public struct File: Sendable, Equatable {
        /// The name protoc gave it: its path relative to the include directory (`telemetry/v1/telemetry.proto`).
        public var name: String
        /// The protobuf package (`telemetry.v1`).
        public var package: String
        /// The names of the files it imports.
        public var dependencies: [String]
        /// The serialized `FileDescriptorProto`, byte for byte as in the set.
        public var bytes: [UInt8]
    }

    /// What a fully qualified symbol names.
    public enum SymbolKind: Sendable, Equatable {
        /// A message type, nested or not.
        case message
        /// A field of a message.
        case field
        /// A oneof of a message.
        case oneof
        /// An enum type, nested or not.
        case enumType
        /// A value of an enum (named beside its enum).
        case enumValue
        /// A service.
        case service
        /// A method of a service.
        case method
    }

    /// The files, in the set's order.
    public let files: [File]
    /// The fully qualified names of the services declared, in the set's order.
    public let serviceNames: [String]
    private let fileIndexByName: [String: Int]
    private let symbols: [String: (file: Int, kind: SymbolKind)]

    /// Reads a serialized `FileDescriptorSet`.
    public init(descriptorSet: [UInt8]) throws(DecodeError) {
        var builder = Builder()
        for field in try ProtobufField.fields(of: descriptorSet) where field.number == 1 {
            guard let bytes = field.bytes else { throw DecodeError(.wrongWireType(expected: "message", got: 0)) }
            try builder.addFile(bytes)
        }
        files = builder.files
        serviceNames = builder.serviceNames
        fileIndexByName = builder.fileIndexByName
        symbols = builder.symbols
    }

    /// The file named `name`, as protoc named it.
    public func file(named name: String) -> File? {
        fileIndexByName[name].map { files[$0] }
    }

    /// The file that declares the fully qualified `symbol` (a leading dot is allowed), and what the symbol is.
    public func file(containingSymbol symbol: String) -> (file: File, kind: SymbolKind)? {
        let name = symbol.hasPrefix(".") ? String(symbol.dropFirst()) : symbol
        return symbols[name].map { (files[$0.file], $0.kind) }
    }

    /// `file`'s bytes first, then those of every file it imports, directly or not, each once: what a reflection
    /// client needs to build the file's descriptors.
    public func bytesWithDependencies(of file: File) -> [[UInt8]] {
        var seen: Set<String> = [file.name]
        var result: [[UInt8]] = [file.bytes]
        var pending = file.dependencies
        while let name = pending.first {
            pending.removeFirst()
            guard seen.insert(name).inserted, let dependency = self.file(named: name) else { continue }
            result.append(dependency.bytes)
            pending += dependency.dependencies
        }
        return result
    }

    /// Collects files and symbols while the set is read.
    private struct Builder {
        var files: [File] = []
        var serviceNames: [String] = []
        var fileIndexByName: [String: Int] = [:]
        var symbols: [String: (file: Int, kind: SymbolKind)] = [:]

        mutating func addFile(_ bytes: ArraySlice<UInt8>) throws(DecodeError) {
            let fields = try ProtobufField.fields(of: bytes)
            let index = files.count
            var file = File(name: "", package: "", dependencies: [], bytes: Array(bytes))
            for field in fields {
                switch field.number {
                case 1: file.name = try Self.string(field, "FileDescriptorProto.name")
                case 2: file.package = try Self.string(field, "FileDescriptorProto.package")
                case 3: file.dependencies.append(try Self.string(field, "FileDescriptorProto.dependency"))
                default: break
                }
            }
            let scope = file.package.isEmpty ? "" : file.package + "."
            for field in fields {
                switch field.number {
                case 4: try addMessage(field, scope: scope, file: index)
                case 5: try addEnum(field, scope: scope, file: index)
                case 6: try addService(field, scope: scope, file: index)
                default: break
                }
            }
            fileIndexByName[file.name] = index
            files.append(file)
        }

        private mutating func addMessage(_ message: ProtobufField, scope: String, file: Int) throws(DecodeError) {
            let (name, fields) = try Self.named(message, "DescriptorProto")
            let fullName = scope + name
            symbols[fullName] = (file, .message)
            for field in fields {
                switch field.number {
                case 2: symbols[fullName + "." + (try Self.named(field, "FieldDescriptorProto").name)] = (file, .field)
                case 3: try addMessage(field, scope: fullName + ".", file: file)
                case 4: try addEnum(field, scope: fullName + ".", file: file)
                case 8: symbols[fullName + "." + (try Self.named(field, "OneofDescriptorProto").name)] = (file, .oneof)
                default: break
                }
            }
        }

        private mutating func addEnum(_ enumType: ProtobufField, scope: String, file: Int) throws(DecodeError) {
            let (name, fields) = try Self.named(enumType, "EnumDescriptorProto")
            symbols[scope + name] = (file, .enumType)
            for field in fields where field.number == 2 {
                // Enum values are siblings of their enum in protobuf's scoping (C++ rules).
                symbols[scope + (try Self.named(field, "EnumValueDescriptorProto").name)] = (file, .enumValue)
            }
        }

        private mutating func addService(_ service: ProtobufField, scope: String, file: Int) throws(DecodeError) {
            let (name, fields) = try Self.named(service, "ServiceDescriptorProto")
            let fullName = scope + name
            symbols[fullName] = (file, .service)
            serviceNames.append(fullName)
            for field in fields where field.number == 2 {
                symbols[fullName + "." + (try Self.named(field, "MethodDescriptorProto").name)] = (file, .method)
            }
        }

        /// An embedded descriptor's fields and its `name` (field 1), which every descriptor kind read here has.
        private static func named(_ field: ProtobufField, _ type: String)
            throws(DecodeError) -> (name: String, fields: [ProtobufField])
        {
            guard let bytes = field.bytes else {
                throw DecodeError(.wrongWireType(expected: "message", got: 0), path: type)
            }
            let fields = try ProtobufField.fields(of: bytes)
            guard let name = fields.last(where: { $0.number == 1 }) else {
                throw DecodeError(.missingField, path: type)
            }
            return (try string(name, type + ".name"), fields)
        }

        private static func string(_ field: ProtobufField, _ path: String) throws(DecodeError) -> String {
            guard let text = field.string else { throw DecodeError(.expected("a UTF-8 string"), path: path) }
            return text
        }
    }
}

extension ProtoDescriptorIndex {
    /// The index of `schema/descriptors.binpb` (embedded as `ServedDescriptorSet`): what this server serves.
    public static let served: ProtoDescriptorIndex = {
        do {
            return try ProtoDescriptorIndex(descriptorSet: ServedDescriptorSet.bytes)
        } catch {
            fatalError("the embedded descriptor set does not parse (run make schema): \(error)")
        }
    }()
}
