using System.Text.Json.Nodes;
using Akka.Actor;
using FusionActors.Runtime.Ingress;
using Xunit;

namespace FusionActors.Ingress.Tests;

/// <summary>
/// A writer whose socket drops comes back with its nonce: the node kept its link, with what the session sent
/// meanwhile, and the new connection gets that first; a replay of frames the session already has is dropped by seq.
/// </summary>
public sealed class IngressResumeSpec
{
    [Fact]
    public async Task A_result_fused_while_the_client_was_away_reaches_it_when_it_reconnects_with_its_nonce()
    {
        await using var node = await IngressNode.StartAsync();
        var nonce = WireClient.NewNonce();
        var spec = WireClient.Spec("away");
        var first = await WireClient.ConnectAsync(node.IngressUri);
        await first.SendAsync(WireClient.Open(spec, IngressNode.Token, nonce));
        var opened = (await first.ReceiveUntilAsync(IngressType.Opened))!.Json;
        // Frames of window [0, 100 ms) only: it stays open (the watermark trails by 50 ms) until the stream goes idle.
        await first.SendAsync(WireClient.Frames((0, 0, 10_000, [1, 2, 3, 4]), (0, 1, 60_000, [1, 2, 3, 4]), (0, 2, 90_000, [1, 2, 3, 4])));
        first.Socket.Abort(); // no close: a cut cable
        first.Socket.Dispose();

        // The node notices, parks the writer's link; 2 s later the idle stream lets the window close, and its result
        // goes to the parked link.
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (node.Ingress.Counters.Open > 0 && DateTime.UtcNow < deadline) await Task.Delay(20, TestContext.Current.CancellationToken);
        Assert.Equal(0, node.Ingress.Counters.Open);
        var gateway = await node.System.ActorSelection(Runtime.Gateway.SessionGateway.Path).ResolveOne(TimeSpan.FromSeconds(10), TestContext.Current.CancellationToken);
        long fused = 0;
        while (fused == 0 && DateTime.UtcNow < deadline)
        {
            var status = await gateway.Ask<Protocol.SessionStatus>(new Protocol.GetSessionStatus("away"), TimeSpan.FromSeconds(10), TestContext.Current.CancellationToken);
            fused = status.Fusion?.Results ?? 0;
            if (fused == 0) await Task.Delay(50, TestContext.Current.CancellationToken);
        }
        Assert.True(fused >= 1); // window 0 (and the empty ones after it) was decided while no connection of the writer was open

        await using var again = await WireClient.ConnectAsync(node.IngressUri);
        var resume = new JsonObject
        {
            ["committedThroughUs"] = long.MinValue, ["nextSeq"] = new JsonObject { ["s0"] = 0 },
            ["epoch"] = opened["epoch"]!.GetValue<long>(), ["capability"] = opened["capability"]!.GetValue<string>(),
        };
        await again.SendAsync(WireClient.Open(spec, IngressNode.Token, nonce, resume));
        var reopened = (await again.ReceiveUntilAsync(IngressType.Opened))!.Json;
        Assert.Equal(opened["epoch"]!.GetValue<long>(), reopened["epoch"]!.GetValue<long>()); // the same writer: not fenced
        // The replay: repeats of what the session has, dropped by seq.
        await again.SendAsync(WireClient.Frames((0, 0, 10_000, [1, 2, 3, 4]), (0, 1, 60_000, [1, 2, 3, 4]), (0, 2, 90_000, [1, 2, 3, 4])));
        var result = await again.ReceiveUntilAsync(IngressType.Result);
        Assert.NotNull(result);
        Assert.Equal(0, result!.Json["windowStartUs"]!.GetValue<long>());
        Assert.Equal("noop", result.Json["models"]![0]!.GetValue<string>()); // the model that made the evidence
        var duplicates = 0;
        while (duplicates < 3 && await again.ReceiveUntilAsync(IngressType.Rejected) is { } r)
            if (r.Json["reason"]!.GetValue<string>() == "Duplicate") duplicates++;
        Assert.Equal(3, duplicates);
        Assert.True(node.Ingress.Counters.Resumes >= 1);
    }
}
