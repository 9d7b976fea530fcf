#!/usr/bin/env python3
"""Plays the AV-Digits sample as two live sensors (16 kHz audio in 20 ms frames, an 8x8 camera at 10 fps) into a
FusionActors node through its WebSocket ingress, and prints the fused results.

    python3 clients/python/samples/push_avdigits.py --url ws://127.0.0.1:8080/ingress/v1 --token TOKEN --items 20

--speed 4 plays four times faster than real time (each stream's maxFutureSkewUs is then widened to the length of the
recording, since event times run ahead of the session clock); --drop-after N cuts
the connection once after N results, to show the reconnect and resume; --report PATH writes the counts as JSON.
"""

import argparse
import asyncio
import json
import logging
import os
import sys
import time
import uuid

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

from fusion_ingress import FusionSessionError, IngressSession, avdigits  # noqa: E402


def default_dataset():
    here = os.path.dirname(os.path.abspath(__file__))
    return os.environ.get("FUSION_SAMPLES") or os.path.normpath(os.path.join(here, "..", "..", "..", "samples", "avdigits"))


async def run(args):
    items = avdigits.load(args.dataset, args.items)
    session_id = args.session or f"py-{uuid.uuid4().hex[:12]}"
    started = time.monotonic()

    def played():  # where the recording is, in event time
        return int((time.monotonic() - started) * 1e6 * args.speed)

    def clock():  # the session clock the node reads (pings, open): real time, whatever the speed
        return int((time.monotonic() - started) * 1e6)

    spec = avdigits.spec(session_id)
    if args.speed != 1:
        # Played faster than real time, event times run ahead of the session clock: each stream may be ahead by as much
        # as the whole recording (the node's future-skew check is for live clocks, default 5 s).
        for stream in spec["streams"]:
            stream["maxFutureSkewUs"] = (len(items) + 5) * 1_000_000

    drop = {"pending": args.drop_after is not None}

    def on_result(r):
        window = r["windowStartUs"] // 1_000_000
        label = items[window].label if 0 <= window < len(items) else None
        ok = r["status"] == "Fused" and r.get("topLabel") == str(label)
        if not args.quiet:
            weights = " ".join(f"{k}={v:.2f}" for k, v in sorted(r["weights"].items()))
            missing = " missing:" + ",".join(r["missing"]) if r["missing"] else ""
            print(f"[{window:5d}s] rev {r['revision']} label {label} fused {r.get('topLabel')} {'ok ' if ok else 'BAD'} "
                  f"p={r['confidence']:.2f} w: {weights}{missing}", flush=True)
        if drop["pending"] and len(session.results) >= args.drop_after:
            drop["pending"] = False
            print(f"dropping the connection after {len(session.results)} results", flush=True)
            session.drop_connection()

    session = IngressSession(args.url.split(","), spec, token=args.token, clock=clock,
                             on_result=on_result)
    await session.start()
    print(f"session {session_id} open on {session.nodes[-1]}", flush=True)
    failure = None
    try:
        for send_at, stream, t_us, values in avdigits.timeline(items):
            delay = (send_at - played()) / 1e6 / args.speed
            if delay > 0:
                await asyncio.sleep(delay)  # pacing of a live sensor
            await session.push(stream, values, t_us)
        await session.complete(timeout=args.timeout)
    except (FusionSessionError, asyncio.TimeoutError) as e:
        failure = e
    finally:
        await session.close()

    windows = {r["windowStartUs"] for r in session.results}
    fused = {r["windowStartUs"] for r in session.results if r["status"] == "Fused"}
    latest = {}
    for r in session.results:  # the last revision of each window is its decision
        if r["windowStartUs"] not in latest or r["revision"] >= latest[r["windowStartUs"]]["revision"]:
            latest[r["windowStartUs"]] = r
    correct = sum(1 for w, r in latest.items() if 0 <= w // 1_000_000 < len(items)
                  and r.get("topLabel") == str(items[w // 1_000_000].label))
    report = {
        "sessionId": session_id, "items": len(items), "windows": len(windows), "fusedWindows": len(fused),
        "results": len(session.results), "accuracy": correct / len(items) if items else 0.0,
        "framesPushed": session.stats["framesPushed"], "framesCommitted": session.log.committed_frames,
        "uncommitted": session.log.frames, "committedAll": session.committed_through == (1 << 63) - 1,
        "opens": session.stats["opens"], "resumes": session.stats["resumes"], "reconnects": session.stats["reconnects"],
        "connectionsDropped": session.stats["connectionsDropped"], "entriesReplayed": session.stats["entriesReplayed"],
        "duplicateResultsDropped": session.stats["duplicateResultsDropped"], "rejected": dict(session.rejected),
        "nodes": session.nodes, "failure": str(failure) if failure else None,
        "seconds": round(time.monotonic() - started, 2),
    }
    print(f"summary: {report['fusedWindows']}/{report['items']} windows fused, accuracy {100 * report['accuracy']:.1f} %, "
          f"frames pushed {report['framesPushed']}, committed {report['framesCommitted']}, resumes {report['resumes']}, "
          f"replayed {report['entriesReplayed']}, duplicate results dropped {report['duplicateResultsDropped']}, "
          f"rejected {dict(session.rejected)}", flush=True)
    if args.report:
        with open(args.report, "w", encoding="utf-8") as f:
            json.dump(report, f, indent=2)
    if failure:
        print(f"error: {failure}", file=sys.stderr)
        return 1
    return 0


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--url", default="ws://127.0.0.1:8080/ingress/v1", help="ingress URL(s), comma-separated: tried in turn")
    p.add_argument("--token", default=os.environ.get("FUSION_SESSION_TOKEN"), help="session token (default $FUSION_SESSION_TOKEN)")
    p.add_argument("--dataset", default=default_dataset(), help="an AV-Digits directory (default samples/avdigits)")
    p.add_argument("--items", type=int, default=20, help="items to play, one per second (default 20)")
    p.add_argument("--speed", type=float, default=1.0, help="times real time (default 1)")
    p.add_argument("--session", help="session id (default a new one)")
    p.add_argument("--drop-after", type=int, help="cut the connection once after this many results")
    p.add_argument("--timeout", type=float, default=120.0, help="seconds to wait for the last commit (default 120)")
    p.add_argument("--report", help="write the counts as JSON here")
    p.add_argument("--quiet", action="store_true", help="only the summary")
    args = p.parse_args()
    if args.speed <= 0 or args.items <= 0:
        p.error("--speed and --items must be positive")
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    sys.exit(asyncio.run(run(args)))


if __name__ == "__main__":
    main()
