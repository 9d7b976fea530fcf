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

    [Fact]
    public async Task A_resume_names_its_generation_and_delivered_revisions_and_the_new_incarnation_numbers_its_results_above_them()
    {
        // The client attached twice before and has revision 9000 of window 0 (as the session numbered it): a window an
        // earlier incarnation closed empty, now fused from the replayed frames, must come back ranked above it, not as
        // a (window, revision) the client takes for a repeat.
        await using var node = await IngressNode.StartAsync();
        var spec = WireClient.Spec("generations");
        await using var client = await WireClient.ConnectAsync(node.IngressUri);
        var resume = new JsonObject
        {
            ["committedThroughUs"] = 0, ["nextSeq"] = new JsonObject { ["s0"] = 0 },
            ["generation"] = 2, ["delivered"] = new JsonObject { ["0"] = 9000 },
        };
        await client.SendAsync(WireClient.Open(spec, IngressNode.Token, WireClient.NewNonce(), resume));
        Assert.NotNull(await client.ReceiveUntilAsync(IngressType.Opened));
        await client.SendAsync(WireClient.Frames((0, 0, 10_000, [1, 2, 3, 4]), (0, 1, 110_000, [1, 2, 3, 4])));
        await client.SendAsync(WireClient.CloseStream(0));
        var revisions = new Dictionary<long, int>();
        while (revisions.Count < 2 && await client.ReceiveUntilAsync(IngressType.Result) is { } r)
            revisions[r.Json["windowStartUs"]!.GetValue<long>()] = r.Json["revision"]!.GetValue<int>();
        Assert.Equal(9001, revisions[0]);                                    // above what the client named for it
        Assert.Equal(2 * Core.Alignment.Aligner.RevisionsPerGeneration, revisions[100_000]); // above anything generation 0 or 1 sent
    }

    [Theory]
    [InlineData("\"generation\": -1")]
    [InlineData("\"generation\": 262144")]
    [InlineData("\"generation\": 1.5")]
    [InlineData("\"delivered\": {\"0\": -1}")]
    [InlineData("\"delivered\": {\"0\": 1048577}")]
    [InlineData("\"delivered\": {\"x\": 1}")]
    [InlineData("\"delivered\": null, \"generation\": null")]
    public async Task A_resume_with_a_bad_generation_or_delivered_revision_is_a_bad_message(string field)
    {
        await using var node = await IngressNode.StartAsync();
        await using var client = await WireClient.ConnectAsync(node.IngressUri);
        var spec = WireClient.Spec("bad-generation").ToJsonString();
        var open = $"{{\"protocol\": 1, \"spec\": {spec}, \"token\": \"{IngressNode.Token}\", \"nonce\": \"{WireClient.NewNonce()}\", \"clientNowUs\": 0, " +
                   $"\"resume\": {{\"committedThroughUs\": 0, \"nextSeq\": {{\"s0\": 0}}, {field}}}}}";
        await client.SendAsync([(byte)IngressType.Open, .. System.Text.Encoding.UTF8.GetBytes(open)]);
        Assert.Equal("BadMessage", (await client.ExpectErrorAsync())["code"]!.GetValue<string>());
    }

    [Fact]
    public async Task A_resume_naming_more_windows_than_a_session_takes_is_a_bad_message()
    {
        await using var node = await IngressNode.StartAsync();
        await using var client = await WireClient.ConnectAsync(node.IngressUri);
        var delivered = new JsonObject();
        for (var i = 0; i <= Core.Alignment.Aligner.MaxResumedRevisions; i++) delivered[(i * 100_000L).ToString()] = 0;
        var resume = new JsonObject { ["committedThroughUs"] = 0, ["nextSeq"] = new JsonObject { ["s0"] = 0 }, ["delivered"] = delivered };
        await client.SendAsync(WireClient.Open(WireClient.Spec("many-windows"), IngressNode.Token, WireClient.NewNonce(), resume));
        Assert.Equal("BadMessage", (await client.ExpectErrorAsync())["code"]!.GetValue<string>());
    }
}
