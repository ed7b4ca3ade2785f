import Simulation
import Testing

/// `--protocol`: names, `mixed` splitting a fleet evenly and deterministically over its four protocols, and lists
/// dealing devices round-robin in the order given.
@Suite struct DeviceProtocolTests {
    @Test(arguments: [
        ("grpc-stream", ProtocolMode.single(.grpcStream)), ("grpc-unary", .single(.grpcUnary)),
        ("rest", .single(.rest)), ("grpc-sync", .single(.grpcSync)), ("grpc-web", .single(.grpcWeb)),
        ("grpc-web-text", .single(.grpcWebText)), ("connect", .single(.connect)), ("mixed", .mixed),
        ("grpc-unary,grpc-web,connect", .list([.grpcUnary, .grpcWeb, .connect])),
        ("connect,rest", .list([.connect, .rest])),
        ("grpc-unary,grpc-web,grpc-web-text,connect", .list([.grpcUnary, .grpcWeb, .grpcWebText, .connect])),
    ])
    func parsesTheFlagsSpellings(name: String, mode: ProtocolMode) {
        #expect(ProtocolMode(name: name) == mode)
        #expect(mode.name == name)
    }

    @Test func aListOfOneIsThatProtocol() {
        #expect(ProtocolMode(name: "grpc-web") == .single(.grpcWeb))
    }

    @Test(arguments: [
        ("grpc", "unknown protocol 'grpc'"), ("REST", "unknown protocol 'REST'"),
        ("grpc-web,", "an empty entry"), (",connect", "an empty entry"), ("", "an empty entry"),
        ("grpc-unary,mixed", "unknown protocol 'mixed'"), ("grpc-unary, grpc-web", "unknown protocol ' grpc-web'"),
        ("connect,rest,connect", "connect is listed twice in connect,rest,connect"),
    ])
    func refusesWhatNamesNoMode(text: String, problem: String) throws {
        #expect(ProtocolMode(name: text) == nil)
        guard case .failure(let error) = ProtocolMode.parse(text) else {
            Issue.record("\(text) parsed")
            return
        }
        #expect(error.description.hasPrefix(problem), "\(error)")
    }

    @Test func theErrorNamesEveryProtocol() throws {
        guard case .failure(let error) = ProtocolMode.parse("grpc-websocket") else { throw ParseFailure() }
        #expect(
            error.description == "unknown protocol 'grpc-websocket' (expected mixed, or one or more of grpc-stream, "
                + "grpc-unary, rest, grpc-sync, grpc-web, grpc-web-text, connect, comma-separated)")
    }

    struct ParseFailure: Error {}

    @Test(arguments: [1, 2, 3, 10, 100, 10_000, 10_001, 10_002])
    func mixedSplitsAnyFleetEvenlyOverItsFourProtocols(devices: Int) {
        let counts = (0..<devices).reduce(into: [DeviceProtocol: Int]()) {
            $0[ProtocolMode.mixed.protocolForDevice(at: $1), default: 0] += 1
        }
        #expect(Set(counts.keys).isSubset(of: [.grpcStream, .grpcUnary, .rest, .grpcSync]))
        let values = DeviceProtocol.mixedProtocols.map { counts[$0] ?? 0 }
        #expect(values.reduce(0, +) == devices)
        #expect(values.max()! - values.min()! <= 1)
    }

    @Test func mixedDependsOnlyOnTheDeviceIndex() {
        let first = (0..<9).map { ProtocolMode.mixed.protocolForDevice(at: $0) }
        let again = (0..<9).map { ProtocolMode.mixed.protocolForDevice(at: $0) }
        #expect(first == again)
        #expect(
            first == [
                .grpcStream, .grpcUnary, .rest, .grpcSync, .grpcStream, .grpcUnary, .rest, .grpcSync, .grpcStream,
            ])
        let settings = makeSettings()
        let fleet = FleetConfiguration(seed: 42, deviceCount: 400, protocolMode: .mixed, settings: settings)
        #expect(fleet.protocolCounts == [.grpcStream: 100, .grpcUnary: 100, .rest: 100, .grpcSync: 100])
        #expect(fleet.makeDevice(at: 5).deviceProtocol == .grpcUnary)
        #expect(fleet.makeDevice(at: 4).deviceID == "dev-00005")
        #expect(
            FleetConfiguration(seed: 1, deviceCount: 1, protocolMode: .single(.rest), settings: settings)
                .makeDevice(at: 123_455).deviceID == "dev-123456")
    }

    @Test func mixedNeverDealsTheHTTP1PushProtocols() {
        #expect(DeviceProtocol.mixedProtocols == [.grpcStream, .grpcUnary, .rest, .grpcSync])
        #expect(ProtocolMode.mixed.dealtProtocols == DeviceProtocol.mixedProtocols)
        let dealt = Set((0..<1000).map { ProtocolMode.mixed.protocolForDevice(at: $0) })
        #expect(dealt.isDisjoint(with: [.grpcWeb, .grpcWebText, .connect]))
    }

    @Test func aListDealsRoundRobinInTheOrderGiven() {
        let mode = ProtocolMode.list([.grpcUnary, .grpcWeb, .grpcWebText, .connect])
        #expect(
            (0..<9).map { mode.protocolForDevice(at: $0) }
                == [
                    .grpcUnary, .grpcWeb, .grpcWebText, .connect, .grpcUnary, .grpcWeb, .grpcWebText, .connect,
                    .grpcUnary,
                ])
        #expect(mode.dealtProtocols == [.grpcUnary, .grpcWeb, .grpcWebText, .connect])
        let reversed = ProtocolMode.list([.connect, .grpcUnary])
        #expect((0..<3).map { reversed.protocolForDevice(at: $0) } == [.connect, .grpcUnary, .connect])
        let fleet = FleetConfiguration(seed: 42, deviceCount: 10, protocolMode: mode, settings: makeSettings())
        #expect(fleet.protocolCounts == [.grpcUnary: 3, .grpcWeb: 3, .grpcWebText: 2, .connect: 2])
    }

    @Test func collectorNamesMatchTheBandwidthReport() {
        #expect(
            DeviceProtocol.allCases.map(\.collectorName) == [
                "grpc-stream", "grpc-unary", "rest-json", "grpc-sync", "grpc-web", "grpc-web-text", "connect",
            ])
        #expect(
            DeviceProtocol.allCases.map(\.name) == [
                "grpc-stream", "grpc-unary", "rest", "grpc-sync", "grpc-web", "grpc-web-text", "connect",
            ])
        #expect(
            DeviceProtocol.allCases.sorted() == [
                .grpcStream, .grpcUnary, .rest, .grpcSync, .grpcWeb, .grpcWebText, .connect,
            ])
    }

    @Test func onlyTheGRPCProtocolsUseHTTP2() {
        #expect(DeviceProtocol.allCases.filter(\.usesHTTP2) == [.grpcStream, .grpcUnary, .grpcSync])
    }

    @Test(arguments: [("proto", ConnectCodec.proto), ("json", .json)])
    func connectCodecs(name: String, codec: ConnectCodec) {
        #expect(ConnectCodec(name: name) == codec && codec.name == name)
        #expect(ConnectCodec(name: "protobuf") == nil)
    }
}
