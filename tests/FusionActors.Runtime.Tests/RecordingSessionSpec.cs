using System.Diagnostics;
using Akka.Actor;
using Akka.TestKit.Xunit2;
using FusionActors.Protocol;
using FusionActors.Protocol.Specs;
using FusionActors.Runtime.Recording;
using FusionActors.Runtime.Sessions;
using Xunit;
using static FusionActors.Runtime.Tests.TestSessions;

namespace FusionActors.Runtime.Tests;

/// <summary>Sessions recorded by their real actors and models: what is chosen, what the file holds, and a full disk.</summary>
public sealed class RecordingSessionSpec() : TestKit(LocalConfig), IDisposable
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(30);
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "fusion-recording-spec", Guid.NewGuid().ToString("N"));
    private string? _mounted;

    protected override void Dispose(bool disposing)
    {
        base.Dispose(disposing);
        if (_mounted is not null) Run("umount", _mounted);
        try { Directory.Delete(_dir, recursive: true); }
        catch (DirectoryNotFoundException) { }
    }

    private static bool Run(string file, string args)
    {
        try
        {
            using var p = Process.Start(new ProcessStartInfo(file, args) { RedirectStandardError = true, RedirectStandardOutput = true });
            p!.WaitForExit(30_000);
            return p.ExitCode == 0;
        }
        catch (System.ComponentModel.Win32Exception) { return false; }
    }

    private IActorRef Open(SessionSpec spec, RecordingWriter? recorder)
    {
        var session = Sys.ActorOf(SessionActor.Props(spec.SessionId, TestSessions.Encoders, FastBackoff, sharded: false, recorder: recorder));
        session.Tell(new OpenSession(spec, 0), TestActor);
        ExpectMsg<SessionOpened>(Wait);
        return session;
    }

    /// <summary>Plays <paramref name="windows"/> windows of the sample, closes both streams, returns every window's result.</summary>
    private List<FusedResult> Play(IActorRef session, string id, int windows)
    {
        var results = CreateTestProbe();
        session.Tell(new Subscribe(id, results.Ref), TestActor);
        ExpectMsg<Subscribed>(Wait);
        for (var w = 0; w < windows; w++)
        {
            foreach (var f in AudioFrames(id, w, Sample[w % Sample.Count], w * 50L)) session.Tell(f, TestActor);
            foreach (var f in CameraFrames(id, w, Sample[w % Sample.Count], w * 10L)) session.Tell(f, TestActor);
        }
        session.Tell(new CloseStream(id, Audio), TestActor);
        session.Tell(new CloseStream(id, Camera), TestActor);
        var got = new List<FusedResult>();
        while (got.Count < windows) got.Add((FusedResult)results.FishForMessage(m => m is FusedResult, Wait));
        return got;
    }

    private void Close(IActorRef session, string id)
    {
        Watch(session);
        session.Tell(new CloseSession(id), TestActor);
        ExpectMsg<SessionClosed>(Wait);
        ExpectTerminated(session, Wait);
    }

    [Fact]
    public void A_session_whose_spec_asks_is_recorded_with_its_frames_states_and_every_result()
    {
        using var recorder = new RecordingWriter(new RecordingOptions { Directory = _dir });
        var spec = Spec("s-rec") with { Record = true };
        var session = Open(spec, recorder);
        var live = Play(session, spec.SessionId, 4);
        Close(session, spec.SessionId);
        Assert.True(recorder.Flush(Wait));

        var read = RecordingReader.Read(Assert.Single(Directory.GetFiles(_dir)));
        Assert.True(read.Complete, read.StoppedBecause);
        Assert.Equal("s-rec", read.Header.SessionId);
        Assert.Equal(spec.Streams, Assert.IsType<RecordedSpec>(read.Records[0]).Spec.Streams);
        var frames = read.Records.OfType<RecordedFrame>().ToList();
        Assert.Equal(4 * 60, frames.Count);
        Assert.Equal(Enumerable.Range(0, 200).Select(i => (long)i), frames.Where(f => f.StreamId == Audio).Select(f => f.Seq));
        Assert.Equal(Sample[0].Image, frames.First(f => f.StreamId == Camera).Payload);
        Assert.Equal(2, read.Records.OfType<RecordedStreamClosed>().Count());
        Assert.Contains(read.Records.OfType<RecordedStreamState>(), s => s.To == StreamState.Finished);
        var results = read.Records.OfType<RecordedResult>().ToList();
        Assert.Equal(live.Select(r => (r.WindowStartUs, r.Revision, r.TopClass)), results.Select(r => (r.WindowStartUs, r.Revision, r.TopClass)));
        for (var i = 0; i < live.Count; i++)
        {
            Assert.Equal(live[i].Posterior, results[i].Posterior); // bit for bit
            Assert.Equal(live[i].Weights.OrderBy(kv => kv.Key), results[i].Weights.OrderBy(kv => kv.Key));
        }
        Assert.IsType<RecordedEnd>(read.Records[^1]);
        // Records are in the order their actors made them: wall clock readings never go back.
        Assert.True(read.Records.Zip(read.Records.Skip(1)).All(p => p.Second.WallUs >= p.First.WallUs - 50_000));
    }

    [Fact]
    public void The_configured_rule_chooses_sessions_and_an_operator_turns_recording_on_and_off()
    {
        using var recorder = new RecordingWriter(new RecordingOptions { Directory = _dir, Sessions = ["audit-*"] });
        var chosen = Open(Spec("audit-1"), recorder);
        var other = Open(Spec("plain-1"), recorder);
        Assert.True(recorder.Flush(Wait));
        Assert.Single(Directory.GetFiles(_dir), f => Path.GetFileName(f).StartsWith("audit-1-", StringComparison.Ordinal));
        Assert.DoesNotContain(Directory.GetFiles(_dir), f => Path.GetFileName(f).StartsWith("plain-1-", StringComparison.Ordinal));

        other.Tell(new SetRecording("plain-1", true), TestActor);
        Assert.Contains("records to", ExpectMsg<Status.Success>(Wait).Status!.ToString());
        foreach (var f in CameraFrames("plain-1", 0, Sample[0], 0, count: 3)) other.Tell(f, TestActor);
        // On and off take effect as each of the session's actors next records: the frames must have reached their stream.
        other.Tell(new GetSessionStatus("plain-1"), TestActor);
        ExpectMsg<SessionStatus>(Wait);
        other.Tell(new SetRecording("plain-1", false), TestActor);
        Assert.Contains("stopped recording", ExpectMsg<Status.Success>(Wait).Status!.ToString());
        other.Tell(new SetRecording("plain-1", false), TestActor);
        Assert.Contains("was not recording", ExpectMsg<Status.Success>(Wait).Status!.ToString());
        foreach (var f in CameraFrames("plain-1", 1, Sample[1], 10, count: 3)) other.Tell(f, TestActor); // not recorded
        other.Tell(new GetSessionStatus("plain-1"), TestActor);
        ExpectMsg<SessionStatus>(Wait); // the frames before are taken
        Assert.True(recorder.Flush(Wait));
        var file = Assert.Single(Directory.GetFiles(_dir), f => Path.GetFileName(f).StartsWith("plain-1-", StringComparison.Ordinal));
        var read = RecordingReader.Read(file);
        Assert.Equal(3, read.Records.OfType<RecordedFrame>().Count());
        Assert.Equal("turned off by an operator", Assert.IsType<RecordedEnd>(read.Records[^1]).Reason);

        // A node with no recording directory refuses, saying why.
        var unrecorded = Open(Spec("nowhere"), null);
        unrecorded.Tell(new SetRecording("nowhere", true), TestActor);
        Assert.Contains("Fusion:Recording:Directory", ExpectMsg<CommandRejected>(Wait).Reason);
        Close(chosen, "audit-1");
    }

    /// <summary>
    /// A 64 KiB tmpfs fills during the first seconds of a session: the recording is dropped once (logged, counted), the
    /// file keeps a readable prefix, and every window is still fused. Without the right to mount (not root), the same
    /// runs on a real file whose stream fails with ENOSPC's IOException past 64 KiB.
    /// </summary>
    [Fact]
    public void A_full_disk_drops_the_recording_and_fusion_carries_on()
    {
        var disk = Path.Combine(_dir, "disk");
        Directory.CreateDirectory(disk);
        Func<string, Stream>? open = null;
        if (Run("mount", $"-t tmpfs -o size=64k tmpfs {disk}")) _mounted = disk;
        else open = path => new FullAfter(new FileStream(path, FileMode.CreateNew, FileAccess.Write, FileShare.Read, 4096), 64 * 1024);
        var warnings = new List<string>();
        using var recorder = new RecordingWriter(new RecordingOptions { Directory = disk, Sessions = ["*"] }, m => { lock (warnings) warnings.Add(m); }, open);
        var session = Open(Spec("s-disk"), recorder);
        var results = Play(session, "s-disk", 6); // 6 x 60 frames, over 400 KB of payload
        Assert.Equal(Enumerable.Range(0, 6).Select(w => w * 1_000_000L), results.Select(r => r.WindowStartUs));
        Assert.All(results, r => Assert.Equal(FusedStatus.Fused, r.Status));
        Assert.True(recorder.Flush(Wait));
        Assert.Equal(1, recorder.Dropped);
        lock (warnings) Assert.Contains("(io)", Assert.Single(warnings));
        var read = RecordingReader.Read(Assert.Single(Directory.GetFiles(disk)));
        Assert.IsType<RecordedSpec>(read.Records[0]);
        Assert.InRange(read.Records.OfType<RecordedFrame>().Count(), 1, 6 * 60 - 1);
        Assert.True(read.BytesRead <= 64 * 1024);
        Close(session, "s-disk");
    }

    /// <summary>A real file that fails as a full disk does once it holds <paramref name="capacity"/> bytes.</summary>
    private sealed class FullAfter(FileStream inner, long capacity) : Stream
    {
        public override bool CanRead => false;
        public override bool CanSeek => false;
        public override bool CanWrite => true;
        public override long Length => inner.Length;
        public override long Position { get => inner.Position; set => throw new NotSupportedException(); }
        public override void Flush() => inner.Flush();
        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count)
        {
            var room = (int)Math.Max(0, capacity - inner.Position);
            inner.Write(buffer, offset, Math.Min(room, count));
            if (count > room) throw new IOException("No space left on device");
        }

        protected override void Dispose(bool disposing)
        {
            if (disposing) inner.Dispose();
            base.Dispose(disposing);
        }
    }
}
