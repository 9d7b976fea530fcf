using System.Text.Json.Nodes;
using Akka.Actor;
using FusionActors.Runtime.Ingress;
using Xunit;

namespace FusionActors.Ingress.Tests;

/// <summary>
/// A writer whose socket drops reconnects through another node's ingress while its session lives on: the link it left
/// (on the first node) kept what the session sent meanwhile, the session tells that link where the writer went, and
/// the writer's new connection gets it. Without that, a result fused during the gap would be lost to the client.
/// </summary>
public sealed class IngressRelinkSpec
{
    [Fact]
    public async Task A_result_fused_while_the_client_was_away_reaches_it_when_it_reconnects_through_another_node()
    {
        await using var first = await IngressNode.StartAsync();
        var seed = Akka.Cluster.Cluster.Get(first.System).SelfAddress;
        await using var second = await IngressNode.StartAsync(new Dictionary<string, string?> { ["Fusion:Node:Seeds:0"] = $"{seed.Host}:{seed.Port}" });
        var cancel = TestContext.Current.CancellationToken;

        var nonce = WireClient.NewNonce();
        var spec = WireClient.Spec("relink");
        var before = await WireClient.ConnectAsync(first.IngressUri);
        await before.SendAsync(WireClient.Open(spec, IngressNode.Token, nonce));
        var opened = (await before.ReceiveUntilAsync(IngressType.Opened))!.Json;
        // Frames of window [0, 100 ms) only: it closes once the stream goes idle, while no connection is open.
        await before.SendAsync(WireClient.Frames((0, 0, 10_000, [1, 2, 3, 4]), (0, 1, 60_000, [1, 2, 3, 4]), (0, 2, 90_000, [1, 2, 3, 4])));
        before.Socket.Abort();
        before.Socket.Dispose();

        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
        while (first.Ingress.Counters.Open > 0 && DateTime.UtcNow < deadline) await Task.Delay(20, cancel);
        Assert.Equal(0, first.Ingress.Counters.Open);
        var gateway = await first.System.ActorSelection(Runtime.Gateway.SessionGateway.Path).ResolveOne(TimeSpan.FromSeconds(10), cancel);
        long fused = 0;
        while (fused == 0 && DateTime.UtcNow < deadline)
        {
            var status = await gateway.Ask<Protocol.SessionStatus>(new Protocol.GetSessionStatus("relink", opened["capability"]!.GetValue<string>()), TimeSpan.FromSeconds(10), cancel);
            fused = status.Fusion?.Results ?? 0;
            if (fused == 0) await Task.Delay(50, cancel);
        }
        Assert.True(fused >= 1); // decided while the writer had no connection: its result went to the link on the first node

        // The reconnect reaches the other node's ingress: a new link there, the same writer (its nonce).
        await using var after = await WireClient.ConnectAsync(second.IngressUri);
        var resume = new JsonObject
        {
            ["committedThroughUs"] = long.MinValue, ["nextSeq"] = new JsonObject { ["s0"] = 3 },
            ["epoch"] = opened["epoch"]!.GetValue<long>(), ["capability"] = opened["capability"]!.GetValue<string>(),
        };
        await after.SendAsync(WireClient.Open(spec, IngressNode.Token, nonce, resume));
        var reopened = (await after.ReceiveUntilAsync(IngressType.Opened))!.Json;
        Assert.Equal(opened["epoch"]!.GetValue<long>(), reopened["epoch"]!.GetValue<long>()); // not fenced: the same writer
        // Later (empty) windows may be decided straight to the new link; window 0's result can only come from the old one.
        while (await after.ReceiveUntilAsync(IngressType.Result) is { } result)
            if (result.Json["windowStartUs"]!.GetValue<long>() == 0) return;
        Assert.Fail("window 0's result, fused while the writer was away, never reached its new connection");
    }
}
