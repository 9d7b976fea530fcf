using System.Diagnostics;
using Akka.Actor;
using Akka.TestKit.Xunit2;
using OpenTelemetry;
using OpenTelemetry.Trace;
using Xunit;
using FusionActors.Protocol;
using FusionActors.Runtime.Encoders;
using FusionActors.Runtime.Encoders.Batching;
using FusionActors.Runtime.Metrics;
using FusionActors.Runtime.Sessions;
using static FusionActors.Runtime.Tests.TestSessions;

namespace FusionActors.Runtime.Tests;

/// <summary>
/// One trace per window: a real session of two modalities through the real actors and ONNX models, traced by an
/// OpenTelemetry tracer provider with the node's sampler and the in-memory exporter. The window's <c>fuse</c> span is a
/// root that links the <c>encode</c> span of every evidence of both modalities; with the node's batcher, every shared
/// model call is an <c>encode.batch</c> span linked both ways with the encode spans it served.
/// </summary>
public sealed class WindowTraceSpec : TestKit
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(30);
    private readonly SpanCollector _spans = new();
    private readonly TracerProvider _provider;
    private readonly List<IDisposable> _owned = [];

    public WindowTraceSpec() : base(LocalConfig)
    {
        _provider = Sdk.CreateTracerProviderBuilder()
            .AddSource(FusionTracing.SourceName)
            .SetSampler(new FusionSampler(1.0))
            .AddInMemoryExporter(_spans)
            .Build()!;
        _owned.Add(_provider);
    }

    protected override void AfterAll()
    {
        base.AfterAll();
        foreach (var d in _owned) d.Dispose();
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void A_window_trace_links_the_encodes_of_both_modalities_that_went_into_it_from_its_fuse_span(bool batched)
    {
        var id = batched ? "trace-batched" : "trace-alone";
        var props = SessionProps(id);
        if (batched)
        {
            var node = new NodeEncoding(new EncoderBatcher(new BatchingOptions(), TimeSpan.FromSeconds(10)), new PendingEncoderInputs(100_000));
            _owned.Add(node);
            props = SessionActor.Props(id, new NodeEncoderProvider(TestSessions.Encoders, node), FastBackoff, sharded: false);
        }
        var session = Sys.ActorOf(props, id);
        session.Tell(new OpenSession(Spec(id), 0), TestActor);
        ExpectMsg<SessionOpened>(Wait);
        var results = CreateTestProbe();
        session.Tell(new Subscribe(id, results.Ref), TestActor);
        ExpectMsg<Subscribed>(Wait);

        foreach (var f in AudioFrames(id, 0, Sample[0], 0)) session.Tell(f, TestActor);
        foreach (var f in CameraFrames(id, 0, Sample[0], 0)) session.Tell(f, TestActor);
        session.Tell(new CloseStream(id, Audio), TestActor);
        session.Tell(new CloseStream(id, Camera), TestActor);
        var result = (FusedResult)results.FishForMessage(m => m is FusedResult { WindowStartUs: 0 }, Wait);
        Assert.Equal(FusedStatus.Fused, result.Status);

        // Spans end on their own threads just after the messages they sent: wait for the ones this window needs.
        Activity fuse = null!;
        Activity[] encodes = [];
        AwaitAssert(() =>
        {
            fuse = Assert.Single(_spans.Of(id, "fuse"), f => Equals(f.GetTagItem("fusion.window.start_us"), 0L) && Equals(f.GetTagItem("fusion.window.revision"), 0));
            encodes = _spans.Of(id, "encode");
            // The audio input (1 s) and the first camera input: the other 9 frames repeat its image, and the camera's
            // repeat cache gives them its evidence without an encode (nor a span).
            Assert.Equal(2, encodes.Sum(e => (int)e.GetTagItem("fusion.batch.size")!));
        }, Wait);

        // The fuse span is the root of the window's trace, and it links every encode of the session, of both modalities.
        Assert.Equal(default, fuse.ParentSpanId);
        Assert.Equal(ActivityTraceFlags.Recorded, fuse.ActivityTraceFlags & ActivityTraceFlags.Recorded);
        Assert.Equal(encodes.Select(e => e.SpanId.ToHexString()).Order(), fuse.Links.Select(l => l.Context.SpanId.ToHexString()).Order());
        Assert.Equal(encodes.Select(e => e.TraceId).OrderBy(t => t.ToHexString()), fuse.Links.Select(l => l.Context.TraceId).OrderBy(t => t.ToHexString()));
        Assert.Equal(["audio", "image"], encodes.Select(e => (string)e.GetTagItem("fusion.modality")!).Distinct().Order());
        Assert.Equal(["audio", "image"], fuse.Links.Select(l => (string)l.Tags!.First(t => t.Key == "fusion.modality").Value!).Distinct().Order());
        Assert.Equal("Fused", fuse.GetTagItem("fusion.status"));
        Assert.All(encodes, e => Assert.True(e.Duration > TimeSpan.Zero));

        if (!batched)
        {
            Assert.All(encodes, e => Assert.Empty(e.Links));
            return;
        }
        // Each encode was served by shared model calls: each links the encode.batch span of its call, which links it back.
        var calls = _spans.Snapshot().Where(s => s.OperationName == "encode.batch").ToArray();
        foreach (var encode in encodes)
        {
            var link = Assert.Single(encode.Links);
            var call = Assert.Single(calls, c => c.SpanId == link.Context.SpanId);
            Assert.Contains(call.Links, l => l.Context.SpanId == encode.SpanId && Equals(l.Tags!.First(t => t.Key == "fusion.session").Value, id));
            Assert.Equal(default, call.ParentSpanId);
            Assert.InRange((int)call.GetTagItem("fusion.batch.size")!, 1, 32);
        }
    }
}
