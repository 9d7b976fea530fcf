using System.Buffers.Binary;
using System.Security.Cryptography;
using FusionActors.Core.Time;
using FusionActors.Protocol;
using FusionActors.Protocol.Specs;
using FusionActors.Runtime.Recording;
using Xunit;
using static FusionActors.Runtime.Tests.TestSessions;

namespace FusionActors.Runtime.Tests;

/// <summary>The recording file: every record kind back as written, torn and tampered files, encryption, keys, retention.</summary>
public sealed class RecordingFileSpec : IDisposable
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(30);
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "fusion-recording-spec", Guid.NewGuid().ToString("N"));

    public void Dispose()
    {
        try { Directory.Delete(_dir, recursive: true); }
        catch (DirectoryNotFoundException) { }
    }

    private static string Key() => Convert.ToBase64String(RandomNumberGenerator.GetBytes(32));

    private RecordingOptions Options(string? keyId = null, Dictionary<string, string>? keys = null) =>
        new() { Directory = _dir, KeyId = keyId, Keys = keys ?? new Dictionary<string, string>() };

    private static FusedResult Result(string session) => new(session, 1_000_000, 2_000_000, 3, FusedStatus.Fused, [0.25, 0.75], 1, "one", 0.75, 0.56,
        new Dictionary<string, double> { ["image"] = 0.4, ["audio"] = 0.6 }, ["lidar"], ["radar"], [1f, 2f], new Dictionary<string, StreamState>(), 1234, "adaptive")
    {
        Uncertain = true,
    };

    /// <summary>
    /// One recording with every kind of record; returns its path. The writer gathers records into chunks; a flush after
    /// record i (of <paramref name="cuts"/>) ends a chunk there, so the file's chunks are known.
    /// </summary>
    private static string WriteAll(RecordingWriter writer, ManualClock clock, string session = "s-file", Func<int, bool>? cuts = null)
    {
        var recording = writer.For(session, TimeSources.Manual(clock));
        var made = 0;
        void Cut()
        {
            if (cuts?.Invoke(made++) == true) Assert.True(writer.Flush(Wait));
        }
        var path = recording.Begin(Spec(session) with { Record = true }, -42);
        Cut();
        clock.Advance(1000);
        recording.Frame(new Frame(session, Audio, 7, 123_456, [1.5f, -2f, float.Epsilon]));
        Cut();
        recording.Heartbeat(Camera, 99_000);
        Cut();
        recording.Clock(ClockSource.IdleCheck, Camera);
        Cut();
        recording.Clock(ClockSource.AlignmentTick);
        Cut();
        recording.StateChanged(Camera, StreamState.Active, StreamState.Idle, "silent for 2 s");
        Cut();
        recording.Result(Result(session));
        Cut();
        recording.Offset(-40);
        Cut();
        recording.Policy(FusionPolicy.Single("audio"));
        Cut();
        recording.Operator(new DropFrames(session, Camera, TimeSpan.FromSeconds(3)));
        Cut();
        recording.Operator(new SetFusionPolicy(session, FusionPolicy.Fixed)); // not a stream command: not recorded
        recording.StreamClosed(Audio);
        Cut();
        recording.End("done");
        Assert.True(writer.Flush(Wait));
        return path;
    }

    /// <summary>Chunks of one record each.</summary>
    private static bool EachRecord(int _) => true;

    /// <summary>Chunks of three records: 0-2, 3-5, 6-8, 9-11.</summary>
    private static bool ByThree(int i) => i % 3 == 2;

    private static void AssertAll(RecordingContents read, string session = "s-file")
    {
        Assert.True(read.Complete, read.StoppedBecause);
        Assert.Equal(session, read.Header.SessionId);
        Assert.Equal(read.FileBytes, read.BytesRead);
        var r = read.Records;
        Assert.Equal(12, r.Count);
        var spec = Assert.IsType<RecordedSpec>(r[0]);
        Assert.Equal(-42, spec.ClockOffsetUs);
        Assert.True(spec.Spec.Record);
        Assert.Equal(Spec(session).Streams, spec.Spec.Streams);
        Assert.Equal(Spec(session).Window, spec.Spec.Window);
        var frame = Assert.IsType<RecordedFrame>(r[1]);
        Assert.Equal((Audio, 7L, 123_456L), (frame.StreamId, frame.Seq, frame.EventTimeUs));
        Assert.Equal([1.5f, -2f, float.Epsilon], frame.Payload);
        Assert.Equal(spec.WallUs + 1000, frame.WallUs);
        Assert.Equal(frame.WallUs / 1000, frame.MonoMs);
        Assert.Equal((Camera, 99_000L), (Assert.IsType<RecordedHeartbeat>(r[2]).StreamId, ((RecordedHeartbeat)r[2]).WatermarkUs));
        Assert.Equal((ClockSource.IdleCheck, Camera), (Assert.IsType<RecordedClock>(r[3]).Source, ((RecordedClock)r[3]).StreamId));
        Assert.Equal((ClockSource.AlignmentTick, (string?)null), (Assert.IsType<RecordedClock>(r[4]).Source, ((RecordedClock)r[4]).StreamId));
        var state = Assert.IsType<RecordedStreamState>(r[5]);
        Assert.Equal((Camera, StreamState.Active, StreamState.Idle, "silent for 2 s"), (state.StreamId, state.From, state.To, state.Reason));
        var result = Assert.IsType<RecordedResult>(r[6]);
        var live = Result(session);
        Assert.Equal((live.WindowStartUs, live.WindowEndUs, live.Revision, live.Status, live.TopClass, live.TopLabel),
            (result.WindowStartUs, result.WindowEndUs, result.Revision, result.Status, result.TopClass, result.TopLabel));
        Assert.Equal((live.Confidence, live.Entropy, live.WatermarkLagUs, live.Policy, live.Uncertain),
            (result.Confidence, result.Entropy, result.WatermarkLagUs, result.Policy, result.Uncertain));
        Assert.Equal(live.Posterior, result.Posterior);
        Assert.Equal(live.Weights.OrderBy(kv => kv.Key), result.Weights.OrderBy(kv => kv.Key));
        Assert.Equal(live.Missing, result.Missing);
        Assert.Equal(live.Imputed, result.Imputed);
        Assert.Equal(-40, Assert.IsType<RecordedOffset>(r[7]).OffsetUs);
        Assert.Equal(FusionPolicy.Single("audio"), Assert.IsType<RecordedPolicy>(r[8]).Policy);
        var drill = Assert.IsType<RecordedOperator>(r[9]);
        Assert.Equal(new DropFrames(session, Camera, TimeSpan.FromSeconds(3)), drill.ToMessage(session));
        Assert.Equal(Audio, Assert.IsType<RecordedStreamClosed>(r[10]).StreamId);
        Assert.Equal("done", Assert.IsType<RecordedEnd>(r[11]).Reason);
    }

    [Fact]
    public void Every_record_kind_reads_back_as_written_in_the_clear_and_encrypted()
    {
        using (var plain = new RecordingWriter(Options()))
        {
            var plainPath = WriteAll(plain, new ManualClock(1_700_000_000_000_000));
            if (!OperatingSystem.IsWindows())
            {
                Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(plainPath)); // the node's user alone
                Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute, File.GetUnixFileMode(_dir));
            }
            var read = RecordingReader.Read(plainPath);
            Assert.False(read.Header.Encrypted);
            AssertAll(read);
        }
        var keys = new Dictionary<string, string> { ["k1"] = Key() };
        using var sealedWriter = new RecordingWriter(Options("k1", keys));
        var path = WriteAll(sealedWriter, new ManualClock(1_700_000_000_000_000));
        var encrypted = RecordingReader.Read(path, RecordingKeys.From(keys, null));
        Assert.Equal("k1", encrypted.Header.KeyId);
        AssertAll(encrypted);
    }

    [Fact]
    public void An_encrypted_recording_is_unreadable_without_its_key_and_holds_no_plaintext()
    {
        var keys = new Dictionary<string, string> { ["k1"] = Key() };
        using var writer = new RecordingWriter(Options("k1", keys));
        var path = WriteAll(writer, new ManualClock(1_700_000_000_000_000));
        var e = Assert.Throws<RecordingFormatException>(() => RecordingReader.Read(path));
        Assert.Contains("key 'k1'", e.Message);
        Assert.Throws<RecordingFormatException>(() => RecordingReader.Read(path, RecordingKeys.From(new Dictionary<string, string> { ["k2"] = Key() }, null)));
        // The same id with another key: every chunk fails authentication, nothing is read.
        var wrong = RecordingReader.Read(path, RecordingKeys.From(new Dictionary<string, string> { ["k1"] = Key() }, null));
        Assert.Empty(wrong.Records);
        Assert.Contains("authentication", wrong.StoppedBecause);
        var bytes = File.ReadAllBytes(path);
        foreach (var plaintext in new[] { "audio-digits"u8.ToArray(), "silent for 2 s"u8.ToArray(), BitConverter.GetBytes(123_456L) })
            Assert.Equal(-1, bytes.AsSpan().IndexOf(plaintext));
    }

    /// <summary>The chunks of a file after its header: (offset, total length).</summary>
    private static List<(int Offset, int Length)> Chunks(byte[] file, int headerLength)
    {
        var chunks = new List<(int, int)>();
        for (var at = headerLength; at < file.Length;)
        {
            var length = 8 + (int)BinaryPrimitives.ReadUInt32LittleEndian(file.AsSpan(at));
            chunks.Add((at, length));
            at += length;
        }
        return chunks;
    }

    [Fact]
    public void Records_are_gathered_into_chunks_and_a_chunk_is_sealed_once()
    {
        var keys = new Dictionary<string, string> { ["k1"] = Key() };
        foreach (var encrypted in new[] { false, true })
        {
            using var writer = new RecordingWriter(encrypted ? Options("k1", keys) : Options());
            var path = WriteAll(writer, new ManualClock(1_700_000_000_000_000), cuts: ByThree);
            var read = RecordingReader.Read(path, RecordingKeys.From(keys, null));
            Assert.Equal(RecordingFile.Version, read.Header.Version);
            AssertAll(read);
            var chunks = Chunks(File.ReadAllBytes(path), read.Header.Length);
            Assert.Equal(4, chunks.Count); // 12 records: one CRC (and one seal) per 3
            // Each record in the clear takes its u32 length; sealed, a chunk adds its nonce and tag once.
            var overhead = encrypted ? RecordingFile.NonceBytes + RecordingFile.TagBytes : 0;
            Assert.All(chunks, c => Assert.True(c.Length - 8 - overhead > 3 * (4 + 17)));
        }
    }

    /// <summary>(encrypted, batched): a chunk per record, or per three records.</summary>
    public static TheoryData<bool, bool> Layouts => new() { { false, false }, { true, false }, { false, true }, { true, true } };

    [Theory]
    [MemberData(nameof(Layouts))]
    public void A_tampered_chunk_ends_the_readable_prefix_there(bool encrypted, bool batched)
    {
        var keys = new Dictionary<string, string> { ["k1"] = Key() };
        using var writer = new RecordingWriter(encrypted ? Options("k1", keys) : Options());
        var per = batched ? 3 : 1;
        var path = WriteAll(writer, new ManualClock(1_700_000_000_000_000), cuts: batched ? ByThree : EachRecord);
        var reader = RecordingKeys.From(keys, null);
        var original = File.ReadAllBytes(path);
        var header = RecordingReader.Read(path, reader).Header.Length;
        var chunks = Chunks(original, header);
        Assert.Equal(12 / per, chunks.Count);
        var k = batched ? 2 : 5;

        // A flipped bit in the body of chunk k: all of its records are lost, none before it.
        var flipped = (byte[])original.Clone();
        flipped[chunks[k].Offset + 8 + chunks[k].Length / 2 - 4] ^= 0x10;
        File.WriteAllBytes(path, flipped);
        var read = RecordingReader.Read(path, reader);
        Assert.Equal(k * per, read.Records.Count);
        Assert.Equal(chunks[k].Offset, read.BytesRead);
        Assert.Contains($"chunk {k}", read.StoppedBecause);

        // A body changed and its CRC fixed: only the encrypted file notices (authentication); a plain one's CRC is no seal.
        if (encrypted)
        {
            var forged = (byte[])original.Clone();
            var body = forged.AsSpan(chunks[k].Offset + 8, chunks[k].Length - 8);
            body[^1] ^= 0x01;
            BinaryPrimitives.WriteUInt32LittleEndian(forged.AsSpan(chunks[k].Offset + 4), System.IO.Hashing.Crc32.HashToUInt32(body));
            File.WriteAllBytes(path, forged);
            read = RecordingReader.Read(path, reader);
            Assert.Equal(k * per, read.Records.Count);
            Assert.Contains("authentication", read.StoppedBecause);

            // Two whole chunks swapped (each with a good CRC): their indexes are sealed in, so the first moved one stops it.
            var swapped = new List<byte>(original.AsSpan(0, chunks[1].Offset).ToArray());
            swapped.AddRange(original.AsSpan(chunks[2].Offset, chunks[2].Length).ToArray());
            swapped.AddRange(original.AsSpan(chunks[1].Offset, chunks[1].Length).ToArray());
            swapped.AddRange(original.AsSpan(chunks[3].Offset).ToArray());
            File.WriteAllBytes(path, swapped.ToArray());
            read = RecordingReader.Read(path, reader);
            Assert.Equal(per, read.Records.Count);
            Assert.Contains("chunk 1 fails authentication", read.StoppedBecause);

            // The last chunk left out: the file reads as a clean shorter prefix (a torn end), never as something else.
            File.WriteAllBytes(path, original[..chunks[^1].Offset]);
            read = RecordingReader.Read(path, reader);
            Assert.Equal(12 - per, read.Records.Count);
        }
        else
        {
            // In the clear, a record whose length points past its chunk (the CRC fixed to match) is malformed: the chunk is
            // read all or none, so the records before it in the same chunk are not reported either.
            var bad = (byte[])original.Clone();
            var at = chunks[k].Offset + 8;
            var second = at + 4 + (int)BinaryPrimitives.ReadUInt32LittleEndian(bad.AsSpan(at));
            BinaryPrimitives.WriteUInt32LittleEndian(bad.AsSpan(batched ? second : at), 1_000_000);
            var body = bad.AsSpan(at, chunks[k].Length - 8);
            BinaryPrimitives.WriteUInt32LittleEndian(bad.AsSpan(chunks[k].Offset + 4), System.IO.Hashing.Crc32.HashToUInt32(body));
            File.WriteAllBytes(path, bad);
            read = RecordingReader.Read(path, reader);
            Assert.Equal(k * per, read.Records.Count);
            Assert.Contains($"chunk {k} is malformed", read.StoppedBecause);
        }
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void A_torn_file_reads_its_whole_chunks_and_says_where_it_stopped(bool batched)
    {
        using var writer = new RecordingWriter(Options());
        var per = batched ? 3 : 1;
        var path = WriteAll(writer, new ManualClock(1_700_000_000_000_000), cuts: batched ? ByThree : EachRecord);
        var original = File.ReadAllBytes(path);
        var header = RecordingReader.Read(path).Header.Length;
        var chunks = Chunks(original, header);
        Assert.Equal(12 / per, chunks.Count);
        var clean = chunks[^2].Offset;
        foreach (var cut in new[] { chunks[1].Offset + 3, chunks[2].Offset + 20, clean, original.Length - 1 })
        {
            File.WriteAllBytes(path, original[..cut]);
            var read = RecordingReader.Read(path);
            var whole = chunks.Count(c => c.Offset + c.Length <= cut);
            Assert.Equal(whole * per, read.Records.Count);
            Assert.Equal(whole == 0 ? header : chunks[whole - 1].Offset + chunks[whole - 1].Length, read.BytesRead);
            if (cut == clean) Assert.True(read.Complete); // ends between chunks: a clean prefix
            else Assert.Contains("truncated", read.StoppedBecause);
        }
        File.WriteAllBytes(path, original[..(header - 1)]);
        Assert.Throws<RecordingFormatException>(() => RecordingReader.Read(path));
        File.WriteAllBytes(path, "not a recording at all"u8.ToArray());
        Assert.Throws<RecordingFormatException>(() => RecordingReader.Read(path));
    }

    [Fact]
    public void Records_from_several_threads_at_once_all_arrive_each_threads_in_its_order()
    {
        using var writer = new RecordingWriter(Options());
        var recording = writer.For("s-threads", TimeSources.System);
        var path = recording.Begin(Spec("s-threads"), 0);
        const int threads = 4, frames = 5000;
        var start = new Barrier(threads);
        var workers = Enumerable.Range(0, threads).Select(t => new Thread(() =>
        {
            start.SignalAndWait();
            for (var i = 0; i < frames; i++)
            {
                recording.Frame(new Frame("s-threads", $"stream-{t}", i, i * 1000L, new float[t + 1]));
                if (i % 1000 == 999) recording.Clock(ClockSource.IdleCheck, $"stream-{t}");
            }
        })).ToList();
        workers.ForEach(w => w.Start());
        workers.ForEach(w => w.Join());
        recording.End("done");
        Assert.True(writer.Flush(Wait));
        var read = RecordingReader.Read(path);
        Assert.True(read.Complete, read.StoppedBecause);
        Assert.Equal(2 + threads * (frames + frames / 1000), read.Records.Count);
        Assert.Equal(threads * (frames + frames / 1000) + 2, writer.Records);
        for (var t = 0; t < threads; t++)
        {
            var mine = read.Records.OfType<RecordedFrame>().Where(f => f.StreamId == $"stream-{t}").ToList();
            Assert.Equal(Enumerable.Range(0, frames).Select(i => (long)i), mine.Select(f => f.Seq));
            Assert.All(mine, f => Assert.Equal(t + 1, f.Payload.Length));
        }
        // Gathered: far fewer chunks than records, each at most the chunk target.
        var chunks = Chunks(File.ReadAllBytes(path), read.Header.Length);
        Assert.InRange(chunks.Count, 2, read.Records.Count / 20);
        Assert.All(chunks, c => Assert.True(c.Length - 8 <= RecordingFile.ChunkTargetBytes));
    }

    [Fact]
    public void A_file_of_the_first_version_one_record_per_chunk_still_reads()
    {
        using var writer = new RecordingWriter(Options());
        var path = WriteAll(writer, new ManualClock(1_700_000_000_000_000), cuts: EachRecord);
        var v2 = File.ReadAllBytes(path);
        var header = RecordingReader.Read(path).Header.Length;
        // Version 1: the header says 1, and a chunk's body is its one record without the record's length.
        var v1 = new List<byte>(v2[..header]);
        BinaryPrimitives.WriteUInt16LittleEndian(System.Runtime.InteropServices.CollectionsMarshal.AsSpan(v1)[8..], RecordingFile.VersionOneRecordPerChunk);
        BinaryPrimitives.WriteUInt32LittleEndian(System.Runtime.InteropServices.CollectionsMarshal.AsSpan(v1)[(header - 4)..],
            System.IO.Hashing.Crc32.HashToUInt32(System.Runtime.InteropServices.CollectionsMarshal.AsSpan(v1)[..(header - 4)]));
        foreach (var (offset, length) in Chunks(v2, header))
        {
            var record = v2.AsSpan(offset + 12, length - 12);
            var prefix = new byte[8];
            BinaryPrimitives.WriteUInt32LittleEndian(prefix, (uint)record.Length);
            BinaryPrimitives.WriteUInt32LittleEndian(prefix.AsSpan(4), System.IO.Hashing.Crc32.HashToUInt32(record));
            v1.AddRange(prefix);
            v1.AddRange(record.ToArray());
        }
        File.WriteAllBytes(path, v1.ToArray());
        var read = RecordingReader.Read(path);
        Assert.Equal(RecordingFile.VersionOneRecordPerChunk, read.Header.Version);
        AssertAll(read);
        // A version this reader does not know is refused as such.
        BinaryPrimitives.WriteUInt16LittleEndian(System.Runtime.InteropServices.CollectionsMarshal.AsSpan(v1)[8..], 3);
        File.WriteAllBytes(path, v1.ToArray());
        Assert.Contains("version 3", Assert.Throws<RecordingFormatException>(() => RecordingReader.Read(path)).Message);
    }

    [Fact]
    public void A_rotated_key_writes_new_files_and_the_old_key_still_reads_old_ones()
    {
        var k1 = Key();
        var k2 = Key();
        string before, after;
        using (var w = new RecordingWriter(Options("k1", new() { ["k1"] = k1 })))
            before = WriteAll(w, new ManualClock(1_700_000_000_000_000), "s-before");
        using (var w = new RecordingWriter(Options("k2", new() { ["k1"] = k1, ["k2"] = k2 })))
            after = WriteAll(w, new ManualClock(1_700_000_000_000_000), "s-after");
        var both = RecordingKeys.From(new Dictionary<string, string> { ["k1"] = k1, ["k2"] = k2 }, "k2");
        Assert.Equal("k1", RecordingReader.Read(before, both).Header.KeyId);
        AssertAll(RecordingReader.Read(before, both), "s-before");
        Assert.Equal("k2", RecordingReader.Read(after, both).Header.KeyId);
        AssertAll(RecordingReader.Read(after, both), "s-after");
        // Once k1 is retired, the files written with it are unreadable: retention should have removed them first.
        Assert.Throws<RecordingFormatException>(() => RecordingReader.Read(before, RecordingKeys.From(new Dictionary<string, string> { ["k2"] = k2 }, null)));
    }

    [Theory]
    [InlineData("k1", "c2hvcnQ=", "is 5 bytes")]
    [InlineData("k1", "not base64!", "not base64")]
    [InlineData("k/1", null, "must be 1 to 64")]
    public void A_malformed_key_is_refused_by_name_without_showing_it(string id, string? key, string expected)
    {
        var options = Options("k1", new() { [id] = key ?? Key() });
        var problem = Assert.Single(options.Problems());
        Assert.Contains(expected, problem);
        if (key is not null) Assert.DoesNotContain(key, problem);
        Assert.Throws<FormatException>(() => new RecordingWriter(options));
        Assert.Contains("not among the keys", Assert.Single(Options("k9", new() { ["k1"] = Key() }).Problems()));
    }

    [Fact]
    public void Retention_deletes_expired_recordings_then_the_oldest_until_the_rest_fit()
    {
        Directory.CreateDirectory(_dir);
        var now = new DateTime(2026, 6, 1, 12, 0, 0, DateTimeKind.Utc);
        string Make(string name, int bytes, TimeSpan age)
        {
            var path = Path.Combine(_dir, name + RecordingFile.Extension);
            File.WriteAllBytes(path, new byte[bytes]);
            File.SetLastWriteTimeUtc(path, now - age);
            return path;
        }
        var expired = Make("expired", 10, TimeSpan.FromDays(8));
        var oldest = Make("oldest", 400, TimeSpan.FromDays(3));
        var older = Make("older", 400, TimeSpan.FromDays(2));
        var open = Make("open", 400, TimeSpan.FromDays(1.5));
        var newest = Make("newest", 400, TimeSpan.FromDays(1));
        var other = Path.Combine(_dir, "notes.txt");
        File.WriteAllText(other, "not a recording");
        File.SetLastWriteTimeUtc(other, now - TimeSpan.FromDays(30));

        var deleted = RecordingRetention.Enforce(_dir, TimeSpan.FromDays(7), 1000, now, new HashSet<string> { open });
        // 1610 bytes: the expired one goes by age, the oldest two by size (open is kept though older than newest).
        Assert.Equal([expired, oldest, older], deleted);
        Assert.True(File.Exists(open));
        Assert.True(File.Exists(newest));
        Assert.True(File.Exists(other));
        Assert.Empty(RecordingRetention.Enforce(_dir, TimeSpan.FromDays(7), 1000, now, new HashSet<string> { open }));
    }

    [Fact]
    public void The_writer_enforces_retention_on_its_schedule_and_never_deletes_a_recording_it_is_writing()
    {
        Directory.CreateDirectory(_dir);
        var stale = Path.Combine(_dir, "stale" + RecordingFile.Extension);
        File.WriteAllBytes(stale, new byte[100]);
        File.SetLastWriteTimeUtc(stale, DateTime.UtcNow - TimeSpan.FromDays(2));
        using var writer = new RecordingWriter(Options() with { MaxAge = TimeSpan.FromDays(1), RetentionInterval = TimeSpan.FromMilliseconds(200) });
        var recording = writer.For("s-live", TimeSources.System);
        var live = recording.Begin(Spec("s-live"), 0);
        Assert.True(writer.Flush(Wait));
        File.SetLastWriteTimeUtc(live, DateTime.UtcNow - TimeSpan.FromDays(2)); // as old as the stale one, but open
        var deadline = DateTime.UtcNow + Wait;
        while (writer.Deleted < 1 && DateTime.UtcNow < deadline) Thread.Sleep(50);
        Assert.False(File.Exists(stale));
        Assert.True(writer.Deleted >= 1);
        Assert.True(File.Exists(live));
        recording.Frame(new Frame("s-live", Audio, 0, 0, [1f]));
        recording.End("done");
        Assert.True(writer.Flush(Wait));
        Assert.Equal(3, RecordingReader.Read(live).Records.Count);
    }

    [Fact]
    public void A_full_queue_drops_the_recording_once_counts_it_and_never_blocks_the_caller()
    {
        var warnings = new List<string>();
        using var writer = new RecordingWriter(Options() with { MaxQueuedBytes = 1000 }, m => { lock (warnings) warnings.Add(m); });
        var recording = writer.For("s-full", TimeSources.System);
        var path = recording.Begin(Spec("s-full"), 0);
        Assert.True(writer.Flush(Wait));
        for (var i = 0; i < 100; i++) recording.Frame(new Frame("s-full", Audio, i, i * 20_000, new float[320])); // 1,344 bytes each: over the cap
        Assert.False(recording.IsOn);
        Assert.Equal(1, writer.Dropped);
        Assert.True(writer.Flush(Wait));
        lock (warnings) Assert.Contains("queue_full", Assert.Single(warnings));
        var read = RecordingReader.Read(path);
        Assert.IsType<RecordedSpec>(Assert.Single(read.Records));
        // Its file is closed: nothing holds it open for writing any more.
        using (new FileStream(path, FileMode.Open, FileAccess.ReadWrite, FileShare.None)) { }
        // Another session's recording is not affected.
        var other = writer.For("s-other", TimeSources.System);
        var otherPath = other.Begin(Spec("s-other"), 0);
        other.Frame(new Frame("s-other", Camera, 0, 0, new float[64]));
        other.End("done");
        Assert.True(writer.Flush(Wait));
        Assert.Equal(3, RecordingReader.Read(otherPath).Records.Count);
    }
}
