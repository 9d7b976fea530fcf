using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using System.Text;
using FusionActors.Core.Time;
using FusionActors.Runtime.Metrics;

namespace FusionActors.Runtime.Recording;

/// <summary>
/// The node's one writer of session recordings: a thread of its own behind a bounded queue, so a session's actors only
/// hand records over. When the queue is full (by records or by payload bytes), or the disk fails (full, gone, read-only),
/// that session's recording is dropped: logged once, counted (<c>fusion.recording.dropped</c>), and fusion goes on.
/// The file keeps the prefix written before. Retention runs on the same thread, on its schedule.
/// </summary>
public sealed class RecordingWriter : IDisposable
{
    private static readonly Counter<long> DroppedCounter = FusionMetrics.Meter.CreateCounter<long>("fusion.recording.dropped", "{recording}",
        "Session recordings given up (queue full, disk full or failing, file size cap), by reason");
    private static readonly Counter<long> RecordsCounter = FusionMetrics.Meter.CreateCounter<long>("fusion.recording.records", "{record}", "Records written to session recordings");
    private static readonly Counter<long> BytesCounter = FusionMetrics.Meter.CreateCounter<long>("fusion.recording.bytes", "By", "Bytes written to session recordings");
    private static readonly Counter<long> DeletedCounter = FusionMetrics.Meter.CreateCounter<long>("fusion.recording.deleted", "{file}", "Recordings deleted by retention");

    // A lock-free queue with a count for its bound; the writer sleeps on the signal only when it found the queue empty,
    // so an actor handing a record over pays an enqueue and an increment, not a semaphore.
    private readonly ConcurrentQueue<Item> _queue = new();
    private readonly ManualResetEventSlim _signal = new(false);
    private int _queued;
    private int _sleeping;
    private volatile bool _stopping;
    private readonly Thread _thread;
    private readonly Func<string, Stream> _open;
    private readonly RecordingKeys _keys;
    private readonly HashSet<Target> _dirty = [];
    private readonly HashSet<Target> _files = [];
    private readonly MemoryStream _buffer = new();
    private readonly BinaryWriter _encoder;
    private long _queuedBytes;
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
        _encoder = new BinaryWriter(_buffer, Encoding.UTF8, leaveOpen: true);
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
        if (!TryAdd(new Item(Op.Barrier, null) { Done = done }, bounded: false)) return false;
        return done.Wait(timeout);
    }

    /// <summary>Runs retention now, on the writer's thread; returns the files it deleted.</summary>
    public IReadOnlyList<string> EnforceRetention(TimeSpan timeout)
    {
        using var done = new ManualResetEventSlim();
        var item = new Item(Op.Retention, null) { Done = done };
        if (!TryAdd(item, bounded: false) || !done.Wait(timeout)) return [];
        return item.Deleted ?? [];
    }

    internal Target Open(string sessionId)
    {
        var path = Path.Combine(Directory, RecordingFile.FileName(sessionId, DateTime.UtcNow));
        var target = new Target(this, sessionId, path);
        // Open items are not counted against the queue's bytes, and a full queue drops the recording at once.
        Enqueue(target, new Item(Op.Open, target));
        return target;
    }

    internal void Enqueue(Target target, Item item)
    {
        if (target.Dropped) return;
        if (item.Bytes > 0 && Interlocked.Add(ref _queuedBytes, item.Bytes) > Options.MaxQueuedBytes)
        {
            Interlocked.Add(ref _queuedBytes, -item.Bytes);
            target.Drop("queue_full", $"more than {Options.MaxQueuedBytes} bytes wait for the writer");
            return;
        }
        if (TryAdd(item, bounded: true)) return;
        if (item.Bytes > 0) Interlocked.Add(ref _queuedBytes, -item.Bytes);
        target.Drop("queue_full", $"more than {Options.MaxQueuedRecords} records wait for the writer");
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

    private bool TryAdd(Item item, bool bounded)
    {
        if (_stopping) return false;
        if (Interlocked.Increment(ref _queued) > Options.MaxQueuedRecords && bounded)
        {
            Interlocked.Decrement(ref _queued);
            return false;
        }
        _queue.Enqueue(item);
        if (Volatile.Read(ref _sleeping) != 0) _signal.Set();
        return true;
    }

    private void Run()
    {
        while (true)
        {
            if (!_queue.TryDequeue(out var item))
            {
                if (_stopping) break;
                CloseDropped();
                FlushDirty();
                MaybeRetention();
                _signal.Reset();
                Interlocked.Exchange(ref _sleeping, 1);
                if (_queue.IsEmpty && !_stopping) _signal.Wait(50);
                Interlocked.Exchange(ref _sleeping, 0);
                continue;
            }
            Interlocked.Decrement(ref _queued);
            if (item.Bytes > 0) Interlocked.Add(ref _queuedBytes, -item.Bytes);
            CloseDropped(); // before a barrier is answered
            Handle(item);
            if (_queue.IsEmpty) FlushDirty();
            MaybeRetention(); // on its schedule, busy or not
        }
        FlushDirty();
        foreach (var t in _files.ToList()) CloseFile(t);
    }

    private void Handle(Item item)
    {
        var target = item.Target;
        switch (item.Op)
        {
            case Op.Barrier:
                FlushDirty();
                item.Done!.Set();
                return;
            case Op.Retention:
                item.Deleted = RunRetention();
                item.Done!.Set();
                return;
            case Op.Open:
                if (target!.Dropped) return;
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
            case Op.Record:
                if (target!.Dropped || target.Stream is null) return;
                byte[] chunk;
                int length;
                try
                {
                    // Encoded after 8 reserved bytes, framed in place: no copy of a record in the clear.
                    _buffer.SetLength(0);
                    _buffer.Write(stackalloc byte[8]);
                    RecordCodec.Write(_encoder, item.Kind, item.WallUs, item.MonoMs, item.Payload, item.Text, item.A, item.B);
                    _encoder.Flush();
                    (chunk, length) = Frame(target, _buffer.GetBuffer(), (int)_buffer.Length - 8);
                }
                catch (Exception e) when (e is InvalidDataException or ArgumentException or NotSupportedException or System.Text.Json.JsonException)
                {
                    Fail(target, "malformed", e.Message);
                    return;
                }
                if (length > RecordingFile.MaxChunkBytes + 8 || target.Bytes + length > Options.MaxFileBytes)
                {
                    Fail(target, "file_size", $"the file would pass {Options.MaxFileBytes} bytes (Fusion:Recording:MaxFileBytes)");
                    return;
                }
                if (WriteChunk(target, chunk, length))
                {
                    target.Chunks++;
                    Interlocked.Increment(ref _records);
                    RecordsCounter.Add(1);
                    BytesCounter.Add(length);
                }
                return;
            case Op.Close:
                if (target!.Stream is not null) CloseFile(target);
                return;
        }
    }

    /// <summary>Closes the files of recordings dropped since the last look (nothing more will come for them).</summary>
    private void CloseDropped()
    {
        if (Interlocked.Exchange(ref _droppedOpen, 0) == 0) return;
        foreach (var t in _files.Where(t => t.Dropped).ToList()) CloseFile(t);
    }

    private byte[] _sealed = new byte[64 * 1024];

    /// <summary>The chunk of a record encoded at <paramref name="buffer"/>[8..]: framed there in the clear, else sealed into a buffer of the writer's.</summary>
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

    /// <summary><see cref="Io"/> for the one write of every record, without a closure.</summary>
    private bool WriteChunk(Target target, byte[] chunk, int length)
    {
        try
        {
            Write(target, chunk, length);
            return true;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            Fail(target, "io", e.Message);
            return false;
        }
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

    private void CloseFile(Target target)
    {
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
        _encoder.Dispose();
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

    /// <summary>What the writer's thread is handed: a record (encoded there), or an operation on a file or the writer.</summary>
    internal sealed class Item(Op op, Target? target)
    {
        public Op Op { get; } = op;
        public Target? Target { get; } = target;
        public RecordKind Kind { get; init; }
        public long WallUs { get; init; }
        public long MonoMs { get; init; }
        public object? Payload { get; init; }
        public string? Text { get; init; }
        public long A { get; init; }
        public long B { get; init; }

        /// <summary>Payload bytes, counted against <see cref="RecordingOptions.MaxQueuedBytes"/>.</summary>
        public long Bytes { get; init; }

        public ManualResetEventSlim? Done { get; init; }
        public IReadOnlyList<string>? Deleted { get; set; }
    }

    /// <summary>One recording file: shared by a session's actors (who read <see cref="Dropped"/>) and the writer's thread (the rest).</summary>
    internal sealed class Target(RecordingWriter writer, string sessionId, string path)
    {
        private int _dropped;

        public string SessionId { get; } = sessionId;
        public string Path { get; } = path;
        public bool Dropped => Volatile.Read(ref _dropped) != 0;

        // The writer's thread only.
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
    }
}
