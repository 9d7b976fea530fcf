using System.Net.Sockets;
using System.Text;
using System.Text.Json.Nodes;
using Xunit;
using FusionActors.Runtime.OperatorConsole;

namespace FusionActors.Fusionctl.Tests;

/// <summary>
/// A node's console under a thousand connections that speak garbage, over real loopback sockets, with the default
/// connection cap: connections beyond the cap are closed at accept, garbage gets a typed refusal or error or a
/// close, an operator's connection is served between every wave of the attack, and every connection ends closed.
/// </summary>
[Collection(ConsoleNodeCollection.Name)]
public sealed class ConsoleFloodSpec(ConsoleNode node)
{
    private const int Connections = 1000;
    private const int Refused = 600;
    private const int InFlight = 32;
    private const int SilentBeforeHello = 8;
    private const string Session = "ctl-flood";

    // Short, so that the connections the node must close for silence close within the spec; the connections that
    // must stay open run a watch, which keeps a connection open past it.
    private static readonly TimeSpan Idle = TimeSpan.FromSeconds(2);

    [Fact]
    public async Task A_thousand_garbage_connections_are_refused_or_closed_while_an_operator_is_served()
    {
        var options = new ConsoleOptions { IdleTimeout = Idle };
        var cap = options.MaxConnections;
        Assert.Equal(64, cap); // the default fusion.console.max-connections
        await node.OpenSession(Session);
        await using var host = node.StartConsole(options);
        var port = host.Endpoint.Port;
        var opened = 0;

        // The operator: one connection watching the session and running commands from the first phase to the last.
        using var op = await RawClient.HelloAsync(port);
        opened++;
        await op.SendAsync($"{{\"type\":\"invoke\",\"id\":1,\"words\":[\"watch\",\"{Session}\"]}}");
        Assert.Contains($"watching {Session}", (await op.ReadAsync())!.ToJsonString());
        var operatorId = 1;
        async Task Operate()
        {
            var id = ++operatorId;
            await op.SendAsync($"{{\"type\":\"invoke\",\"id\":{id},\"words\":[\"sessions\",\"list\"]}}");
            var final = await op.ReadFinalAsync(id);
            Assert.Equal("None", final["body"]!["error"]?.GetValue<string>() ?? "None");
            Assert.Contains(Session, final.ToJsonString());
        }

        // 1. Holders fill the cap: each says hello and runs a watch, so neither silence nor the idle timeout frees its slot.
        var holders = await Task.WhenAll(Enumerable.Range(0, cap - 1).Select(async _ =>
        {
            var c = await RawClient.HelloAsync(port);
            await c.SendAsync($"{{\"type\":\"invoke\",\"id\":1,\"words\":[\"watch\",\"{Session}\"]}}");
            Assert.Contains($"watching {Session}", (await c.ReadAsync())!.ToJsonString());
            return c;
        }));
        opened += holders.Length;
        try
        {
            Assert.Equal(cap, host.OpenConnections);
            Assert.Equal(cap, host.RunningInvocations);
            await Operate();

            // 2. With the cap full, every further connection is closed at accept, whatever it sends, and nothing is read from it.
            for (var batch = 0; batch < Refused / 100; batch++)
            {
                var flood = Enumerable.Range(batch * 100, 100).Select(async i =>
                {
                    using var c = await RawClient.ConnectAsync(port);
                    await Quietly(() => (i % 3) switch
                    {
                        0 => c.SendBytesAsync(RandomBytes(i, 512)),
                        1 => c.SendAsync("{\"type\":\"hello\"}"),
                        _ => Task.CompletedTask,
                    });
                    Assert.True(await c.ClosedAsync(ConsoleNode.Wait), $"connection {i} beyond the cap was not closed, or was answered");
                }).ToArray();
                await Operate(); // while this batch is in flight
                await Task.WhenAll(flood);
            }
            opened += Refused;
            Assert.Equal(Refused, host.RefusedConnections);
            Assert.Equal(cap, host.OpenConnections);

            // 3. The holders stop their watches: the node closes each of them once it has been idle for the timeout.
            await Task.WhenAll(holders.Select(async c =>
            {
                await c.SendAsync("{\"type\":\"cancel\",\"id\":1}");
                Assert.Contains("cancelled", (await c.ReadFinalAsync(1)).ToJsonString());
                Assert.True(await c.ClosedAsync(ConsoleNode.Wait), "an idle connection was not closed after its watch ended");
            }));
            await ConsoleNode.Eventually(() => Task.FromResult(host.OpenConnections == 1), "the idle holders to be closed");
        }
        finally
        {
            foreach (var c in holders) c.Dispose();
        }

        // 4. Garbage on connections the node admits, at most InFlight at a time (plus a few silent ones): each is
        //    answered with a typed refusal or error, or closed; none is refused at accept, since the cap is not reached.
        var attacks = Attacks();
        var silent = Enumerable.Range(0, SilentBeforeHello).Select(async i =>
        {
            // Connects and never says hello: closed by the hello timeout.
            using var c = await RawClient.ConnectAsync(port);
            Check($"silent before hello #{i}", null, await c.FramesUntilClosedAsync());
        }).ToArray();
        opened += SilentBeforeHello;
        var slots = new SemaphoreSlim(InFlight);
        var running = new List<Task>();
        var garbage = Connections - opened;
        for (var i = 0; i < garbage; i++)
        {
            await slots.WaitAsync();
            var attack = attacks[i % attacks.Length];
            var seed = i;
            running.Add(Task.Run(async () =>
            {
                try
                {
                    using var c = await RawClient.ConnectAsync(port);
                    Check($"{attack.Name} #{seed}", attack.Answer, await attack.Run(c, seed));
                }
                finally { slots.Release(); }
            }));
            if (i % InFlight == 0) await Operate(); // while up to InFlight attacks are in flight
            if (i == garbage / 2)
            {
                var run = await ConsoleNode.CtlAt(port, ["sessions", "list"]);
                Assert.True(run.ExitCode == 0, $"fusionctl during the attack: {run}");
                Assert.Contains(Session, run.Output);
            }
        }
        opened += garbage;
        await Task.WhenAll(running);
        await Task.WhenAll(silent);
        Assert.Equal(Connections, opened);
        Assert.Equal(Refused, host.RefusedConnections);
        await Operate();

        // 5. The operator leaves; every connection is closed and nothing runs.
        await op.SendAsync("{\"type\":\"cancel\",\"id\":1}");
        Assert.Contains("cancelled", (await op.ReadFinalAsync(1)).ToJsonString());
        op.Dispose();
        await ConsoleNode.Eventually(() => Task.FromResult(host.OpenConnections == 0), "every connection to close");
        await ConsoleNode.Eventually(() => Task.FromResult(host.RunningInvocations == 0), "every invocation to end");
        var after = await ConsoleNode.CtlAt(port, ["sessions", "list"]);
        Assert.True(after.ExitCode == 0, $"fusionctl after the attack: {after}");
    }

    /// <summary>
    /// One kind of garbage: what it sends on a fresh connection, returning every frame the node sent until it closed
    /// the connection; <see cref="Answer"/> is the typed answer the node must give (a frame type, or a response error).
    /// </summary>
    private sealed record Attack(string Name, Func<RawClient, int, Task<List<JsonNode>>> Run, string? Answer = null);

    private static Attack[] Attacks() =>
    [
        new("random bytes", (c, seed) => Then(c, () => c.SendBytesAsync(RandomBytes(seed, 2048)))),
        new("an HTTP request", (c, _) => Then(c, () => c.SendRawAsync("GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"))),
        new("an invoke before hello", (c, _) => Then(c, () => c.SendAsync("{\"type\":\"invoke\",\"id\":1,\"words\":[\"sessions\",\"list\"]}")), "refused"),
        new("an unknown frame type", (c, _) => Then(c, () => c.SendAsync("{\"type\":\"shutdown\"}"))),
        new("half-open at once", (c, _) => Then(c, () => { c.ShutdownSend(); return Task.CompletedTask; }), "refused"),
        new("half-open in the middle of a hello", (c, _) => Then(c, async () => { await c.SendRawAsync("{\"type\":\"hel"); c.ShutdownSend(); })),
        new("a hello nested 100,000 deep", (c, _) => Then(c, () => c.SendAsync("{\"type\":\"hello\",\"token\":" + new string('[', 100_000)))),
        new("a line of NUL characters", (c, _) => Then(c, () => c.SendBytesAsync(new byte[4096].Append((byte)'\n').ToArray()))),
        new("a line over the limit without a newline", (c, _) => Then(c, () => c.SendRawAsync(new string('A', (1 << 20) + 4096)))),
        new("hello, then an unknown command, then invalid UTF-8", UnknownCommandThenInvalidUtf8, "Usage"),
        new("hello, then an id beyond int", (c, _) => AfterHello(c, () => c.SendAsync("{\"type\":\"invoke\",\"id\":99999999999,\"words\":[]}"))),
        new("hello, then silence", (c, _) => AfterHello(c, () => Task.CompletedTask)),
        new("hello, then a line that never ends", (c, _) => AfterHello(c, () => c.SendRawAsync("{\"type\":\"invoke\",\"id\":1,\"words\":[\"sessions\""))),
    ];

    private static async Task<List<JsonNode>> Then(RawClient c, Func<Task> send)
    {
        await Quietly(send);
        return await c.FramesUntilClosedAsync();
    }

    private static async Task<List<JsonNode>> AfterHello(RawClient c, Func<Task> send)
    {
        await c.SendAsync("{\"type\":\"hello\"}");
        var frames = new List<JsonNode> { (await c.ReadAsync())! };
        Assert.Equal("welcome", frames[0]["type"]?.GetValue<string>());
        await Quietly(send);
        frames.AddRange(await c.FramesUntilClosedAsync());
        return frames;
    }

    private static async Task<List<JsonNode>> UnknownCommandThenInvalidUtf8(RawClient c, int _)
    {
        await c.SendAsync("{\"type\":\"hello\"}");
        var frames = new List<JsonNode> { (await c.ReadAsync())! };
        Assert.Equal("welcome", frames[0]["type"]?.GetValue<string>());
        await c.SendAsync("{\"type\":\"invoke\",\"id\":7,\"words\":[\"no-such-palette\",\"x\"]}");
        frames.Add(await c.ReadFinalAsync(7));
        // Still served after a usage error; bytes that are not UTF-8 then close it.
        await Quietly(() => c.SendBytesAsync([0xC3, 0x28, 0xFF, 0xFE, (byte)'\n']));
        frames.AddRange(await c.FramesUntilClosedAsync());
        return frames;
    }

    /// <summary>
    /// Every frame the node sent garbage is a welcome (to a hello), a refusal or a final error response; the connection
    /// was closed (the caller read until it was); <paramref name="answer"/>, when set, was among them.
    /// </summary>
    private static void Check(string attack, string? answer, List<JsonNode> frames)
    {
        foreach (var f in frames)
        {
            var type = f["type"]?.GetValue<string>();
            var error = f["body"]?["error"]?.GetValue<string>() ?? "None";
            var typed = type switch
            {
                "welcome" or "refused" => true,
                "response" => f["body"]?["final"]?.GetValue<bool>() == true && error != "None",
                _ => false,
            };
            Assert.True(typed, $"{attack}: the node answered garbage with {f.ToJsonString()}");
        }
        if (answer is not null)
            Assert.True(frames.Any(f => f["type"]?.GetValue<string>() == answer || f["body"]?["error"]?.GetValue<string>() == answer),
                $"{attack}: no '{answer}' among [{string.Join(", ", frames.Select(f => f.ToJsonString()))}]");
    }

    /// <summary>A write the node may refuse by closing the connection under it (a reset): closing is an answer to garbage.</summary>
    private static async Task Quietly(Func<Task> send)
    {
        try { await send(); }
        catch (Exception e) when (e is IOException or SocketException or ObjectDisposedException) { /* the node closed it */ }
    }

    private static byte[] RandomBytes(int seed, int length)
    {
        var bytes = new byte[length];
        new Random(seed).NextBytes(bytes);
        return bytes;
    }
}
