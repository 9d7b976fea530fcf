using System.Diagnostics.Metrics;
using Akka.Actor;
using Akka.TestKit;
using Akka.TestKit.Xunit2;
using Xunit;
using FusionActors.Core.Time;
using FusionActors.Inference;
using FusionActors.Inference.Data;
using FusionActors.Protocol;
using FusionActors.Protocol.Specs;
using FusionActors.Runtime.Alignment;
using FusionActors.Runtime.Encoders;
using FusionActors.Runtime.Metrics;
using FusionActors.Runtime.Streams;
using static FusionActors.Runtime.Tests.TestSessions;

namespace FusionActors.Runtime.Tests;

/// <summary>
/// Input drift through the real image encoder and its committed drift parameters: a camera stream fed the committed
/// out-of-distribution sample (digits typeset in fonts) goes over the alert threshold, logs it once per crossing and
/// counts it; a camera stream fed the in-distribution test sample does not. Both with the camera's clean sensor
/// noise (σ = 0.05), as the parameters were fitted.
/// </summary>
public sealed class StreamDriftSpec : TestKit, IDisposable
{
    private const string Session = "drift-spec";
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(30);
    private readonly ModelRegistry _models = ModelRegistry.FromDefaultCatalog();

    public StreamDriftSpec() : base(LocalConfig) { }

    private sealed class FixedRandom(double u) : IRandomSource
    {
        public double NextDouble() => u;
    }

    private static readonly DriftOptions Options = new() { Window = 20, AlertThreshold = 1.0 };

    private (IActorRef Stream, TestProbe Alignment) Start(string streamId, string modality)
    {
        var stream = new StreamSpec
        {
            StreamId = streamId, Modality = modality, Model = "image-digits", FrameLength = 64, MaxFutureSkewUs = 3_600_000_000,
            IdleTimeout = TimeSpan.FromSeconds(30),
        };
        var session = new SessionSpec { SessionId = Session, Labels = Labels, Window = WindowSpec.Tumbling(1_000_000), Streams = [stream] };
        var resolved = new RegistryEncoderProvider(_models, Options).Resolve(stream, Labels.Length);
        Assert.NotNull(resolved.Drift);
        var alignment = CreateTestProbe();
        var props = StreamActor.Props(Session, stream, session, alignment.Ref, resolved, FastBackoff, clockOffsetUs: 0,
            time: TimeSources.Manual(new ManualClock(100_000_000), new FixedRandom(0)));
        return (Sys.ActorOf(props), alignment);
    }

    /// <summary>Sends one noisy camera frame per image, closes the stream and waits for every input's evidence.</summary>
    private List<double> Play(IActorRef stream, TestProbe alignment, string streamId, IReadOnlyList<AvDigitsItem> items)
    {
        var rng = new Random(11);
        for (var i = 0; i < items.Count; i++)
        {
            var image = items[i].Image.Select(v => (float)Math.Clamp(v + 0.05 * Gaussian(rng), 0, 1)).ToArray();
            stream.Tell(new Frame(Session, streamId, i, i * 100_000L, image), TestActor);
        }
        stream.Tell(new CloseStream(Session, streamId), TestActor);
        var drifts = new List<double>();
        while (drifts.Count < items.Count)
        {
            var batch = (AlignmentActor.EvidenceBatch)alignment.FishForMessage(m => m is AlignmentActor.EvidenceBatch { Evidence.Count: > 0 }, Wait);
            drifts.AddRange(batch.Evidence.Select(e => e.Drift));
        }
        return drifts;
    }

    private StreamDrift DriftOf(IActorRef stream) => stream.Ask<StreamStatus>(StreamActor.GetStatus.Instance, Wait).Result.Drift!;

    [Fact]
    public void A_stream_of_out_of_distribution_images_crosses_the_alert_threshold_once_and_an_in_distribution_one_does_not()
    {
        var ood = AvDigitsDataset.Load(AvDigitsDataset.FindSample(AvDigitsDataset.OodSampleName)).Items.Take(60).ToList();
        var id = Sample.Take(60).ToList();
        long alertsMeasured = 0;
        var driftsMeasured = 0;
        using var listener = new MeterListener();
        listener.InstrumentPublished = (i, l) =>
        {
            if (i.Meter.Name == FusionMetrics.MeterName && i.Name is "fusion.drift.alerts" or "fusion.drift") l.EnableMeasurementEvents(i);
        };
        listener.SetMeasurementEventCallback<long>((i, v, tags, _) =>
        {
            foreach (var t in tags)
                if (t.Key == "modality" && (string?)t.Value == "drift-ood") Interlocked.Add(ref alertsMeasured, v);
        });
        listener.SetMeasurementEventCallback<double>((i, _, tags, _) =>
        {
            foreach (var t in tags)
                if (t.Key == "modality" && (string?)t.Value == "drift-ood") Interlocked.Increment(ref driftsMeasured);
        });
        listener.Start();

        var (inStream, inAlignment) = Start("cam-id", "drift-id");
        var (oodStream, oodAlignment) = Start("cam-ood", "drift-ood");
        List<double> inDrifts = [], oodDrifts = [];
        // Exactly as many warnings as the stream raised alerts: once per crossing, not once per atypical input.
        EventFilter.Warning(contains: "is above the alert threshold").Expect(1, () =>
        {
            inDrifts = Play(inStream, inAlignment, "cam-id", id);
            oodDrifts = Play(oodStream, oodAlignment, "cam-ood", ood);
            AwaitAssert(() => Assert.Equal(ood.Count, DriftOf(oodStream).Scored), Wait);
        });

        Assert.All(inDrifts.Concat(oodDrifts), d => Assert.True(double.IsFinite(d) && d >= 0, $"drift {d}"));
        var inside = DriftOf(inStream);
        var outside = DriftOf(oodStream);
        Assert.Equal((id.Count, 0L, false), (inside.Scored, inside.Alerts, inside.Alerting));
        Assert.True(inside.Mean < Options.AlertThreshold, $"in-distribution window mean {inside.Mean}");
        Assert.Equal(1, outside.Alerts);
        Assert.True(outside.Alerting, $"OOD window mean {outside.Mean}");
        Assert.Equal(20, outside.Window);
        Assert.Equal(oodDrifts.TakeLast(20).Average(), outside.Mean, 9);
        Assert.Equal(oodDrifts[^1], outside.Last);
        Assert.True(oodDrifts.Count(d => d > Options.AlertThreshold) > 10, "many single inputs were above the threshold, but the alert was raised once");
        listener.RecordObservableInstruments();
        Assert.Equal(1, Interlocked.Read(ref alertsMeasured));
        Assert.Equal(ood.Count, Volatile.Read(ref driftsMeasured));
    }

    [Fact]
    public void A_model_without_drift_parameters_gives_a_stream_no_drift_status()
    {
        var stream = new StreamSpec { StreamId = "n", Modality = "image", Model = "noop", FrameLength = 64 };
        var resolved = new RegistryEncoderProvider(_models, Options).Resolve(stream, Labels.Length);
        Assert.Null(resolved.Drift);
        Assert.Null(resolved.DriftMonitoring);
    }

    private static double Gaussian(Random rng) => Math.Sqrt(-2 * Math.Log(1 - rng.NextDouble())) * Math.Cos(2 * Math.PI * rng.NextDouble());

    void IDisposable.Dispose()
    {
        _models.Dispose();
        Dispose();
    }
}
