"""Hostile Sync clients: one that never reads its Acks (and grants no flow-control window for them) is held back
by HTTP/2 flow control once 4 KiB of its Acks wait unsent, and ended after the stream idle timeout; ingest by
everyone else is unharmed and memory stays bounded. Batches are sent a millisecond apart, so that most commit
alone and each gets its own Ack (batches that commit together share one, and a fast sender fills 4 KiB slower)."""

import time

import h2.events
import h2.settings

from fwtest import db_batches, simple_batch
from hostile import HealthProbe, RSSSampler, RawH2, grpc_frame, grpc_headers, metric

SYNC = "/telemetry.v1.Telemetry/Sync"


def send_paced(client, sid, frames, seconds):
    """Sends `frames` a millisecond apart while the collector's window allows; returns how many were sent."""
    deadline = time.monotonic() + seconds
    sent = 0
    while sent < len(frames) and time.monotonic() < deadline:
        if client.h2.local_flow_control_window(sid) < len(frames[sent]):
            client.read(timeout=0.05)
            continue
        client.h2.send_data(sid, frames[sent])
        client.flush()
        sent += 1
        time.sleep(0.001)
    return sent


def batch_frames(pb, count):
    return [grpc_frame(simple_batch(pb, seq, start_ms=1_765_000_000_000 + seq * 10_000)[0].SerializeToString())
            for seq in range(1, count + 1)]


def fill_until_held_back(collector, device, frames):
    """Opens a Sync stream whose client grants the collector a 64-byte window for its DATA (three Acks fit, the
    rest wait unsent); sends a thousand batches paced (a few hundred Acks, more than 4 KiB), then the rest as fast
    as the window allows, until it is spent (256 KiB, not credited again while the Acks wait). Returns the client,
    the stream and the bytes sent."""
    client = RawH2(collector)
    client.h2.update_settings({h2.settings.SettingCodes.INITIAL_WINDOW_SIZE: 64})
    client.flush()
    sid = client.h2.get_next_available_stream_id()
    client.h2.send_headers(sid, grpc_headers(collector, SYNC, device))
    client.flush()
    paced = send_paced(client, sid, frames[:1_000], 12)
    sent = sum(map(len, frames[:paced])) + client.send_body(sid, b"".join(frames[paced:]), timeout=4)
    return client, sid, sent


def test_a_sync_client_that_never_reads_its_acks_is_held_back_then_ended(proto, start_collector):
    collector = start_collector("--stream-idle-timeout", "2s", "--commit-window", "1ms")
    frames = batch_frames(proto.pb, 9_000)
    with RSSSampler(collector) as rss, HealthProbe(proto, collector) as probe:
        started = time.monotonic()
        client, sid, sent = fill_until_held_back(collector, "never-reads", frames)
        held_at = time.monotonic() - started
        # Held back: the client's window is spent and stays closed while its Acks wait.
        stored_when_held = len(db_batches(collector.db, "never-reads"))
        client.read(timeout=4)
        client.close()
    assert sent < sum(map(len, frames)), "the collector never held the stream back"
    assert 100 < stored_when_held < 2_000, stored_when_held
    # What was taken was stored; nothing more arrived after the hold-back.
    assert len(db_batches(collector.db, "never-reads")) == stored_when_held
    assert metric(collector, "fleetwire_timeouts_total", 'timeout="stream_idle"') == 1
    assert metric(collector, "fleetwire_errors_total", 'transport="grpc",code="RESOURCE_EXHAUSTED"') == 1
    assert metric(collector, "fleetwire_buffered_request_bytes") == 0
    log = collector.log()
    assert "bytes of Acks unread for 2 s; read the Acks" in log, log[-2000:]
    probe.assert_healthy()
    rss.report(f"never-reading Sync client ({sent} of {sum(map(len, frames))} bytes taken, held after {held_at:.1f} s)")
    assert rss.growth < 32 * 1024, f"RSS grew {rss.growth} KiB"


def test_a_slow_reader_is_held_back_and_resumes_when_it_reads(proto, start_collector):
    """The same client, but after the hold-back it reads and grants window: every batch is taken and acknowledged,
    and the stream ends OK."""
    collector = start_collector("--commit-window", "1ms")
    batches = 9_000
    frames = batch_frames(proto.pb, batches)
    body = b"".join(frames)
    client, sid, first = fill_until_held_back(collector, "slow-reader", frames)
    assert first < len(body), "the collector never held the stream back"
    # Now read: grant window for every Ack as it arrives.
    acked = 0
    deadline = time.monotonic() + 30
    sent = first
    while time.monotonic() < deadline and not any(isinstance(e, h2.events.StreamEnded) for e in client.events):
        for e in client.read(timeout=0.1):
            if isinstance(e, h2.events.DataReceived) and not getattr(e, "_counted", False):
                e._counted = True
                acked += len(e.data)
                client.h2.acknowledge_received_data(e.flow_controlled_length, e.stream_id)
        client.flush()
        if sent < len(body):
            sent += client.send_body(sid, body[sent:], timeout=0.2)
            if sent == len(body):
                client.h2.end_stream(sid)
                client.flush()
    client.close()
    assert sent == len(body)
    assert client.trailers(sid).get("grpc-status") == "0", client.trailers(sid)
    assert len(db_batches(collector.db, "slow-reader")) == batches
