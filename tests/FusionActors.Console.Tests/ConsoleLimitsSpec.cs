using System.Diagnostics;
using Akka.Actor;
using Xunit;
using FusionActors.Runtime.Metrics;
using FusionActors.Runtime.OperatorConsole;
using FusionActors.OperatorConsole.Protocol;

namespace FusionActors.Fusionctl.Tests;

/// <summary>
/// The console cannot be exhausted: a cap on connections, an idle timeout, one invocation per id, bounded output
/// to a slow reader. Each spec starts its own console host (own options) on the shared node's actor system.
/// </summary>
[Collection(ConsoleNodeCollection.Name)]
public sealed class ConsoleLimitsSpec(ConsoleNode node)
{
    private ConsoleHost StartHost(ConsoleOptions options, params CommandPaletteHandler[] extra) => node.StartConsole(options, extra);

    [Fact]
    public async Task Silent_sockets_at_the_cap_do_not_lock_an_operator_out()
    {
        // Connections that never say hello fill every slot: an operator who connects next displaces the oldest of them,
        // is welcomed and served, instead of being refused until the hello timeout frees a slot.
        const int cap = 4;
        await using var host = StartHost(new ConsoleOptions { MaxConnections = cap });
        var silent = new List<RawClient>();
        try
        {
            for (var i = 0; i < cap; i++) silent.Add(await RawClient.ConnectAsync(host.Endpoint.Port));
            await ConsoleNode.Eventually(() => Task.FromResult(host.OpenConnections == cap), "the silent sockets to fill the cap");

            using var op = await RawClient.HelloAsync(host.Endpoint.Port);
            await op.SendAsync("{\"type\":\"invoke\",\"id\":1,\"words\":[\"metrics\"]}");
            var final = await op.ReadFinalAsync(1);
            Assert.Equal("None", final["body"]!["error"]?.GetValue<string>() ?? "None");
            Assert.Equal(1, host.DisplacedConnections);
            Assert.Equal(0, host.RefusedConnections);
            Assert.True(await silent[0].ClosedAsync(TimeSpan.FromSeconds(5)), "the oldest silent socket was not the one closed");
            Assert.Equal(cap, host.OpenConnections);

            // Once every slot is held by a welcomed connection, a new one is refused at accept as before.
            var welcomed = new List<RawClient>();
            try
            {
                for (var i = 1; i < cap; i++) welcomed.Add(await RawClient.HelloAsync(host.Endpoint.Port));
                Assert.Equal(cap, host.DisplacedConnections);
                using var extra = await RawClient.ConnectAsync(host.Endpoint.Port);
                Assert.True(await extra.ClosedAsync(TimeSpan.FromSeconds(5)), "a connection beyond a cap of welcomed ones was not closed");
                Assert.Equal(1, host.RefusedConnections);
            }
            finally
            {
                foreach (var c in welcomed) c.Dispose();
            }
        }
        finally
        {
            foreach (var c in silent) c.Dispose();
        }
    }

    [Fact]
    public async Task A_connection_beyond_max_connections_is_closed_at_accept_and_the_open_ones_keep_working()
    {
        await using var host = StartHost(new ConsoleOptions { MaxConnections = 3 });
        var open = new List<RawClient>();
        try
        {
            for (var i = 0; i < 3; i++) open.Add(await RawClient.HelloAsync(host.Endpoint.Port));

            using var extra = await RawClient.ConnectAsync(host.Endpoint.Port);
            // At once: well before the hello timeout (10 s) would close it anyway.
            Assert.True(await extra.ClosedAsync(TimeSpan.FromSeconds(5)), "the connection beyond the cap was not closed at once");
            Assert.Equal(1, host.RefusedConnections);
            Assert.Equal(3, host.OpenConnections);

            for (var i = 0; i < open.Count; i++)
            {
                await open[i].SendAsync($"{{\"type\":\"invoke\",\"id\":{i + 1},\"words\":[\"sessions\",\"list\"]}}");
                var final = await open[i].ReadFinalAsync(i + 1);
                Assert.Equal("None", final["body"]!["error"]?.GetValue<string>() ?? "None");
            }

            open[0].Dispose();
            open.RemoveAt(0);
            await ConsoleNode.Eventually(() => Task.FromResult(host.OpenConnections == 2), "a closed connection to free its place");
            var run = await ConsoleNode.CtlAt(host.Endpoint.Port, ["sessions", "list"]);
            Assert.True(run.ExitCode == 0, run.ToString());
        }
        finally
        {
            foreach (var c in open) c.Dispose();
        }
    }

    [Fact]
    public async Task A_connection_idle_after_its_hello_is_closed_but_not_while_a_command_runs()
    {
        var idle = TimeSpan.FromMilliseconds(700);
        await using var host = StartHost(new ConsoleOptions { IdleTimeout = idle });

        // Says hello, then nothing.
        using (var silent = await RawClient.HelloAsync(host.Endpoint.Port))
        {
            var clock = Stopwatch.StartNew();
            Assert.True(await silent.ClosedAsync(ConsoleNode.Wait), "a silent connection was not closed");
            Assert.True(clock.Elapsed >= idle * 0.9, $"closed after {clock.Elapsed}, before the idle timeout");
        }

        // Says hello, then a line that never ends: bytes that are not a frame do not keep it open.
        using (var dripping = await RawClient.HelloAsync(host.Endpoint.Port))
        {
            await dripping.SendRawAsync("{\"type\":\"invoke\",");
            Assert.True(await dripping.ClosedAsync(ConsoleNode.Wait), "a connection with an endless line was not closed");
        }

        // A running watch keeps its connection open past the idle timeout; once it ends, the timeout applies again.
        await node.OpenSession("ctl-idle");
        using var watching = await RawClient.HelloAsync(host.Endpoint.Port);
        await watching.SendAsync("{\"type\":\"invoke\",\"id\":1,\"words\":[\"watch\",\"ctl-idle\"]}");
        Assert.Contains("watching ctl-idle", (await watching.ReadAsync())!.ToJsonString());
        Assert.False(await watching.ClosedAsync(idle * 4), "a connection with a running watch was closed as idle");
        await watching.SendAsync("{\"type\":\"cancel\",\"id\":1}");
        Assert.Contains("cancelled", (await watching.ReadFinalAsync(1)).ToJsonString());
        Assert.True(await watching.ClosedAsync(ConsoleNode.Wait), "the connection was not closed once its watch ended");
        await ConsoleNode.Eventually(() => Task.FromResult(host.OpenConnections == 0), "the connections to close");
    }

    [Fact]
    public async Task An_invoke_id_already_running_is_refused_and_the_per_connection_cap_holds()
    {
        var console = node.Node.Console!;
        await node.OpenSession("ctl-dup");
        using var client = await RawClient.HelloAsync(node.Port);
        await client.SendAsync("{\"type\":\"invoke\",\"id\":1,\"words\":[\"watch\",\"ctl-dup\"]}");
        Assert.Contains("watching ctl-dup", (await client.ReadAsync())!.ToJsonString());

        for (var i = 0; i < 20; i++) await client.SendAsync("{\"type\":\"invoke\",\"id\":1,\"words\":[\"watch\",\"ctl-dup\"]}");
        for (var i = 0; i < 20; i++)
        {
            var frame = (await client.ReadAsync())!;
            Assert.Equal(1, frame["id"]!.GetValue<int>());
            Assert.Equal("Refused", frame["body"]!["error"]?.GetValue<string>());
            Assert.True(frame["body"]!["final"]!.GetValue<bool>());
        }
        Assert.Equal(1, console.RunningInvocations);

        // Fresh ids up to the cap of 16 run; the 17th is refused.
        for (var id = 2; id <= 17; id++) await client.SendAsync($"{{\"type\":\"invoke\",\"id\":{id},\"words\":[\"watch\",\"ctl-dup\"]}}");
        var refused = await client.ReadFinalAsync(17);
        Assert.Equal("Refused", refused["body"]!["error"]?.GetValue<string>());
        await ConsoleNode.Eventually(() => Task.FromResult(console.RunningInvocations == 16), "16 watches to run");

        // The cancel of id 1 still reaches the first watch (the refused ones did not replace it).
        await client.SendAsync("{\"type\":\"cancel\",\"id\":1}");
        await client.ReadFinalAsync(1);
        await ConsoleNode.Eventually(() => Task.FromResult(console.RunningInvocations == 15), "the first watch to stop");

        client.Dispose();
        await ConsoleNode.Eventually(() => Task.FromResult(console.RunningInvocations == 0), "the watches to stop with their connection");
    }

    [Fact]
    public async Task An_id_may_be_reused_as_soon_as_its_final_response_arrived()
    {
        await node.OpenSession("ctl-reuse");
        await using var host = StartHost(new ConsoleOptions());
        using var client = await RawClient.HelloAsync(host.Endpoint.Port);
        for (var round = 0; round < 20; round++)
        {
            await client.SendAsync("{\"type\":\"invoke\",\"id\":5,\"words\":[\"sessions\",\"list\"]}");
            Assert.Equal("None", (await client.ReadFinalAsync(5))["body"]!["error"]?.GetValue<string>() ?? "None");
            // At once, with the same id: it runs, and it is the one a cancel of that id reaches.
            await client.SendAsync("{\"type\":\"invoke\",\"id\":5,\"words\":[\"watch\",\"ctl-reuse\"]}");
            Assert.Contains("watching ctl-reuse", (await client.ReadAsync())!.ToJsonString());
            await client.SendAsync("{\"type\":\"cancel\",\"id\":5}");
            Assert.Contains("cancelled", (await client.ReadFinalAsync(5)).ToJsonString());
        }
        await ConsoleNode.Eventually(() => Task.FromResult(host.RunningInvocations == 0), "the watches to stop");
    }

    [Fact]
    public async Task Output_to_a_client_that_never_reads_is_bounded_dropping_the_oldest_with_a_warning()
    {
        const int lines = 20_000;
        await using var host = StartHost(new ConsoleOptions { MaxQueuedResponses = 10 }, new FloodPalette());
        // A small receive window, and this client reads nothing after the welcome until the node has dropped.
        using var client = await RawClient.HelloAsync(host.Endpoint.Port, receiveBuffer: 4096);
        await client.SendAsync($"{{\"type\":\"invoke\",\"id\":1,\"words\":[\"flood\",\"{lines}\"]}}");
        await ConsoleNode.Eventually(() => Task.FromResult(host.DroppedResponses > 0), "responses to be dropped");

        // Now read it all: the newest lines and the final (never dropped), with warnings counting the rest.
        long received = 0, dropped = 0;
        string? last = null;
        while (await client.ReadAsync() is { } frame)
        {
            var body = frame["body"]!;
            if (body["final"]!.GetValue<bool>())
            {
                Assert.Equal("None", body["error"]?.GetValue<string>() ?? "None");
                break;
            }
            if (body["data"]?["kind"]?.GetValue<string>() == "dropped")
            {
                dropped += body["data"]!["dropped"]!.GetValue<long>();
                Assert.Contains("dropped", body["text"]!.GetValue<string>());
            }
            else
            {
                received++;
                last = body["text"]!.GetValue<string>();
            }
        }
        Assert.True(dropped > 0, "no warning counted the dropped responses");
        Assert.Equal(lines, received + dropped);
        Assert.Equal(host.DroppedResponses, dropped);
        Assert.StartsWith($"{lines - 1} ", last);
    }

    [Fact]
    public async Task A_connection_whose_client_accepts_no_output_for_the_idle_timeout_is_closed_with_its_commands()
    {
        await using var host = StartHost(new ConsoleOptions { IdleTimeout = TimeSpan.FromSeconds(1) }, new FloodPalette());
        using var client = await RawClient.HelloAsync(host.Endpoint.Port, receiveBuffer: 4096);
        await client.SendAsync("{\"type\":\"invoke\",\"id\":1,\"words\":[\"flood\",\"20000\"]}");
        // The client never reads again: a running command does not keep a stalled connection (and its slot) forever.
        await ConsoleNode.Eventually(() => Task.FromResult(host.OpenConnections == 0), "the stalled connection to be closed");
        await ConsoleNode.Eventually(() => Task.FromResult(host.RunningInvocations == 0), "its invocation to end");
    }

    [Fact]
    public async Task Two_hundred_hostile_connections_do_not_stop_fusionctl_and_all_close_afterwards()
    {
        await using var host = StartHost(new ConsoleOptions { MaxConnections = 256 });
        var port = host.Endpoint.Port;
        var hostile = new List<RawClient>();
        try
        {
            var connecting = Enumerable.Range(0, 200).Select(async i =>
            {
                var c = await RawClient.ConnectAsync(port);
                switch (i % 4)
                {
                    case 0: await c.SendRawAsync("garbage that is not json\n"); break;
                    case 1: await c.SendRawAsync("{\"type\":\"hello\"}\n{\"type\":\"invoke\",\"id\":"); break; // hello, then a line that never ends
                    case 2: await c.SendRawAsync("{\"type\":\"hel"); break; // a hello that never ends
                    default: break; // nothing at all
                }
                return c;
            }).ToArray();
            hostile.AddRange(await Task.WhenAll(connecting));

            var run = await ConsoleNode.CtlAt(port, ["sessions", "list"]);
            Assert.True(run.ExitCode == 0, run.ToString());
            await ConsoleNode.Eventually(() => Task.FromResult(host.OpenConnections <= 150), "the garbage connections to be closed");
        }
        finally
        {
            foreach (var c in hostile) c.Dispose();
        }
        await ConsoleNode.Eventually(() => Task.FromResult(host.OpenConnections == 0), "all connections to close");
        Assert.Equal(0, host.RunningInvocations);
    }

    /// <summary>A test palette: <c>flood N</c> writes N lines of about 1 KB at once, then its final response.</summary>
    private sealed class FloodPalette : CommandPaletteHandler
    {
        public override CommandPalette Palette { get; } = new("flood", "test output", [new("", "write N lines", [new("lines", "how many", ArgumentType.Integer)])]);

        public override Props HandlerProps(Command command, IActorRef replyTo) => Props.Create(() => new Handler(command, replyTo));

        private sealed class Handler(Command command, IActorRef replyTo) : CommandHandlerActor(command, replyTo)
        {
            private static readonly string Padding = new('x', 1000);

            protected override Task Execute()
            {
                var n = Command.Integer("lines");
                for (var i = 0; i < n; i++) Write($"{i} {Padding}");
                Done();
                return Task.CompletedTask;
            }
        }
    }
}
