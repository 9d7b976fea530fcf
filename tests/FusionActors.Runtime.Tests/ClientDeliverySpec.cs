using Akka.Actor;
using FusionActors.Client;
using Xunit;
using FusionActors.Protocol;
using FusionActors.Protocol.Specs;
using FusionActors.Runtime.Hosting;
using static FusionActors.Runtime.Tests.TestSessions;

namespace FusionActors.Runtime.Tests;

/// <summary>
/// The no-loss client against a latency-constrained session on a real node over loopback: frames the session sheds
/// for time count as handled. They are committed with their windows, leave the client's replay log, and completing the
/// session does not wait for them or replay them; the session counts them.
/// </summary>
public sealed class ClientDeliverySpec : IAsyncLifetime
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(30);
    private const long StartUs = 5_000_000;
    private const long WindowUs = 100_000;
    private FusionNode _node = null!;
    private int _port;

    public async Task InitializeAsync()
    {
        _port = FreePort();
        _node = await StartNodeAsync(_port, """fusion.security.session-tokens = ["sensor-token"]""");
    }

    public async Task DisposeAsync() => await _node.DisposeAsync();

    private static SessionSpec Spec(string id) => new()
    {
        SessionId = id,
        Labels = Labels,
        StartUs = StartUs,
        Window = WindowSpec.Tumbling(WindowUs),
        Delivery = DeliveryPolicy.LatencyConstrained,
        LatencyBudgetUs = 20_000,
        Streams =
        [
            new StreamSpec { StreamId = "cam", Modality = "image", Model = "noop", FrameLength = 4, MaxOutOfOrdernessUs = 0, MaxFutureSkewUs = 3_600_000_000 },
        ],
    };

    [Fact]
    public async Task Frames_shed_for_time_are_committed_and_forgotten_by_the_client_not_replayed()
    {
        var options = new FusionClientOptions { Contacts = [$"127.0.0.1:{_port}"], Token = "sensor-token", RequestTimeout = Wait };
        await using var session = await FusionClient.ConnectAsync(options).OpenSessionAsync(Spec("client-shed"));
        // The client's clock runs from the session's start: once it is 2 s on, frames of the first three windows are
        // 1.7 s or more past their due time (a sensor that buffered them, a slow link). The session's clock may lag the
        // client's by the open's one-way delay (its offset is estimated at open), so they are far past the 20 ms budget.
        var deadline = DateTime.UtcNow + Wait;
        while (session.NowUs < StartUs + 2_000_000 && DateTime.UtcNow < deadline) await Task.Delay(20);
        for (var j = 0; j < 30; j++) await session.Stream("cam").PushAsync(new float[] { 0.1f, 0.2f, 0.3f, 0.4f }, StartUs + j * 10_000);
        // Frames 20 s ahead of the clock after them (a push through the frame sink, or the first encode whose time sets
        // the budget's estimate, may take a while on a loaded machine): on time, fused.
        var onTime = (session.NowUs / WindowUs + 200) * WindowUs;
        for (var j = 0; j < 10; j++) await session.Stream("cam").PushAsync(new float[] { 0.1f, 0.2f, 0.3f, 0.4f }, onTime + j * 10_000);

        await session.CompleteAsync(Wait); // every frame committed, the shed ones included

        var stats = session.Stats;
        Assert.Equal(40, stats.FramesPushed);
        Assert.Equal(40, stats.FramesCommitted);
        Assert.Equal(0, stats.Uncommitted);
        Assert.Equal(0, stats.EntriesReplayed);
        Assert.Empty(stats.Rejected);
        var status = await _node.Sessions.Ask<SessionStatus>(new GetSessionStatus("client-shed"), Wait);
        var cam = Assert.Single(status.Streams).Counters;
        Assert.Equal(30, cam.FramesShedOverBudget);
        Assert.Equal(40, cam.FramesAccepted);
        Assert.True(cam.InputsEncoded == 10, $"10 on-time inputs must be encoded: {cam}");
        Assert.Equal(long.MaxValue, status.Alignment!.CommittedThroughUs);

        // The on-time window was fused from its frames; the three late ones closed without evidence.
        var results = new List<FusedResult>();
        using var cts = new CancellationTokenSource(Wait);
        await foreach (var r in session.Results.WithCancellation(cts.Token))
        {
            results.Add(r);
            if (r.WindowStartUs == onTime) break;
        }
        Assert.Equal(FusedStatus.Fused, results[^1].Status);
        Assert.All(results.Where(r => r.WindowStartUs < StartUs + 3 * WindowUs), r => Assert.Equal(FusedStatus.NoEvidence, r.Status));
    }
}
