#!/usr/bin/env python3
"""Pushes frames through the ingress as fast as its back-pressure lets one Python client, and prints the numbers:
frames/s and MB/s from the first push to the commit of everything, and the node's resident memory before and after
(--node-pid). One per-frame stream on the built-in no-op encoder, so that the ingress and the session, not a model,
are what is measured.

    python3 clients/python/samples/bench_ingress.py --url ws://127.0.0.1:8080/ingress/v1 --token T --frames 200000 --values 320
"""

import argparse
import asyncio
import os
import sys
import time
import uuid

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

from fusion_ingress import IngressSession, wire  # noqa: E402


def rss_kib(pid):
    if pid is None:
        return None
    with open(f"/proc/{pid}/status", encoding="ascii") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return None


async def run(args):
    spec = {
        "sessionId": f"bench-{uuid.uuid4().hex[:8]}",
        "window": {"kind": "Tumbling", "lengthUs": 100_000, "hopUs": 100_000},
        "streams": [{"streamId": "s0", "modality": "m", "model": "noop", "frameLength": args.values,
                     "maxFutureSkewUs": (args.frames + 10_000) * args.step_us}],
    }
    payload = wire.pack_floats([0.25] * args.values)
    before = rss_kib(args.node_pid)
    session = IngressSession(args.url, spec, token=args.token, max_uncommitted=args.max_uncommitted)
    await session.start()
    peak_held = 0
    started = time.perf_counter()
    for i in range(args.frames):
        await session.push("s0", payload, i * args.step_us)
        if session.log.frames > peak_held:
            peak_held = session.log.frames
    pushed = time.perf_counter()
    await session.complete(timeout=300)
    done = time.perf_counter()
    after = rss_kib(args.node_pid)
    await session.close()
    seconds = done - started
    print(f"frames {args.frames} of {args.values} values ({args.values * 4} B), one client, one session")
    print(f"  pushed in {pushed - started:.2f} s, all committed after {seconds:.2f} s: {args.frames / seconds:,.0f} frames/s, "
          f"{args.frames * args.values * 4 / seconds / 1e6:.1f} MB/s of payload")
    print(f"  uncommitted frames held by the client at most {peak_held} (cap {args.max_uncommitted}); "
          f"rejected {dict(session.rejected) or 0}; commits {session.stats['commits']}")
    if before is not None:
        print(f"  node RSS {before / 1024:.1f} MiB before, {after / 1024:.1f} MiB after")


async def slow_reader(args):
    """A client that floods the node with frames it rejects (negative seqs) and never reads the rejections."""
    import secrets
    import websockets
    spec = {"sessionId": f"slow-{uuid.uuid4().hex[:8]}", "streams": [{"streamId": "s0", "modality": "m", "model": "noop", "frameLength": 4}]}
    before = rss_kib(args.node_pid)
    sent = 0
    started = time.perf_counter()
    async with websockets.connect(args.url, max_queue=1, ping_interval=None) as ws:
        await ws.send(wire.open_message(spec, args.token, secrets.token_urlsafe(32), 0))
        kind, _ = wire.parse(await ws.recv())
        while kind == wire.PING:
            kind, _ = wire.parse(await ws.recv())
        assert kind == wire.OPENED, kind
        bad = wire.frames_message([(0, -1 - i, i, wire.pack_floats([1, 2, 3, 4])) for i in range(64)])
        try:
            while time.perf_counter() - started < args.seconds:
                await asyncio.wait_for(ws.send(bad), 10)
                sent += 1
        except (websockets.exceptions.ConnectionClosed, asyncio.TimeoutError, OSError) as e:
            print(f"  the node ended the connection after {sent} messages ({sent * 64} rejected frames): {type(e).__name__}")
    after = rss_kib(args.node_pid)
    print(f"slow reader: {sent} messages of 64 bad frames in {time.perf_counter() - started:.1f} s, never reading")
    if before is not None:
        print(f"  node RSS {before / 1024:.1f} MiB before, {after / 1024:.1f} MiB after")


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--url", default="ws://127.0.0.1:8080/ingress/v1")
    p.add_argument("--token", default=os.environ.get("FUSION_SESSION_TOKEN"))
    p.add_argument("--frames", type=int, default=100_000)
    p.add_argument("--values", type=int, default=320, help="floats per frame (320 = 20 ms of 16 kHz audio)")
    p.add_argument("--step-us", type=int, default=1_000, help="event time between frames")
    p.add_argument("--max-uncommitted", type=int, default=16384)
    p.add_argument("--node-pid", type=int, help="read the node's VmRSS from /proc")
    p.add_argument("--slow-reader", action="store_true", help="instead: flood rejected frames and never read (the node must cut it off)")
    p.add_argument("--seconds", type=float, default=30.0, help="how long the slow reader floods")
    args = p.parse_args()
    asyncio.run(slow_reader(args) if args.slow_reader else run(args))


if __name__ == "__main__":
    main()
