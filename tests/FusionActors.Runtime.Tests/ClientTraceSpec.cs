using System.Diagnostics;
using OpenTelemetry;
using OpenTelemetry.Trace;
using Xunit;
using FusionActors.Client;
using FusionActors.Protocol;
using FusionActors.Runtime.Hosting;
using FusionActors.Runtime.Metrics;
using static FusionActors.Runtime.Tests.TestSessions;

namespace FusionActors.Runtime.Tests;

/// <summary>
/// The client's <c>push</c> span over real remoting on loopback: a sensor app's own activity is the parent of the
/// client's push spans, their traceparents travel with the frames in the binary batches, and the node's encode spans
/// (through its batcher) are children of those push spans, in the app's trace; the window's fuse links them.
/// </summary>
public sealed class ClientTraceSpec : IAsyncLifetime
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(30);
    private static readonly ActivitySource App = new("FusionActors.Tests.SensorApp");
    private readonly SpanCollector _spans = new();
    private TracerProvider _provider = null!;
    private FusionNode _node = null!;
    private int _port;

    public async Task InitializeAsync()
    {
        _provider = Sdk.CreateTracerProviderBuilder()
            .AddSource(FusionTracing.SourceName, ClientTracing.SourceName, App.Name)
            .SetSampler(new FusionSampler(1.0))
            .AddInMemoryExporter(_spans)
            .Build()!;
        _port = FreePort();
        _node = await StartNodeAsync(_port, """fusion.security.session-tokens = ["sensor-token"]""");
    }

    public async Task DisposeAsync()
    {
        await _node.DisposeAsync();
        _provider.Dispose();
    }

    [Fact]
    public async Task The_node_side_spans_of_frames_pushed_through_the_client_join_the_clients_trace()
    {
        var options = new FusionClientOptions { Contacts = [$"127.0.0.1:{_port}"], Token = "sensor-token", RequestTimeout = Wait };
        await using var session = await FusionClient.ConnectAsync(options).OpenSessionAsync(Spec("traced-client"));
        ActivityTraceId app;
        using (var root = App.StartActivity("sensor-app")!)
        {
            app = root.TraceId;
            await PushWindow(session, 0);
        }
        await session.CompleteAsync(Wait);
        var result = Assert.Single(await Collect(session, 1, Wait));
        Assert.Equal(FusedStatus.Fused, result.Status);

        Activity[] pushes = [], encodes = [];
        Activity fuse = null!;
        await AwaitAsync(() =>
        {
            pushes = _spans.Of("traced-client", "push");
            encodes = _spans.Of("traced-client", "encode");
            fuse = Assert.Single(_spans.Of("traced-client", "fuse"), f => Equals(f.GetTagItem("fusion.window.start_us"), 0L));
            Assert.Equal(60, pushes.Length); // 50 audio frames and 10 camera frames
            // The audio input and the first camera input: the camera's other 9 frames repeat its image and get its evidence
            // from the stream's repeat cache, without an encode.
            Assert.Equal(2, encodes.Sum(e => (int)e.GetTagItem("fusion.batch.size")!));
        });

        // The client's push spans are children of the app's activity; the node's encodes are children of push spans.
        Assert.All(pushes, p => Assert.Equal((app, ActivityKind.Producer), (p.TraceId, p.Kind)));
        var pushIds = pushes.Select(p => p.SpanId).ToHashSet();
        Assert.All(encodes, e =>
        {
            Assert.Equal(app, e.TraceId);
            Assert.Contains(e.ParentSpanId, pushIds);
            Assert.True(e.HasRemoteParent);
        });
        Assert.Equal(["audio", "image"], encodes.Select(e => (string)e.GetTagItem("fusion.modality")!).Distinct().Order());
        // The window's trace links them: the fuse is a root of its own that links every encode, in the app's trace.
        Assert.Equal(default, fuse.ParentSpanId);
        Assert.Equal(encodes.Select(e => e.SpanId.ToHexString()).Order(), fuse.Links.Select(l => l.Context.SpanId.ToHexString()).Order());
        Assert.All(fuse.Links, l => Assert.Equal(app, l.Context.TraceId));
        // The node's batcher ran them in shared calls: each encode links its encode.batch span.
        Assert.All(encodes, e => Assert.Single(e.Links));
    }

    private static async Task AwaitAsync(Action assert)
    {
        var deadline = DateTime.UtcNow + Wait;
        while (true)
        {
            try
            {
                assert();
                return;
            }
            catch (Exception) when (DateTime.UtcNow < deadline)
            {
                await Task.Delay(50);
            }
        }
    }
}
