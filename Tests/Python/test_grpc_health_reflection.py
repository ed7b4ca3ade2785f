"""gRPC's standard services on the collector, checked with the ecosystem's own clients: `grpcio-health-checking`'s
stubs for grpc.health.v1.Health (Check, List, Watch) and `grpcio-reflection`'s ProtoReflectionDescriptorDatabase
for server reflection (v1alpha; v1 through a generic stream call with the same messages).

- Health follows /readyz: SERVING for "" and telemetry.v1.Telemetry while ready, NOT_SERVING while the storage fails
  (a file-size limit on the running collector, as in test_storage_failures.py), NOT_FOUND (Check) or SERVICE_UNKNOWN
  (Watch) for any other name. Watch answers at once and again at each change; shutdown ends it (UNAVAILABLE) without
  holding the collector's graceful stop.
- Neither service needs a device-id or credentials, over h2c and over TLS with --auth on.
- Reflection lists the services and serves the descriptors of schema/ (descriptors.binpb, which must be what
  protoc makes of the .proto files there: `make schema` regenerates it).
- Their bytes are attributed in the bandwidth ledger (protocol query, device ""), which still adds up to the
  socket totals.

grpcurl is not packaged for Debian 12, so it is not used here.
"""

from __future__ import annotations

import queue
import shutil
import subprocess
import sys
import threading
import time

import grpc
import pytest
from google.protobuf import descriptor_pb2
from google.protobuf.descriptor_pool import DescriptorPool
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection_pb2
from grpc_reflection.v1alpha.proto_reflection_descriptor_database import ProtoReflectionDescriptorDatabase

from fwtest import CALL_TIMEOUT, CHANNEL_OPTIONS, PROTO_ROOT, Collector, get_json, http_request, simple_batch, \
    wait_until
from tlstest import start_tls

SERVING = health_pb2.HealthCheckResponse.SERVING
NOT_SERVING = health_pb2.HealthCheckResponse.NOT_SERVING
SERVICE_UNKNOWN = health_pb2.HealthCheckResponse.SERVICE_UNKNOWN
KNOWN_SERVICES = ("", "telemetry.v1.Telemetry")
SERVICES = ["grpc.health.v1.Health", "grpc.reflection.v1.ServerReflection", "grpc.reflection.v1alpha.ServerReflection",
            "telemetry.v1.Telemetry"]
T0 = 1_732_190_000_000


def _check(channel, service: str) -> int:
    return health_pb2_grpc.HealthStub(channel).Check(health_pb2.HealthCheckRequest(service=service),
                                                      timeout=CALL_TIMEOUT).status


class _Watch:
    """A Watch call read by a thread into a queue of (monotonic time, status) and, at its end, the RpcError."""

    def __init__(self, channel, service: str = ""):
        self.started = time.monotonic()
        self.call = health_pb2_grpc.HealthStub(channel).Watch(health_pb2.HealthCheckRequest(service=service),
                                                              timeout=60)
        self.events: queue.Queue = queue.Queue()
        self.thread = threading.Thread(target=self._read, daemon=True)
        self.thread.start()

    def _read(self):
        try:
            for response in self.call:
                self.events.put((time.monotonic(), response.status))
        except grpc.RpcError as e:
            self.events.put((time.monotonic(), e))

    def next(self, timeout: float = CALL_TIMEOUT):
        return self.events.get(timeout=timeout)

    def cancel(self):
        self.call.cancel()
        self.thread.join(timeout=CALL_TIMEOUT)


# -- the committed descriptor set -------------------------------------------------------------------------------


def test_descriptor_set_is_what_protoc_makes_of_schema(tmp_path):
    """schema/descriptors.binpb equals protoc's set of every .proto under schema/ (in byte order of their paths, as
    scripts/embed-descriptors.sh lists them); ProtoDescriptorIndexTests checks the Swift copy against the file."""
    protos = sorted(str(p.relative_to(PROTO_ROOT)) for p in PROTO_ROOT.rglob("*.proto"))
    assert "grpc/health/v1/health.proto" in protos and "telemetry/v1/telemetry.proto" in protos
    out = tmp_path / "descriptors.binpb"
    done = subprocess.run([sys.executable, "-m", "grpc_tools.protoc", "-I.", "--include_imports",
                           f"--descriptor_set_out={out}", *protos],
                          cwd=PROTO_ROOT, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, f"protoc failed:\n{done.stdout}\n{done.stderr}"
    assert out.read_bytes() == (PROTO_ROOT / "descriptors.binpb").read_bytes(), \
        "schema/descriptors.binpb is stale: run `make schema` and commit the result"
    names = [f.name for f in descriptor_pb2.FileDescriptorSet.FromString(out.read_bytes()).file]
    assert names == protos


# -- Health ----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("service", KNOWN_SERVICES)
def test_check_is_serving_without_device_or_credentials(channel, service):
    assert _check(channel, service) == SERVING


def test_check_of_an_unknown_service_is_not_found_and_counted(collector, channel):
    with pytest.raises(grpc.RpcError) as refused:
        _check(channel, "telemetry.v2.Telemetry")
    assert refused.value.code() == grpc.StatusCode.NOT_FOUND
    assert "telemetry.v2.Telemetry" in refused.value.details()
    metrics = http_request(collector, "GET", "/metrics").body.decode()
    assert 'fleetwire_errors_total{transport="grpc",code="NOT_FOUND"} 1' in metrics, metrics


def test_list_names_every_known_service(channel):
    answer = health_pb2_grpc.HealthStub(channel).List(health_pb2.HealthListRequest(), timeout=CALL_TIMEOUT)
    assert {name: response.status for name, response in answer.statuses.items()} == \
        {name: SERVING for name in KNOWN_SERVICES}


def test_an_unknown_health_method_is_unimplemented(channel):
    call = channel.unary_unary("/grpc.health.v1.Health/Nope", request_serializer=lambda m: m.SerializeToString(),
                               response_deserializer=health_pb2.HealthCheckResponse.FromString)
    with pytest.raises(grpc.RpcError) as refused:
        call(health_pb2.HealthCheckRequest(), timeout=CALL_TIMEOUT)
    assert refused.value.code() == grpc.StatusCode.UNIMPLEMENTED


def test_watch_answers_at_once_and_an_unknown_service_stays_open(channel):
    watch = _Watch(channel)
    unknown = _Watch(channel, "nope.v1.Nope")
    try:
        at, status = watch.next()
        assert status == SERVING
        # The transport polls once a second; the first answer must not wait for a poll.
        assert at - watch.started < 0.9, f"the first Watch answer took {at - watch.started:.2f} s"
        assert unknown.next()[1] == SERVICE_UNKNOWN
        time.sleep(1.5)  # a poll or two: nothing changed, nothing more is sent, neither call ends
        assert watch.events.empty() and unknown.events.empty()
    finally:
        watch.cancel()
        unknown.cancel()


def test_health_follows_readiness_when_the_storage_fails_and_recovers(proto, tmp_path):
    prlimit = shutil.which("prlimit")
    if prlimit is None:
        pytest.skip("prlimit (util-linux) is not installed")
    collector = Collector(tmp_path / "telemetry.db", tmp_path / "collector.log", log_through_pipe=True).start()
    try:
        with grpc.insecure_channel(collector.address, options=CHANNEL_OPTIONS) as channel:
            watch = _Watch(channel, "telemetry.v1.Telemetry")
            assert watch.next()[1] == SERVING
            # No file may grow from now on: the next write fails and the collector is not ready.
            subprocess.run([prlimit, f"--pid={collector.proc.pid}", "--fsize=1:unlimited"], check=True)
            stub = proto.grpc.TelemetryStub(channel)
            with pytest.raises(grpc.RpcError):
                stub.Push(simple_batch(proto.pb, 1, start_ms=T0)[0], metadata=[("device-id", "hr")],
                          timeout=CALL_TIMEOUT)
            assert http_request(collector, "GET", "/readyz").status == 503
            for service in KNOWN_SERVICES:
                assert _check(channel, service) == NOT_SERVING
            assert watch.next(timeout=3)[1] == NOT_SERVING, "Watch sends the change within about a second"

            subprocess.run([prlimit, f"--pid={collector.proc.pid}", "--fsize=unlimited:unlimited"], check=True)

            def stored():
                try:
                    stub.Push(simple_batch(proto.pb, 1, start_ms=T0)[0], metadata=[("device-id", "hr")],
                              timeout=CALL_TIMEOUT)
                    return True
                except grpc.RpcError:
                    time.sleep(0.2)
                    return False

            wait_until(stored, timeout=10, interval=0, message="a Push accepted after the limit was lifted")
            wait_until(lambda: http_request(collector, "GET", "/readyz").status == 200, timeout=6,
                       message="/readyz 200 again")
            assert _check(channel, "") == SERVING
            assert watch.next(timeout=3)[1] == SERVING
            watch.cancel()
        collector.stop()
    finally:
        collector.kill()


def test_shutdown_ends_a_watch_without_holding_the_graceful_stop(collector, channel):
    watch = _Watch(channel)
    assert watch.next()[1] == SERVING
    started = time.monotonic()
    collector.stop()
    assert time.monotonic() - started < 5, "an open Watch held the collector's shutdown"
    _, ended = watch.next(timeout=3)
    assert isinstance(ended, grpc.RpcError) and ended.code() == grpc.StatusCode.UNAVAILABLE, ended


def test_health_and_reflection_over_tls_with_auth_on_need_no_credentials(proto, start_collector, tmp_path):
    collector, keys = start_tls(start_collector, tmp_path)
    creds = grpc.ssl_channel_credentials(root_certificates=keys.cert.read_bytes())
    with grpc.secure_channel(f"127.0.0.1:{collector.port}", creds, options=CHANNEL_OPTIONS) as channel:
        assert _check(channel, "telemetry.v1.Telemetry") == SERVING
        assert sorted(ProtoReflectionDescriptorDatabase(channel).get_services()) == SERVICES
        # Authentication is on: the Telemetry service itself still wants credentials.
        with pytest.raises(grpc.RpcError) as refused:
            proto.grpc.TelemetryStub(channel).Push(simple_batch(proto.pb, 1)[0], metadata=[("device-id", "t")],
                                                   timeout=CALL_TIMEOUT)
        assert refused.value.code() == grpc.StatusCode.UNAUTHENTICATED


# -- reflection ------------------------------------------------------------------------------------------------


def test_reflection_lists_services_and_describes_telemetry_and_health(channel):
    database = ProtoReflectionDescriptorDatabase(channel)
    assert sorted(database.get_services()) == SERVICES
    pool = DescriptorPool(database)
    telemetry = pool.FindServiceByName("telemetry.v1.Telemetry")
    assert [m.name for m in telemetry.methods] == ["Upload", "Push", "Sync", "Watch"]
    upload = telemetry.methods_by_name["Upload"]
    assert upload.input_type.full_name == "telemetry.v1.Batch" and upload.output_type.full_name == "telemetry.v1.Ack"
    assert upload.client_streaming and not upload.server_streaming
    assert {"seq", "series"} <= set(pool.FindMessageTypeByName("telemetry.v1.Batch").fields_by_name)
    health = pool.FindServiceByName("grpc.health.v1.Health")
    assert [m.name for m in health.methods] == ["Check", "List", "Watch"]
    assert health.methods_by_name["Watch"].server_streaming
    assert pool.FindMethodByName("grpc.reflection.v1.ServerReflection.ServerReflectionInfo").client_streaming
    assert database.FindFileByName("telemetry/v1/telemetry.proto").package == "telemetry.v1"
    with pytest.raises(KeyError):
        pool.FindServiceByName("telemetry.v1.Nope")
    with pytest.raises(KeyError):
        database.FindFileByName("telemetry/v2/telemetry.proto")


@pytest.mark.parametrize("package", ["v1", "v1alpha"])
def test_reflection_answers_each_request_in_order_on_one_stream(channel, package):
    """Both packages' method, one stream, several requests: names not found are error responses (NOT_FOUND) and
    the stream goes on. v1 is spoken with v1alpha's message classes: the messages are the same."""
    call = channel.stream_stream(f"/grpc.reflection.{package}.ServerReflection/ServerReflectionInfo",
                                 request_serializer=reflection_pb2.ServerReflectionRequest.SerializeToString,
                                 response_deserializer=reflection_pb2.ServerReflectionResponse.FromString)
    Request = reflection_pb2.ServerReflectionRequest
    requests = [
        Request(host="h", list_services=""),
        Request(file_containing_symbol="grpc.health.v1.Health.Check"),
        Request(file_containing_symbol="telemetry.v1.Nope"),
        Request(file_by_filename="grpc/reflection/v1/reflection.proto"),
        Request(file_containing_extension=reflection_pb2.ExtensionRequest(containing_type="telemetry.v1.Batch",
                                                                          extension_number=100)),
        Request(all_extension_numbers_of_type="telemetry.v1.Batch"),
    ]
    responses = list(call(iter(requests), timeout=CALL_TIMEOUT))
    assert [r.WhichOneof("message_response") for r in responses] == [
        "list_services_response", "file_descriptor_response", "error_response", "file_descriptor_response",
        "error_response", "all_extension_numbers_response"]
    assert [r.original_request for r in responses] == requests
    assert responses[0].valid_host == "h"
    assert sorted(s.name for s in responses[0].list_services_response.service) == SERVICES
    files = [descriptor_pb2.FileDescriptorProto.FromString(b)
             for b in responses[1].file_descriptor_response.file_descriptor_proto]
    assert [f.name for f in files] == ["grpc/health/v1/health.proto"]
    assert responses[2].error_response.error_code == grpc.StatusCode.NOT_FOUND.value[0]
    reflection_file = descriptor_pb2.FileDescriptorProto.FromString(
        responses[3].file_descriptor_response.file_descriptor_proto[0])
    assert reflection_file.package == "grpc.reflection.v1"
    assert responses[4].error_response.error_code == grpc.StatusCode.NOT_FOUND.value[0]
    numbers = responses[5].all_extension_numbers_response
    assert numbers.base_type_name == "telemetry.v1.Batch" and list(numbers.extension_number) == []


# -- accounting ------------------------------------------------------------------------------------------------


def test_health_and_reflection_bytes_are_attributed_to_query_overhead(collector):
    with grpc.insecure_channel(collector.address, options=CHANNEL_OPTIONS) as channel:
        for _ in range(3):
            assert _check(channel, "") == SERVING
        assert sorted(ProtoReflectionDescriptorDatabase(channel).get_services()) == SERVICES
        watch = _Watch(channel)
        assert watch.next()[1] == SERVING
        watch.cancel()  # a cancelled call is a call too

    def settled():
        report = get_json(collector, "/v1/bandwidth")
        totals_in = sum(p["bytes_in"] for p in report["protocols"])
        totals_out = sum(p["bytes_out"] for p in report["protocols"])
        # The GET being answered has no bytes out yet. The gRPC connection's loop may still be closing it.
        if (totals_in, totals_out) != (report["socket_bytes_in"], report["socket_bytes_out"]):
            return None
        calls = sum(p["calls"] for p in report["protocols"])
        return report if calls >= 5 else None  # 3 Checks, the reflection stream, the Watch (cancelled)

    report = wait_until(settled, timeout=10, interval=0.1, message="every socket byte and call attributed")
    assert {p["protocol"] for p in report["protocols"]} == {"query"}, report["protocols"]
    query = report["protocols"][0]
    assert query["errors"] == 0, query
    # gRPC framing: each call's messages carry 5-byte prefixes, booked as framing.
    assert query["framing_bytes_in"] >= 4 * 5 and query["framing_bytes_out"] >= 4 * 5, query
    assert get_json(collector, "/v1/bandwidth/devices")["devices"] == [], "no device row for deviceless calls"
