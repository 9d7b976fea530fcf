using FusionActors.Scenarios.Hostile;
using Xunit;
using Xunit.Abstractions;

namespace FusionActors.Cluster.Tests;

/// <summary>
/// A node process under a stream of bad frames (every kind the peer knows, about 2,000 a second), frames in another
/// session's name without its capability, and raw TCP connections of random bytes, while an honest sensor app plays an
/// AV-Digits session through the client library beside it. Every bad frame gets a typed rejection; the honest session
/// loses no frame and no window. The memory figures are printed, not asserted: `hostile-soak` is the measurement.
/// </summary>
public sealed class HostileSoakSpec(ITestOutputHelper output)
{
    [Fact]
    public async Task Bad_frames_from_a_raw_peer_are_each_refused_typed_and_an_honest_session_beside_them_loses_nothing()
    {
        var logs = Path.Combine(Path.GetTempPath(), $"fusion-hostile-spec-{Guid.NewGuid():N}");
        var summary = await HostileSoak.RunAsync(new HostileSoak.Options { Minutes = 0.75, LogDir = logs, Progress = output.WriteLine },
            CancellationToken.None);
        output.WriteLine(summary.ToJson());

        Assert.True(summary.NodeAlive, $"the node died; logs in {logs}");
        Assert.True(summary.BadFramesSent > 10_000, $"only {summary.BadFramesSent} bad frames were sent");
        // Every kind of bad frame is answered with a typed reason (a far-past frame is accepted as late and not answered).
        foreach (var reason in new[] { "NotFinite", "WrongPayloadSize", "UnknownStream", "OutOfRange", "Duplicate", "SeqOutOfRange", "TooFarInFuture" })
            Assert.True(summary.Answers.GetValueOrDefault($"FrameRejected:{reason}") > 0, $"no FrameRejected {reason}");
        var sinkKinds = RawPeer.SinkKinds.Where(k => k != "far-past").Sum(k => summary.Sent[k]);
        Assert.True(summary.TypedRejections >= sinkKinds, $"{summary.TypedRejections} typed rejections for {sinkKinds} refusable bad frames");
        // Frames in the probe's name without its capability are refused, and the probe is untouched by them.
        Assert.True(summary.Answers.GetValueOrDefault("FrameRejected:Unauthorized") > 0, "no Unauthorized rejection");
        Assert.Equal(summary.ProbeFramesPushed, summary.ProbeFramesCommitted);
        Assert.Equal(summary.ProbeWindowsExpected, summary.ProbeWindowsFused);
        Assert.True(summary.ProbeWindowsExpected >= 20, $"the probe played only {summary.ProbeWindowsExpected} windows");
        Directory.Delete(logs, recursive: true);
    }
}
