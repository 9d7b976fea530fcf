using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using System.Text;
using FusionActors.Core.Time;
using FusionActors.Runtime.Metrics;

namespace FusionActors.Runtime.Recording;

/// <summary>
/// The node's one writer of session recordings: a thread of its own. A session's actors encode each record on their own
/// thread into the recording's current chunk (a pooled buffer of about <see cref="RecordingFile.ChunkTargetBytes"/>);
/// the writer seals and writes whole chunks (one CRC-32 and one AES-GCM call for many records) when one fills, and every
/// <see cref="FlushIntervalMs"/> the partial ones, then flushes. What waits is bounded (records and bytes, every
/// session of the node together): beyond, or when the disk fails (full, gone, read-only), that session's recording is
/// dropped: logged once, counted (<c>fusion.recording.dropped</c>), and fusion goes on. The file keeps the prefix written
/// before. Retention runs on the same thread, on its schedule.
/// </summary>
public sealed class RecordingWriter : IDisposable
{
    private static readonly Counter<long> DroppedCounter = FusionMetrics.Meter.CreateCounter<long>("fusion.recording.dropped", "{recording}",
        "Session recordings given up (queue full, disk full or failing, file size cap), by reason");
    private static readonly Counter<long> RecordsCounter = FusionMetrics.Meter.CreateCounter<long>("fusion.recording.records", "{record}", "Records written to session recordings");
    private static readonly Counter<long> BytesCounter = FusionMetrics.Meter.CreateCounter<long>("fusion.recording.bytes", "By", "Bytes written to session recordings");
    private static readonly Counter<long> DeletedCounter = FusionMetrics.Meter.CreateCounter<long>("fusion.recording.deleted", "{file}", "Recordings deleted by retention");

    /// <summary>How long records wait in a chunk that is not full before the writer seals, writes and flushes it.</summary>
    public const int FlushIntervalMs = 50;

    /// <summary>The largest record: it and its chunk's framing and seal fit <see cref="RecordingFile.MaxChunkBytes"/>.</summary>
    private const int MaxRecordBytes = RecordingFile.MaxChunkBytes - 4 - RecordingFile.NonceBytes - RecordingFile.TagBytes;

    // Operations (open, close, barrier, retention) go through a lock-free queue; records never do: they wait in their
    // recording's chunks, and a full chunk puts its recording on _filled. The writer sleeps on the signal between
    // rounds; an actor wakes it only for an operation or a full chunk, never for a record.
    private readonly ConcurrentQueue<Item> _queue = new();
    private readonly ConcurrentQueue<Target> _filled = new();
    private readonly ManualResetEventSlim _signal = new(false);
    private int _sleeping;
    private int _filledPending;
    private volatile bool _stopping;
    private readonly Thread _thread;
    private readonly Func<string, Stream> _open;
    private readonly RecordingKeys _keys;
    private readonly HashSet<Target> _dirty = [];
    private readonly HashSet<Target> _files = [];
    private readonly List<Target> _round = [];
    private readonly List<Target.Chunk> _chunks = [];
    private long _queuedBytes;
    private long _queuedRecords;
    private long _dropped, _records, _deleted;
    private int _droppedOpen; // a recording was dropped outside the writer's thread (queue full): its file is closed there
    private DateTime _nextRetention;

    /// <param name="openFile">How a recording file is created (default: a new <see cref="FileStream"/>); the full-disk spec wraps one.</param>
    public RecordingWriter(RecordingOptions options, Action<string>? warn = null, Func<string, Stream>? openFile = null)
    {
        if (!options.Enabled) throw new ArgumentException("recording needs Fusion:Recording:Directory", nameof(options));
        var problems = options.Problems().ToList();
        if (problems.Count > 0) throw new FormatException(string.Join("; ", problems));
        Options = options;
        Directory = Path.GetFullPath(options.Directory!);
        // Recordings hold what the sensors saw: the node's user alone reads them (docs/recording.md, "Privacy").
        if (OperatingSystem.IsWindows()) System.IO.Directory.CreateDirectory(Directory);
        else System.IO.Directory.CreateDirectory(Directory, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        _keys = options.LoadKeys();
        Warn = warn ?? (m => Console.Error.WriteLine(m));
        _open = openFile ?? OpenFile;
        _nextRetention = DateTime.UtcNow;
        _thread = new Thread(Run) { IsBackground = true, Name = "fusion-recording" };
        _thread.Start();
    }

    private static FileStream OpenFile(string path)
    {
        var options = new FileStreamOptions
        {
            Mode = FileMode.CreateNew, Access = FileAccess.Write, Share = FileShare.Read, BufferSize = 64 * 1024,
        };
        if (!OperatingSystem.IsWindows()) options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        return new FileStream(path, options);
    }

    public RecordingOptions Options { get; }

    /// <summary>The recording directory, absolute.</summary>
    public string Directory { get; }

    /// <summary>Where the one line per dropped recording goes (the node's log once the actor system is up).</summary>
    public Action<string> Warn { get; set; }

    /// <summary>Recordings dropped since the writer started.</summary>
    public long Dropped => Interlocked.Read(ref _dropped);

    /// <summary>Records written since the writer started.</summary>
    public long Records => Interlocked.Read(ref _records);

    /// <summary>Files retention deleted since the writer started.</summary>
    public long Deleted => Interlocked.Read(ref _deleted);

    /// <summary>A session's handle, off until <see cref="SessionRecording.Begin"/>.</summary>
    public SessionRecording For(string sessionId, TimeSources time) => new(this, sessionId, time);

    /// <summary>Whether a session is recorded from its open: its spec asks, or the configured rule names it.</summary>
    public bool ChoosesAtOpen(Protocol.Specs.SessionSpec spec) => spec.Record || Options.Chooses(spec.SessionId);

    /// <summary>Waits until everything queued before is written and flushed (specs, shutdown).</summary>
    public bool Flush(TimeSpan timeout)
    {
        using var done = new ManualResetEventSlim();
        if (!TryAdd(new Item(Op.Barrier, null) { Done = done })) return false;
        return done.Wait(timeout);
    }

    /// <summary>Runs retention now, on the writer's thread; returns the files it deleted.</summary>
    public IReadOnlyList<string> EnforceRetention(TimeSpan timeout)
    {
        using var done = new ManualResetEventSlim();
        var item = new Item(Op.Retention, null) { Done = done };
        if (!TryAdd(item) || !done.Wait(timeout)) return [];
        return item.Deleted ?? [];
    }

    internal Target Open(string sessionId)
    {
        var path = Path.Combine(Directory, RecordingFile.FileName(sessionId, DateTime.UtcNow));
        var target = new Target(this, sessionId, path);
        if (!TryAdd(new Item(Op.Open, target))) target.Drop("queue_full", "the writer is stopping");
        return target;
    }

    /// <summary>Ends a recording: what its chunks hold is written, then the file is closed.</summary>
    internal void Close(Target target)
    {
        if (!target.Dropped) TryAdd(new Item(Op.Close, target));
    }

    /// <summary>
    /// Copies a record encoded in <paramref name="record"/> into its recording's current chunk, counted against the
    /// bounds (<paramref name="capped"/> false: counted, but never refused for them); over a bound, the recording is dropped.
    /// </summary>
    internal void Append(Target target, RecordEncoder record, bool capped = true)
    {
        var span = record.Written;
        try
        {
            if (target.Dropped) return;
            if (span.Length > MaxRecordBytes)
            {
                target.Drop("file_size", $"a record of {span.Length} bytes is over a chunk's {MaxRecordBytes}");
                return;
            }
            long bytes = capped ? 4 + span.Length : 0; // the spec: one per recording, bounded by its own cap
            var queuedBytes = bytes == 0 ? Interlocked.Read(ref _queuedBytes) : Interlocked.Add(ref _queuedBytes, bytes);
            var queuedRecords = Interlocked.Increment(ref _queuedRecords);
            if (capped && (queuedBytes > Options.MaxQueuedBytes || queuedRecords > Options.MaxQueuedRecords))
            {
                Release(bytes, 1);
                target.Drop("queue_full", queuedBytes > Options.MaxQueuedBytes
                    ? $"more than {Options.MaxQueuedBytes} bytes wait for the writer"
                    : $"more than {Options.MaxQueuedRecords} records wait for the writer");
                return;
            }
            switch (target.Append(span, (int)bytes))
            {
                case Target.Appended.Closed:
                    Release(bytes, 1);
                    return;
                case Target.Appended.Filled:
                    _filled.Enqueue(target);
                    Volatile.Write(ref _filledPending, 1);
                    if (Volatile.Read(ref _sleeping) != 0) _signal.Set();
                    return;
            }
        }
        finally
        {
            record.Done();
        }
    }

    private void Release(long bytes, long records)
    {
        Interlocked.Add(ref _queuedBytes, -bytes);
        Interlocked.Add(ref _queuedRecords, -records);
    }

    private void Release(Target.Chunk chunk)
    {
        Release(chunk.Counted, chunk.Records);
        System.Buffers.ArrayPool<byte>.Shared.Return(chunk.Buffer);
    }

    internal void CountDrop(Target target, string reason, string detail)
    {
        Interlocked.Increment(ref _dropped);
        Volatile.Write(ref _droppedOpen, 1);
        DroppedCounter.Add(1, new KeyValuePair<string, object?>("reason", reason));
        try { Warn($"Session {target.SessionId}: recording {target.Path} dropped ({reason}): {detail}; the session goes on unrecorded"); }
        catch (Exception)
        {
            // A logger that throws must not take the writer down.
        }
    }

    private bool TryAdd(Item item)
    {
        if (_stopping) return false;
        _queue.Enqueue(item);
        if (Volatile.Read(ref _sleeping) != 0) _signal.Set();
        return true;
    }

    private void Run()
    {
        var nextRound = Environment.TickCount64 + FlushIntervalMs;
        while (true)
        {
            var stopping = _stopping;
            while (_queue.TryDequeue(out var item))
            {
                CloseDropped(); // before a barrier is answered
                Handle(item);
            }
            CloseDropped();
            WriteFilled();
            var now = Environment.TickCount64;
            if (stopping || now >= nextRound)
            {
                WriteAll();
                FlushDirty(); // a full chunk waits in the file's buffer until the round: fewer, larger writes
                nextRound = now + FlushIntervalMs;
            }
            MaybeRetention(); // on its schedule, busy or not
            if (stopping) break;
            _signal.Reset();
            Interlocked.Exchange(ref _sleeping, 1);
            var wait = nextRound - Environment.TickCount64;
            if (wait > 0 && _queue.IsEmpty && Volatile.Read(ref _filledPending) == 0 && !_stopping) _signal.Wait((int)wait);
            Interlocked.Exchange(ref _sleeping, 0);
        }
        foreach (var t in _files.ToList()) CloseFile(t);
    }

    /// <summary>The recordings whose chunks filled: their full chunks (not the one being filled).</summary>
    private void WriteFilled()
    {
        Volatile.Write(ref _filledPending, 0);
        while (_filled.TryDequeue(out var target)) WriteChunks(target, all: false);
    }

    /// <summary>Every open recording's chunks, the partial ones too.</summary>
    private void WriteAll()
    {
        _round.Clear();
        _round.AddRange(_files);
        foreach (var t in _round) WriteChunks(t, all: true);
        _round.Clear();
    }

    private void WriteChunks(Target target, bool all)
    {
        if (!target.Opened) return; // its open is still queued: the round after it takes these
        _chunks.Clear();
        target.Take(_chunks, all);
        foreach (var chunk in _chunks)
        {
            if (!target.Dropped && target.Stream is not null) WriteChunk(target, chunk);
            Release(chunk);
        }
        _chunks.Clear();
    }

    private void Handle(Item item)
    {
        var target = item.Target;
        switch (item.Op)
        {
            case Op.Barrier:
                WriteFilled();
                WriteAll();
                FlushDirty();
                item.Done!.Set();
                return;
            case Op.Retention:
                item.Deleted = RunRetention();
                item.Done!.Set();
                return;
            case Op.Open:
                target!.Opened = true;
                if (target.Dropped)
                {
                    Discard(target);
                    return;
                }
                Io(target, () =>
                {
                    target.Stream = _open(target.Path);
                    _files.Add(target);
                    var header = RecordingFile.Header(target.SessionId, _keys.CurrentId, SystemClock.Instance.NowUs);
                    target.HeaderCrc = System.Buffers.Binary.BinaryPrimitives.ReadUInt32LittleEndian(header.AsSpan(header.Length - 4));
                    target.Aes = _keys.Current is { } key ? new System.Security.Cryptography.AesGcm(key, RecordingFile.TagBytes) : null;
                    Write(target, header);
                });
                return;
            case Op.Close:
                if (target!.Stream is not null) WriteChunks(target, all: true);
                CloseFile(target);
                return;
        }
    }

    /// <summary>Closes the files of recordings dropped since the last look (nothing more will come for them).</summary>
    private void CloseDropped()
    {
        if (Interlocked.Exchange(ref _droppedOpen, 0) == 0) return;
        foreach (var t in _files.Where(t => t.Dropped).ToList()) CloseFile(t);
    }

    /// <summary>Seals (or, in the clear, frames in place) and writes one chunk; false when the recording failed.</summary>
    private bool WriteChunk(Target target, Target.Chunk chunk)
    {
        var (bytes, length) = Frame(target, chunk.Buffer, chunk.Used - 8);
        if (length > RecordingFile.MaxChunkBytes + 8 || target.Bytes + length > Options.MaxFileBytes)
        {
            Fail(target, "file_size", $"the file would pass {Options.MaxFileBytes} bytes (Fusion:Recording:MaxFileBytes)");
            return false;
        }
        try
        {
            Write(target, bytes, length);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            Fail(target, "io", e.Message);
            return false;
        }
        target.Chunks++;
        Interlocked.Add(ref _records, chunk.Records);
        RecordsCounter.Add(chunk.Records);
        BytesCounter.Add(length);
        return true;
    }

    private byte[] _sealed = new byte[64 * 1024];

    /// <summary>The chunk of the records at <paramref name="buffer"/>[8..]: framed there in the clear, else sealed into a buffer of the writer's.</summary>
    private (byte[] Chunk, int Length) Frame(Target target, byte[] buffer, int plaintext)
    {
        if (target.Aes is null)
        {
            RecordingFile.Prefix(buffer.AsSpan(0, 8 + plaintext));
            return (buffer, 8 + plaintext);
        }
        var length = 8 + RecordingFile.SealedLength(plaintext);
        if (_sealed.Length < length) _sealed = new byte[Math.Max(length, _sealed.Length * 2)];
        RecordingFile.Seal(buffer.AsSpan(8, plaintext), target.Aes, target.Chunks, target.HeaderCrc, _sealed.AsSpan(8, length - 8));
        RecordingFile.Prefix(_sealed.AsSpan(0, length));
        return (_sealed, length);
    }

    private void Write(Target target, byte[] bytes, int count = -1)
    {
        if (count < 0) count = bytes.Length;
        target.Stream!.Write(bytes, 0, count);
        target.Bytes += count;
        _dirty.Add(target);
    }

    /// <summary>Runs a file operation; an I/O failure (a full disk among them) drops the recording.</summary>
    private bool Io(Target target, Action action)
    {
        try
        {
            action();
            return true;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            Fail(target, "io", e.Message);
            return false;
        }
    }

    private void Fail(Target target, string reason, string detail)
    {
        target.Drop(reason, detail);
        CloseFile(target);
    }

    /// <summary>Gives back what a recording's chunks still hold; nothing more is taken for it.</summary>
    private void Discard(Target target)
    {
        var chunks = new List<Target.Chunk>();
        target.Close(chunks);
        foreach (var c in chunks) Release(c);
    }

    private void CloseFile(Target target)
    {
        Discard(target);
        _dirty.Remove(target);
        _files.Remove(target);
        var stream = target.Stream;
        target.Stream = null;
        target.Aes?.Dispose();
        target.Aes = null;
        if (stream is null) return;
        try { stream.Dispose(); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // Its buffered tail could not be written (a full disk): the reader stops where the file ends.
            if (!target.Dropped) target.Drop("io", e.Message);
        }
    }

    private void FlushDirty()
    {
        if (_dirty.Count == 0) return;
        foreach (var t in _dirty.ToList())
            if (t.Stream is { } s) Io(t, s.Flush);
        _dirty.Clear();
    }

    private void MaybeRetention()
    {
        if (DateTime.UtcNow < _nextRetention) return;
        RunRetention();
    }

    private IReadOnlyList<string> RunRetention()
    {
        _nextRetention = DateTime.UtcNow + Options.RetentionInterval;
        FlushDirty();
        var open = _files.Select(t => Path.GetFullPath(t.Path)).ToHashSet();
        IReadOnlyList<string> deleted;
        try { deleted = RecordingRetention.Enforce(Directory, Options.MaxAge, Options.MaxTotalBytes, DateTime.UtcNow, open); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            Warn($"recording retention of {Directory} failed: {e.Message}");
            return [];
        }
        if (deleted.Count > 0)
        {
            Interlocked.Add(ref _deleted, deleted.Count);
            DeletedCounter.Add(deleted.Count);
        }
        return deleted;
    }

    public void Dispose()
    {
        _stopping = true;
        _signal.Set();
        if (!_thread.Join(TimeSpan.FromSeconds(10))) return; // a disk that hangs: the thread keeps what it uses
        _signal.Dispose();
    }

    internal enum Op : byte
    {
        Open,
        Record,
        Close,
        Barrier,
        Retention,
    }

    /// <summary>What the writer's thread is handed besides records: an operation on a file or the writer.</summary>
    internal sealed class Item(Op op, Target? target)
    {
        public Op Op { get; } = op;
        public Target? Target { get; } = target;
        public ManualResetEventSlim? Done { get; init; }
        public IReadOnlyList<string>? Deleted { get; set; }
    }

    /// <summary>
    /// One recording file: shared by a session's actors (who append records to its chunks and read <see cref="Dropped"/>)
    /// and the writer's thread (who takes the chunks, and owns the rest).
    /// </summary>
    internal sealed class Target(RecordingWriter writer, string sessionId, string path)
    {
        private const int FirstChunkBytes = 4096;

        /// <summary>
        /// A chunk's buffer: 8 bytes kept for its framing, then <see cref="Records"/> records up to <see cref="Used"/>, of
        /// which <see cref="Counted"/> bytes count against <see cref="RecordingOptions.MaxQueuedBytes"/>.
        /// </summary>
        public readonly record struct Chunk(byte[] Buffer, int Used, int Records, long Counted);

        public enum Appended : byte
        {
            Appended,
            Filled,
            Closed,
        }

        private int _dropped;
        private readonly object _gate = new();
        private readonly Queue<Chunk> _full = new();
        private byte[]? _chunk;
        private int _used, _limit, _count;
        private long _counted;
        private int _nextBytes = FirstChunkBytes;
        private bool _closed;

        public string SessionId { get; } = sessionId;
        public string Path { get; } = path;
        public bool Dropped => Volatile.Read(ref _dropped) != 0;

        // The writer's thread only.
        public bool Opened { get; set; }
        public Stream? Stream { get; set; }
        public long Bytes { get; set; }
        public long Chunks { get; set; }
        public uint HeaderCrc { get; set; }
        public System.Security.Cryptography.AesGcm? Aes { get; set; }

        /// <summary>Gives the recording up; the first caller logs and counts it.</summary>
        public void Drop(string reason, string detail)
        {
            if (Interlocked.Exchange(ref _dropped, 1) == 0) writer.CountDrop(this, reason, detail);
        }

        /// <summary>Copies a record (after its u32 length) into the current chunk; a record that does not fit starts the next.</summary>
        public Appended Append(ReadOnlySpan<byte> record, int counted)
        {
            var need = 4 + record.Length;
            var filled = false;
            lock (_gate)
            {
                if (_closed) return Appended.Closed;
                if (_chunk is null || _used + need > _limit)
                {
                    if (_chunk is not null)
                    {
                        _full.Enqueue(new Chunk(_chunk, _used, _count, _counted));
                        filled = true;
                        _nextBytes = Math.Min(_nextBytes * 2, RecordingFile.ChunkTargetBytes);
                    }
                    _chunk = System.Buffers.ArrayPool<byte>.Shared.Rent(Math.Max(_nextBytes, 8 + need));
                    _limit = Math.Max(Math.Min(_chunk.Length, RecordingFile.ChunkTargetBytes), 8 + need);
                    _used = 8;
                    _count = 0;
                    _counted = 0;
                }
                System.Buffers.Binary.BinaryPrimitives.WriteInt32LittleEndian(_chunk.AsSpan(_used), record.Length);
                record.CopyTo(_chunk.AsSpan(_used + 4));
                _used += need;
                _count++;
                _counted += counted;
            }
            return filled ? Appended.Filled : Appended.Appended;
        }

        /// <summary>The full chunks, in order, and with <paramref name="all"/> the one being filled too.</summary>
        public void Take(List<Chunk> into, bool all)
        {
            lock (_gate)
            {
                while (_full.TryDequeue(out var c)) into.Add(c);
                if (!all || _chunk is null) return;
                if (_count > 0) into.Add(new Chunk(_chunk, _used, _count, _counted));
                else System.Buffers.ArrayPool<byte>.Shared.Return(_chunk);
                // A recording that fills little between rounds gets smaller chunks (and keeps less memory).
                if (_used * 4 < _nextBytes) _nextBytes = Math.Max(_nextBytes / 2, FirstChunkBytes);
                _chunk = null;
            }
        }

        /// <summary>Takes everything and takes no record any more.</summary>
        public void Close(List<Chunk> into)
        {
            lock (_gate)
            {
                _closed = true;
                Take(into, all: true);
            }
        }
    }
}
