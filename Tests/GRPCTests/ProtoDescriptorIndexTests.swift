import Foundation
import Telemetry
import Testing

@testable import GRPC

/// The descriptor index on a FileDescriptorSet built here field by field (descriptor.proto's numbers), and on the
/// served one; and the embedded copy of the served set against `schema/descriptors.binpb`.
@Suite struct ProtoDescriptorIndexTests {
    /// A descriptor with `name` (field 1) and `children` (field number, serialized child) after it.
    static func descriptor(_ name: String, _ children: [(Int, [UInt8])] = []) -> [UInt8] {
        var writer = ProtobufMessageWriter()
        writer.appendString(1, name)
        for (field, child) in children { writer.appendLengthDelimited(field, child) }
        return writer.bytes
    }

    /// A FileDescriptorProto: name 1, package 2, dependency 3, then message_type 4 / enum_type 5 / service 6.
    static func file(_ name: String, package: String, imports: [String] = [], _ members: [(Int, [UInt8])] = [])
        -> [UInt8]
    {
        var writer = ProtobufMessageWriter()
        writer.appendString(1, name)
        writer.appendString(2, package)
        for dependency in imports { writer.appendString(3, dependency) }
        for (field, member) in members { writer.appendLengthDelimited(field, member) }
        return writer.bytes
    }

    static func set(_ files: [[UInt8]]) -> [UInt8] {
        var writer = ProtobufMessageWriter()
        for file in files { writer.appendLengthDelimited(1, file) }
        return writer.bytes
    }

    /// a.proto (package p) imports b.proto and c.proto; b.proto imports c.proto (a diamond); c.proto imports a file
    /// the set lacks.
    static let a = file("a.proto", package: "p", imports: ["b.proto", "c.proto"], [
        // message M { int64 f = 1; oneof o {…}; message N {} enum E { V = 0; } }
        (4, descriptor("M", [(2, descriptor("f")), (8, descriptor("o")), (3, descriptor("N")),
                             (4, descriptor("E", [(2, descriptor("V"))]))])),
        (5, descriptor("Top", [(2, descriptor("TOP_ZERO"))])),
        // service S { rpc R(...) }
        (6, descriptor("S", [(2, descriptor("R"))])),
    ])
    static let b = file("b.proto", package: "q.r", imports: ["c.proto"], [(4, descriptor("B"))])
    static let c = file("c.proto", package: "", imports: ["missing.proto"], [(6, descriptor("Bare"))])

    @Test(arguments: [
        ("p.M", "a.proto", ProtoDescriptorIndex.SymbolKind.message), ("p.M.f", "a.proto", .field),
        ("p.M.o", "a.proto", .oneof), ("p.M.N", "a.proto", .message), ("p.M.E", "a.proto", .enumType),
        ("p.M.V", "a.proto", .enumValue), ("p.Top", "a.proto", .enumType), ("p.TOP_ZERO", "a.proto", .enumValue),
        ("p.S", "a.proto", .service), ("p.S.R", "a.proto", .method), (".p.S.R", "a.proto", .method),
        ("q.r.B", "b.proto", .message), ("Bare", "c.proto", .service),
    ])
    func symbolsAreFullyQualifiedAsProtobufScopesThem(
        symbol: String, file: String, kind: ProtoDescriptorIndex.SymbolKind
    ) throws {
        let index = try ProtoDescriptorIndex(descriptorSet: Self.set([Self.a, Self.b, Self.c]))
        let found = try #require(index.file(containingSymbol: symbol))
        #expect(found.file.name == file)
        #expect(found.kind == kind)
    }

    @Test(arguments: ["M", "p", "p.M.E.V", "p.N", "p.S.f", "q.B", "", "."])
    func namesNotDeclaredAreNotFound(symbol: String) throws {
        let index = try ProtoDescriptorIndex(descriptorSet: Self.set([Self.a, Self.b, Self.c]))
        #expect(index.file(containingSymbol: symbol) == nil)
    }

    @Test func filesKeepTheirBytesPackageAndImports() throws {
        let index = try ProtoDescriptorIndex(descriptorSet: Self.set([Self.a, Self.b, Self.c]))
        #expect(index.files.map(\.name) == ["a.proto", "b.proto", "c.proto"])
        #expect(index.file(named: "a.proto")?.bytes == Self.a)
        #expect(index.file(named: "a.proto")?.package == "p")
        #expect(index.file(named: "b.proto")?.dependencies == ["c.proto"])
        #expect(index.file(named: "missing.proto") == nil)
        #expect(index.serviceNames == ["p.S", "Bare"])
    }

    @Test func aFileComesWithEveryFileItImportsEachOnce() throws {
        let index = try ProtoDescriptorIndex(descriptorSet: Self.set([Self.a, Self.b, Self.c]))
        let a = try #require(index.file(named: "a.proto"))
        #expect(index.bytesWithDependencies(of: a) == [Self.a, Self.b, Self.c], "c.proto once; missing.proto skipped")
        let c = try #require(index.file(named: "c.proto"))
        #expect(index.bytesWithDependencies(of: c) == [Self.c])
    }

    @Test(arguments: [
        [0x0a, 0x05, 0x0a] as [UInt8],  // a file announced with 5 bytes, 1 present
        [0x08, 0x01],  // field 1 as a varint, not a FileDescriptorProto
        [0x0a, 0x02, 0x0a, 0x01, 0xff],  // a file name that is not UTF-8 (its length runs past the file, too)
        [0x0a, 0x03, 0x0a, 0x01, 0xff],  // a file name that is not UTF-8
    ])
    func malformedSetsAreRefused(bytes: [UInt8]) {
        #expect(throws: DecodeError.self) { try ProtoDescriptorIndex(descriptorSet: bytes) }
    }

    @Test func aMessageWithoutANameIsRefused() {
        let nameless = Self.file("x.proto", package: "x", [(4, [0x12, 0x00])])  // DescriptorProto with a field only
        #expect(throws: DecodeError.self) { try ProtoDescriptorIndex(descriptorSet: Self.set([nameless])) }
    }

    @Test func theServedIndexDescribesTelemetryHealthAndReflection() throws {
        let index = ProtoDescriptorIndex.served
        #expect(index.files.map(\.name) == ServerReflectionCallHandlerTests.servedFiles)
        #expect(index.serviceNames == ["grpc.health.v1.Health", "grpc.reflection.v1.ServerReflection",
                                       "grpc.reflection.v1alpha.ServerReflection", "telemetry.v1.Telemetry"])
        for method in ["Upload", "Push", "Sync", "Watch"] {
            #expect(index.file(containingSymbol: "telemetry.v1.Telemetry." + method)?.kind == .method)
        }
        for method in HealthCallHandler.Method.allCases {
            #expect(index.file(containingSymbol: "grpc.health.v1.Health." + method.name)?.kind == .method)
        }
        // Every method path the standard services' router serves is described.
        for path in HealthCallHandler.Method.allCases.map(\.rawValue) + ServerReflectionCallHandler.methodPaths {
            let symbol = path.dropFirst().replacingOccurrences(of: "/", with: ".")
            #expect(index.file(containingSymbol: symbol)?.kind == .method, "\(symbol)")
        }
    }

    /// `schema/descriptors.binpb`, found from this file's path: Tests/GRPCTests/ → repository root.
    static let descriptorSetURL = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("schema/descriptors.binpb")

    @Test func embeddedSetIsByteIdenticalToTheCommittedFile() throws {
        let file = try Data(contentsOf: Self.descriptorSetURL)
        #expect(Data(ServedDescriptorSet.bytes) == file,
                "schema/descriptors.binpb and Sources/GRPC/ServedDescriptorSet.swift differ: run make schema")
    }
}
