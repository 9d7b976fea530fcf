"""A FusionActors session over the node's WebSocket ingress, with the .NET client's guarantees (docs/ingress.md):

- every frame is held in a replay log until the session commits it (a commit point says every frame before that
  event time was fused); a push waits while the log holds ``max_uncommitted`` frames;
- when the connection is lost (the node died, the session moved, the socket dropped) the client reconnects to the
  next URL, reopens with a resume point and replays everything uncommitted; repeats are dropped by seq on the node;
- each window's results reach ``on_result`` in the order the session ranks them, numbered 0, 1, 2, ... whatever
  incarnation of the session sent them: a repeat, or a result ranked below one delivered, is dropped (counted);
- a second writer fences this one: it ends with ``FencedError`` instead of taking the session back.
"""

import asyncio
import collections
import logging
import secrets
import time

import websockets

from . import wire

log = logging.getLogger("fusion_ingress")


class FusionSessionError(Exception):
    """The session ended for good: the node refused it, or the client gave up."""

    def __init__(self, code, message):
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message


class FencedError(FusionSessionError):
    """Another writer opened the session."""


class _Retry(Exception):
    """The connection ended in a way a reconnect can mend."""


class ReplayLog:
    """Frames and stream closes in push order, each held until a commit covers it."""

    def __init__(self, streams):
        self._entries = collections.OrderedDict()  # id -> ("frame", index, seq, t_us, payload) | ("close", index)
        self._next_id = 0
        self.next_seq = [0] * len(streams)
        self.frames = 0
        self.committed_frames = 0

    def append_frame(self, index, t_us, payload):
        seq = self.next_seq[index]
        self.next_seq[index] += 1
        self._entries[self._next_id] = ("frame", index, seq, t_us, payload)
        self._next_id += 1
        self.frames += 1
        return self._next_id - 1

    def append_close(self, index):
        self._entries[self._next_id] = ("close", index)
        self._next_id += 1
        return self._next_id - 1

    def get(self, entry_id):
        return self._entries.get(entry_id)

    def ids(self):
        return list(self._entries.keys())

    def __len__(self):
        return len(self._entries)

    def commit(self, through_us):
        """Forgets the frames before ``through_us`` (everything, for a commit of everything); returns how many."""
        if through_us == wire.COMMITTED_ALL:
            done = [k for k in self._entries]
        else:
            done = [k for k, e in self._entries.items() if e[0] == "frame" and e[3] < through_us]
        freed = 0
        for k in done:
            if self._entries.pop(k)[0] == "frame":
                freed += 1
        self.frames -= freed
        self.committed_frames += freed
        return freed

    def resume_point(self, streams):
        """Per stream: where the run of seqs this client holds or has not pushed starts, and the seqs held below it."""
        held = collections.defaultdict(set)
        for e in self._entries.values():
            if e[0] == "frame":
                held[e[1]].add(e[2])
        next_seq, held_below = {}, {}
        for index, stream in enumerate(streams):
            start = self.next_seq[index]
            seqs = held.get(index, set())
            while start > 0 and (start - 1) in seqs:
                start -= 1
            below = sorted(s for s in seqs if s < start)
            if below:
                held_below[stream] = below
            next_seq[stream] = start
        return next_seq, held_below


class ResultOrder:
    """Which results of a session the application gets, and how they are numbered (docs/ingress.md, "Delivery").

    Per window the session ranks its results by revision; an incarnation that resumed the session numbers its own
    above what the resume named (its generation and the revisions delivered), so they supersede, never repeat.
    What the application gets is renumbered 0, 1, 2, ... per window. A result with the revision already delivered
    (a dead incarnation's, arriving twice) is a duplicate; one ranked below a delivered one, or a ``NoEvidence``
    after a result decided on evidence, is outranked. Both are dropped.
    """

    MAX_DELIVERED = 1024  # what a resume may name (the node refuses more)
    KEEP_US = 600_000_000  # window keys are kept for 10 minutes behind the commit point

    def __init__(self):
        self.windows = {}  # (start, end) -> [highest wire revision, results given, decided on evidence]
        self.delivered = {}  # window start at or after the commit point -> highest wire revision delivered
        self.committed = -(1 << 63)
        self.duplicates = 0
        self.outranked = 0

    def take(self, r):
        """The result as the application gets it, or None when it is dropped."""
        key = (r["windowStartUs"], r["windowEndUs"])
        wire_revision, evidence = r["revision"], r.get("status") != "NoEvidence"
        window = self.windows.get(key)
        if window is not None and wire_revision == window[0]:
            self.duplicates += 1
            return None
        if window is not None and (wire_revision < window[0] or (not evidence and window[2])):
            self.outranked += 1
            return None
        count = window[1] if window is not None else 0
        self.windows[key] = [wire_revision, count + 1, evidence or (window is not None and window[2])]
        start = r["windowStartUs"]
        if start >= self.committed:
            if self.delivered.get(start, -1) < wire_revision:
                self.delivered[start] = wire_revision
            while len(self.delivered) > self.MAX_DELIVERED:
                del self.delivered[min(self.delivered)]
        return dict(r, revision=count)

    def commit(self, through_us):
        self.committed = max(self.committed, through_us)
        for start in [s for s in self.delivered if s < self.committed]:
            del self.delivered[start]
        if through_us != wire.COMMITTED_ALL:
            horizon = through_us - self.KEEP_US
            for key in [k for k in self.windows if k[1] < horizon]:
                del self.windows[key]


class IngressSession:
    """One session's writer. ``await start()``, ``await push(...)``, ``await complete()``; results go to ``on_result``."""

    def __init__(self, urls, spec, token=None, ssl=None, max_uncommitted=16384, clock=None, silence=5.0,
                 open_timeout=20.0, on_result=None, on_rejected=None, give_up_after=120.0):
        self.urls = [urls] if isinstance(urls, str) else list(urls)
        self.spec = spec
        self.streams = [s["streamId"] for s in spec["streams"]]
        self._index = {s: i for i, s in enumerate(self.streams)}
        self.token = token
        self.ssl = ssl
        self.max_uncommitted = max_uncommitted
        start = time.monotonic()
        self.now_us = clock or (lambda: spec.get("startUs", 0) + int((time.monotonic() - start) * 1e6))
        self.silence = silence
        self.open_timeout = open_timeout
        self.give_up_after = give_up_after
        self.on_result = on_result
        self.on_rejected = on_rejected
        self.nonce = secrets.token_urlsafe(32)  # who this writer is, on every reconnect
        self.log = ReplayLog(self.streams)
        self.epoch = 0
        self.capability = None
        self.committed_through = -(1 << 63)
        self.order = ResultOrder()
        self.results = []
        self.stats = collections.Counter()
        self.rejected = collections.Counter()
        self.nodes = []
        self._ws = None
        self._pending = None
        self._wake = asyncio.Event()
        self._room = asyncio.Condition()
        self._committed = asyncio.Condition()
        self._first_open = None
        self._task = None
        self._failure = None
        self._done = False

    # ---- the user's side

    async def start(self):
        self._first_open = asyncio.get_running_loop().create_future()
        self._task = asyncio.create_task(self._run())
        await self._first_open

    async def push(self, stream_id, values, t_us):
        """Holds the frame and sends it; waits while ``max_uncommitted`` frames are held. Returns its seq."""
        index = self._index[stream_id]
        payload = values if isinstance(values, (bytes, bytearray)) else wire.pack_floats(values)
        async with self._room:
            await self._room.wait_for(lambda: self._failure is not None or self.log.frames < self.max_uncommitted)
        self._raise_if_failed()
        entry = self.log.append_frame(index, int(t_us), bytes(payload))
        self.stats["framesPushed"] += 1
        self._enqueue(entry)
        return self.log.get(entry)[2]

    async def close_stream(self, stream_id):
        self._raise_if_failed()
        self._enqueue(self.log.append_close(self._index[stream_id]))

    async def complete(self, timeout=60.0):
        """Closes every stream and waits until the session committed everything."""
        for s in self.streams:
            await self.close_stream(s)
        async with self._committed:
            await asyncio.wait_for(self._committed.wait_for(
                lambda: self._failure is not None or self.committed_through == wire.COMMITTED_ALL), timeout)
        self._raise_if_failed()

    def drop_connection(self):
        """Cuts the socket as a network fault would (no close handshake); the client reconnects and resumes."""
        ws = self._ws
        if ws is not None and ws.transport is not None:
            self.stats["connectionsDropped"] += 1
            ws.transport.abort()

    async def close(self):
        self._done = True
        if self._task is not None:
            self._task.cancel()
            try:
                await self._task
            except (asyncio.CancelledError, Exception):  # noqa: BLE001 - the run loop's end is reported through _failure
                pass

    @property
    def failure(self):
        return self._failure

    # ---- the connection's side

    def _raise_if_failed(self):
        if self._failure is not None:
            raise self._failure

    def _enqueue(self, entry_id):
        if self._pending is not None:
            self._pending.append(entry_id)
            self._wake.set()

    async def _fail(self, error):
        if self._failure is None:
            self._failure = error
        if self._first_open is not None and not self._first_open.done():
            self._first_open.set_exception(error)
        async with self._room:
            self._room.notify_all()
        async with self._committed:
            self._committed.notify_all()

    async def _run(self):
        attempt = 0
        index = 0
        lost_at = None
        while not self._done:
            url = self.urls[index % len(self.urls)]
            attempt += 1
            opens = self.stats["opens"]
            try:
                async with websockets.connect(url, ssl=self.ssl, max_size=4 << 20, max_queue=64, ping_interval=None,
                                              open_timeout=self.open_timeout, close_timeout=2) as ws:
                    self._ws = ws
                    await self._serve(ws, url)
            except FusionSessionError as e:
                await self._fail(e)
                return
            except (_Retry, OSError, asyncio.TimeoutError, websockets.exceptions.WebSocketException) as e:
                log.warning("session %s: connection to %s lost (%s); reconnecting with %d entries held",
                            self.spec["sessionId"], url, e or type(e).__name__, len(self.log))
            finally:
                self._ws = None
                self._pending = None
            if self._done:
                return
            # A connection that was open and dropped is retried at the same node first: its link there kept what the
            # session sent meanwhile. One that failed goes to the next node.
            if self.stats["opens"] == opens:
                index += 1
            else:
                attempt, lost_at = 0, None
            lost_at = lost_at or time.monotonic()
            if time.monotonic() - lost_at > self.give_up_after:
                await self._fail(FusionSessionError("Unreachable", f"no node took the session for {self.give_up_after} s"))
                return
            self.stats["reconnects"] += 1
            await asyncio.sleep(min(2.0, 0.1 * attempt) if self.stats["opens"] == opens else 0.05)  # pacing of reconnects, not a synchronisation

    async def _serve(self, ws, url):
        resume = None
        if self.stats["opens"] > 0:
            next_seq, held_below = self.log.resume_point(self.streams)
            resume = {"committedThroughUs": self.committed_through, "nextSeq": next_seq,
                      "epoch": self.epoch}
            if self.capability:
                resume["capability"] = self.capability
            if held_below:
                resume["heldBelow"] = held_below
            # So that what a new incarnation sends ranks above what this client has (docs/ingress.md, "Delivery").
            resume["generation"] = min(self.stats["opens"], 262143)
            if self.order.delivered:
                resume["delivered"] = {str(start): revision for start, revision in self.order.delivered.items()}
        await ws.send(wire.open_message(self.spec, self.token, self.nonce, self.now_us(), resume))
        kind, body = wire.parse(await asyncio.wait_for(ws.recv(), self.open_timeout))
        while kind == wire.PING:  # a ping of the session may come before the answer
            kind, body = wire.parse(await asyncio.wait_for(ws.recv(), self.open_timeout))
        if kind == wire.ERROR:
            self._error(body)
        if kind != wire.OPENED:
            raise wire.ProtocolError(f"expected the open's answer, got message 0x{kind:02x}")
        self.epoch = body["epoch"]
        self.capability = body.get("capability")
        self.nodes.append(body.get("node"))
        self.stats["opens"] += 1
        if self.stats["opens"] > 1:
            self.stats["resumes"] += 1
            self.stats["entriesReplayed"] += len(self.log)
            log.warning("session %s resumed through %s (node %s); replaying %d entries", self.spec["sessionId"], url,
                        body.get("node"), len(self.log))
        if self._first_open is not None and not self._first_open.done():
            self._first_open.set_result(body)
        self._pending = collections.deque(self.log.ids())
        self._wake.set()
        sender = asyncio.create_task(self._send_loop(ws, self._pending))
        try:
            while True:
                if sender.done():
                    sender.result()  # a send that failed ends the connection
                try:
                    message = await asyncio.wait_for(ws.recv(), self.silence)
                except asyncio.TimeoutError:
                    raise _Retry(f"no word from the node for {self.silence} s") from None
                kind, body = wire.parse(message)
                if kind == wire.PING:
                    await ws.send(wire.pong_message(body, self.now_us()))
                elif kind == wire.COMMITTED:
                    await self._on_commit(body)
                    if body == wire.COMMITTED_ALL:
                        self._done = True
                        return
                elif kind == wire.RESULT:
                    self._on_result(body)
                elif kind == wire.REJECTED:
                    self.rejected[body.get("reason")] += 1
                    if self.on_rejected:
                        self.on_rejected(body)
                elif kind == wire.ERROR:
                    self._error(body)
        finally:
            sender.cancel()

    def _error(self, body):
        code, message = body.get("code"), body.get("message")
        self.stats[f"error:{code}"] += 1
        if body.get("retryable"):
            raise _Retry(f"{code}: {message}")
        if code == "Fenced":
            raise FencedError(code, message)
        raise FusionSessionError(code, message)

    async def _on_commit(self, through_us):
        self.stats["commits"] += 1
        self.log.commit(through_us)
        self.order.commit(through_us)
        if through_us > self.committed_through:
            self.committed_through = through_us
        async with self._room:
            self._room.notify_all()
        async with self._committed:
            self._committed.notify_all()

    def _on_result(self, r):
        r = self.order.take(r)
        self.stats["duplicateResultsDropped"] = self.order.duplicates
        self.stats["outrankedResultsDropped"] = self.order.outranked
        if r is None:
            return
        self.results.append(r)
        if self.on_result:
            self.on_result(r)

    async def _send_loop(self, ws, pending):
        while True:
            if not pending:
                self._wake.clear()
                await self._wake.wait()
                continue
            batch, size = [], 0
            while pending and len(batch) < wire.MAX_FRAMES_PER_MESSAGE:
                entry = self.log.get(pending[0])
                if entry is None:  # committed meanwhile
                    pending.popleft()
                    continue
                if entry[0] == "close":
                    if batch:
                        break
                    pending.popleft()
                    await ws.send(wire.close_stream_message(entry[1]))
                    continue
                _, index, seq, t_us, payload = entry
                if batch and size + len(payload) > (1 << 20):
                    break
                batch.append((index, seq, t_us, payload))
                size += len(payload)
                pending.popleft()
            if batch:
                await ws.send(wire.frames_message(batch))
                self.stats["framesSent"] += len(batch)
