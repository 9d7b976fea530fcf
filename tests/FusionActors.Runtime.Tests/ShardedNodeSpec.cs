using Akka.Actor;
using Xunit;
using FusionActors.Core.Streams;
using FusionActors.Protocol;
using FusionActors.Runtime.Alignment;
using FusionActors.Runtime.Fusion;
using FusionActors.Runtime.Gateway;
using FusionActors.Runtime.Hosting;
using FusionActors.Runtime.Sessions;
using FusionActors.Runtime.Streams;
using static FusionActors.Runtime.Tests.TestSessions;

namespace FusionActors.Runtime.Tests;

/// <summary>
/// A real node, as the server starts it: generic host, remoting on loopback, a one-node cluster, sessions
/// as sharding entities. Proves the one-node server is the cluster code path.
/// </summary>
public sealed class ShardedNodeSpec : IAsyncLifetime
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(20);
    private FusionNode _node = null!;

    public async Task InitializeAsync() => _node = await FusionNode.StartAsync(FusionOptions.Load());

    public async Task DisposeAsync() => await _node.DisposeAsync();

    [Fact]
    public async Task Messages_with_no_session_id_or_no_spec_are_dropped_by_the_region_and_the_node_keeps_serving()
    {
        _node.Sessions.Tell(new OpenSession(null!, 0));
        _node.Sessions.Tell(new CloseSession(""));
        _node.Sessions.Tell(new Frame(null!, Audio, 0, 0, new float[320]));
        Assert.IsType<SessionOpened>(await _node.Sessions.Ask<object>(new OpenSession(Spec("after-nulls"), 0), Wait));
    }

    [Fact]
    public async Task A_session_opened_through_the_shard_region_fuses_frames_sent_through_it()
    {
        var (subscriber, reader) = ChannelSubscriber.Create(_node.System);
        var opened = await _node.Sessions.Ask<object>(new OpenSession(Spec("node-1"), 0), Wait);
        Assert.IsType<SessionOpened>(opened);
        await _node.Sessions.Ask<Subscribed>(new Subscribe("node-1", subscriber), Wait);
        long audioSeq = 0, cameraSeq = 0;
        for (var w = 0; w < 3; w++)
        {
            var batch = AudioFrames("node-1", w, Sample[w], audioSeq).Concat(CameraFrames("node-1", w, Sample[w], cameraSeq)).ToList();
            _node.Sessions.Tell(new FrameBatch("node-1", batch), subscriber);
            audioSeq += 50;
            cameraSeq += 10;
        }
        using var cts = new CancellationTokenSource(Wait);
        var fused = new List<FusedResult>();
        await foreach (var m in reader.ReadAllAsync(cts.Token))
        {
            if (m is FusedResult r) fused.Add(r);
            if (fused.Count == 2) break;
        }
        Assert.Equal([0L, 1_000_000L], fused.Select(r => r.WindowStartUs));
        Assert.Equal(Sample[0].Label, fused[0].TopClass);
        Assert.Equal(Sample[1].Label, fused[1].TopClass);
    }

    [Fact]
    public async Task A_session_that_was_never_opened_rejects_frames_through_the_region()
    {
        var reply = await _node.Sessions.Ask<FrameRejected>(new Frame("never-opened", Audio, 0, 0, new float[320]), Wait);
        Assert.Equal(RejectReason.UnknownSession, reply.Reason);
    }

    [Fact]
    public async Task Opening_a_session_twice_with_the_same_spec_is_idempotent_and_with_another_is_refused()
    {
        Assert.IsType<SessionOpened>(await _node.Sessions.Ask<object>(new OpenSession(Spec("node-2"), 0), Wait));
        Assert.IsType<SessionOpened>(await _node.Sessions.Ask<object>(new OpenSession(Spec("node-2"), 0), Wait));
        var other = Spec("node-2", allowedLatenessUs: 5);
        other = other with { Streams = [other.Streams[0]] };
        var refused = await _node.Sessions.Ask<object>(new OpenSession(other, 0), Wait);
        Assert.IsType<CommandRejected>(refused);
    }
}
