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
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "s6-recording-spec", Guid.NewGuid().ToString("N"));

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

    /// <summary>One recording with every kind of record; returns its path.</summary>
    private static string WriteAll(RecordingWriter writer, ManualClock clock, string session = "s-file")
    {
        var recording = writer.For(session, TimeSources.Manual(clock));
        var path = recording.Begin(Spec(session) with { Record = true }, -42);
        clock.Advance(1000);
        recording.Frame(new Frame(session, Audio, 7, 123_456, [1.5f, -2f, float.Epsilon]));
        recording.Heartbeat(Camera, 99_000);
        recording.Clock(ClockSource.IdleCheck, Camera);
        recording.Clock(ClockSource.AlignmentTick);
        recording.StateChanged(Camera, StreamState.Active, StreamState.Idle, "silent for 2 s");
        recording.Result(Result(session));
        recording.Offset(-40);
        recording.Policy(FusionPolicy.Single("audio"));
        recording.Operator(new DropFrames(session, Camera, TimeSpan.FromSeconds(3)));
        recording.Operator(new SetFusionPolicy(session, FusionPolicy.Fixed)); // not a stream command: not recorded
        recording.StreamClosed(Audio);
        recording.End("done");
        Assert.True(writer.Flush(Wait));
        return path;
    }

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

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void A_tampered_chunk_ends_the_readable_prefix_there(bool encrypted)
    {
        var keys = new Dictionary<string, string> { ["k1"] = Key() };
        using var writer = new RecordingWriter(encrypted ? Options("k1", keys) : Options());
        var path = WriteAll(writer, new ManualClock(1_700_000_000_000_000));
        var reader = RecordingKeys.From(keys, null);
        var original = File.ReadAllBytes(path);
        var header = RecordingReader.Read(path, reader).Header.Length;
        var chunks = Chunks(original, header);
        Assert.Equal(12, chunks.Count);

        // A flipped bit in the body of chunk 5.
        var flipped = (byte[])original.Clone();
        flipped[chunks[5].Offset + 8 + chunks[5].Length / 2 - 4] ^= 0x10;
        File.WriteAllBytes(path, flipped);
        var read = RecordingReader.Read(path, reader);
        Assert.Equal(5, read.Records.Count);
        Assert.Equal(chunks[5].Offset, read.BytesRead);
        Assert.Contains("chunk 5", read.StoppedBecause);

        // A body changed and its CRC fixed: only the encrypted file notices (authentication); a plain one's CRC is no seal.
        if (encrypted)
        {
            var forged = (byte[])original.Clone();
            var body = forged.AsSpan(chunks[5].Offset + 8, chunks[5].Length - 8);
            body[^1] ^= 0x01;
            BinaryPrimitives.WriteUInt32LittleEndian(forged.AsSpan(chunks[5].Offset + 4), System.IO.Hashing.Crc32.HashToUInt32(body));
            File.WriteAllBytes(path, forged);
            read = RecordingReader.Read(path, reader);
            Assert.Equal(5, read.Records.Count);
            Assert.Contains("authentication", read.StoppedBecause);

            // Two whole chunks swapped (each with a good CRC): their indexes are sealed in, so the first moved one stops it.
            var swapped = new List<byte>(original.AsSpan(0, chunks[3].Offset).ToArray());
            swapped.AddRange(original.AsSpan(chunks[4].Offset, chunks[4].Length).ToArray());
            swapped.AddRange(original.AsSpan(chunks[3].Offset, chunks[3].Length).ToArray());
            swapped.AddRange(original.AsSpan(chunks[5].Offset).ToArray());
            File.WriteAllBytes(path, swapped.ToArray());
            read = RecordingReader.Read(path, reader);
            Assert.Equal(3, read.Records.Count);
            Assert.Contains("chunk 3 fails authentication", read.StoppedBecause);
        }
    }

    [Fact]
    public void A_torn_file_reads_its_whole_chunks_and_says_where_it_stopped()
    {
        using var writer = new RecordingWriter(Options());
        var path = WriteAll(writer, new ManualClock(1_700_000_000_000_000));
        var original = File.ReadAllBytes(path);
        var header = RecordingReader.Read(path).Header.Length;
        var chunks = Chunks(original, header);
        foreach (var cut in new[] { chunks[2].Offset + 3, chunks[6].Offset + 20, chunks[10].Offset, original.Length - 1 })
        {
            File.WriteAllBytes(path, original[..cut]);
            var read = RecordingReader.Read(path);
            var whole = chunks.Count(c => c.Offset + c.Length <= cut);
            Assert.Equal(whole, read.Records.Count);
            Assert.Equal(whole == 0 ? header : chunks[whole - 1].Offset + chunks[whole - 1].Length, read.BytesRead);
            if (cut == chunks[10].Offset) Assert.True(read.Complete); // ends between chunks: a clean prefix
            else Assert.Contains("truncated", read.StoppedBecause);
        }
        File.WriteAllBytes(path, original[..(header - 1)]);
        Assert.Throws<RecordingFormatException>(() => RecordingReader.Read(path));
        File.WriteAllBytes(path, "not a recording at all"u8.ToArray());
        Assert.Throws<RecordingFormatException>(() => RecordingReader.Read(path));
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
