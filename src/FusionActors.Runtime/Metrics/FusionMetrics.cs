using System.Diagnostics.Metrics;
using FusionActors.Core.Alignment;
using FusionActors.Core.Fusion.Policies;
using FusionActors.Core.Streams;
using FusionActors.Protocol;

namespace FusionActors.Runtime.Metrics;

/// <summary>
/// The node's instruments (Meter "FusionActors"). Actors call these one-liners where their own counters
/// change; with no listener attached an instrument call is a cheap no-op. Tags are low-cardinality on
/// purpose (modality, reason, policy, state): per-session numbers are in <c>fusionctl streams show</c>.
/// </summary>
public static class FusionMetrics
{
    public const string MeterName = "FusionActors";

    public static readonly Meter Meter = new(MeterName, typeof(FusionMetrics).Assembly.GetName().Version?.ToString());

    private static readonly string[] ReasonNames = Enum.GetNames<RejectReason>();
    private static readonly string[] StatusNames = Enum.GetNames<FusedStatus>();

    public static readonly Counter<long> FramesIn = Meter.CreateCounter<long>("fusion.frames.in", "{frame}", "Frames received by stream actors");
    public static readonly Counter<long> FramesRejected = Meter.CreateCounter<long>("fusion.frames.rejected", "{frame}", "Frames refused, by reason");
    public static readonly Counter<long> FramesLate = Meter.CreateCounter<long>("fusion.frames.late", "{frame}", "Frames behind their stream watermark");
    public static readonly Counter<long> FramesTooLate = Meter.CreateCounter<long>("fusion.frames.too_late", "{frame}", "Late frames past the allowed lateness (side output)");
    public static readonly Counter<long> InputsShed = Meter.CreateCounter<long>("fusion.inputs.shed", "{input}", "Encoder inputs dropped by overflow or a failed stream");
    public static readonly Counter<long> DeliveryShed = Meter.CreateCounter<long>("fusion.delivery.shed", "{item}",
        "Frames (stage=frame) and encoder inputs (stage=input) shed for time by a latency-constrained session, by modality");
    public static readonly Histogram<double> EncoderDuration = Meter.CreateHistogram<double>("fusion.encoder.duration", "ms", "Time the encoder took for one batch");
    public static readonly Counter<long> InputsEncoded = Meter.CreateCounter<long>("fusion.inputs.encoded", "{input}", "Encoder inputs turned into evidence");
    public static readonly Counter<long> CacheHits = Meter.CreateCounter<long>("fusion.encoder.cache.hits", "{input}",
        "Encoder inputs that repeated an encoded one exactly and got its evidence without the model (counted in fusion.inputs.encoded too)");
    public static readonly Counter<long> CacheMisses = Meter.CreateCounter<long>("fusion.encoder.cache.misses", "{input}",
        "Encoder inputs of streams with a repeat cache that went to the model");
    public static readonly Counter<long> EncoderFailures = Meter.CreateCounter<long>("fusion.encoder.failures", "{failure}", "Encoder crashes");
    public static readonly Counter<long> EncoderRestarts = Meter.CreateCounter<long>("fusion.encoder.restarts", "{restart}", "Encoder restarts after a crash");
    public static readonly Counter<long> Quarantined = Meter.CreateCounter<long>("fusion.inputs.quarantined", "{input}", "Inputs skipped after repeated encoder failures");
    public static readonly Counter<long> Results = Meter.CreateCounter<long>("fusion.results", "{result}", "Fused results, by policy and status");
    public static readonly Gauge<double> Weight = Meter.CreateGauge<double>("fusion.weight", null, "Normalised weight of a modality in the latest fused result");
    public static readonly Histogram<double> WatermarkLag = Meter.CreateHistogram<double>("fusion.watermark.lag", "ms", "Session watermark lag behind the session clock when a window is fused");
    public static readonly Histogram<double> WindowLatency = Meter.CreateHistogram<double>("fusion.window.latency", "ms",
        "End-to-end latency: from a window's end on the session clock to its first decision");
    public static readonly Counter<long> GarbageConnections = Meter.CreateCounter<long>("fusion.remoting.garbage_connections", "{connection}",
        "Connections to the remoting port that did not speak Akka.Remote (their decoder errors are summarized, not logged one by one)");
    public static readonly Counter<long> Refused = Meter.CreateCounter<long>("fusion.security.refused", "{message}",
        "Session operations from the wire refused for want of a capability or operator credential, by message type");
    public static readonly Histogram<double> Drift = Meter.CreateHistogram<double>("fusion.drift", null,
        "Drift of each scored encoder input (0 = typical of training, 1 = the validation split's 95th percentile)");
    public static readonly Gauge<double> InputDrift = Meter.CreateGauge<double>("fusion.drift.input", null,
        "A stream's mean drift over its sliding window, as of its latest batch (by modality: the latest stream to report)");
    public static readonly Counter<long> DriftAlerts = Meter.CreateCounter<long>("fusion.drift.alerts", "{alert}",
        "Times a stream's input drift went over the alert threshold (once per crossing)");
    public static readonly Histogram<long> BatcherCallSize = Meter.CreateHistogram<long>("fusion.batcher.call.size", "{input}",
        "Inputs in one shared model call of the node's encoder batcher (inputs of many sessions)", advice: new InstrumentAdvice<long>
        {
            HistogramBucketBoundaries = [1, 2, 4, 8, 16, 32, 64, 128],
        });
    public static readonly ObservableCounter<long> TraceContextsIgnored = Meter.CreateObservableCounter("fusion.trace_context.ignored",
        () => W3CTraceContext.Ignored, "{frame}", "Traceparents received on frames and ignored because they were not valid W3C trace contexts");
    public static readonly Counter<long> ModelReloads = Meter.CreateCounter<long>("fusion.models.reloads", "{model}",
        "Models a reload looked at, by model and outcome (loaded, added, removed, failed, unchanged)");
    public static readonly Counter<long> ModelSwitches = Meter.CreateCounter<long>("fusion.models.switches", "{stream}",
        "Running streams moved to their model's new version after a reload, by model");
    public static readonly Counter<long> EncodersFreed = Meter.CreateCounter<long>("fusion.models.freed", "{encoder}",
        "Retired model versions closed after their last stream moved on or stopped, by model");
    public static readonly UpDownCounter<long> ActiveSessions = Meter.CreateUpDownCounter<long>("fusion.sessions.active", "{session}", "Open sessions on this node");

    private static KeyValuePair<string, object?> Modality(string modality) => new("modality", modality);

    /// <summary>Distinct modality names the node's metrics carry: they come from clients' specs, so they are bounded.</summary>
    public const int MaxModalityTags = 64;

    private static readonly BoundedTags ModalityTags = new(MaxModalityTags);

    /// <summary>
    /// The tag a modality's measurements carry: its name, or "other" once <see cref="MaxModalityTags"/> names are in
    /// use, so that clients naming new modalities cannot grow the metric totals (and a Prometheus scrape) without end.
    /// Callers on a hot path look it up once (a stream actor at start).
    /// </summary>
    public static string TagFor(string modality) => ModalityTags.For(modality);

    public static void FrameIn(string modality) => FramesIn.Add(1, Modality(modality));

    public static void FrameRejected(string modality, RejectReason reason) =>
        FramesRejected.Add(1, Modality(modality), new("reason", ReasonNames[(int)reason]));

    public static void FrameLate(string modality) => FramesLate.Add(1, Modality(modality));

    public static void FrameTooLate(string modality) => FramesTooLate.Add(1, Modality(modality));

    public static void Shed(string modality, long inputs)
    {
        if (inputs > 0) InputsShed.Add(inputs, Modality(modality));
    }

    /// <summary>Items shed over a latency budget (docs/design.md, "Delivery"): frames when they were taken, or inputs when their turn came.</summary>
    public static void ShedOverBudget(string modality, bool frames, long items)
    {
        if (items > 0) DeliveryShed.Add(items, Modality(modality), new("stage", frames ? "frame" : "input"));
    }

    public static void Encoded(string modality, double millis, int inputs)
    {
        EncoderDuration.Record(millis, Modality(modality));
        InputsEncoded.Add(inputs, Modality(modality));
    }

    /// <summary>Inputs of a stream given evidence from its repeat cache: turned into evidence, without a model call.</summary>
    public static void CacheHit(string modality, int inputs)
    {
        CacheHits.Add(inputs, Modality(modality));
        InputsEncoded.Add(inputs, Modality(modality));
    }

    public static void CacheMiss(string modality, int inputs) => CacheMisses.Add(inputs, Modality(modality));

    public static void EncoderFailed(string modality) => EncoderFailures.Add(1, Modality(modality));

    public static void EncoderRestarted(string modality) => EncoderRestarts.Add(1, Modality(modality));

    public static void InputQuarantined(string modality) => Quarantined.Add(1, Modality(modality));

    public static void Drifted(string modality, double drift) => Drift.Record(drift, Modality(modality));

    public static void WindowDrift(string modality, double mean) => InputDrift.Record(mean, Modality(modality));

    public static void DriftAlert(string modality) => DriftAlerts.Add(1, Modality(modality));

    /// <param name="first">Whether it is the window's first decision (weights and watermark lag are recorded for that one only).</param>
    public static void Fused(FusedResult result, bool first)
    {
        Results.Add(1, new("policy", PolicyKind(result.Policy)), new("status", StatusNames[(int)result.Status]));
        if (!first) return;
        // FusionEngine's weights are a Dictionary: enumerated as one, its enumerator is not boxed for every result.
        if (result.Weights is Dictionary<string, double> weights)
            foreach (var (modality, weight) in weights) Weight.Record(weight, Modality(TagFor(modality)));
        else
            foreach (var (modality, weight) in result.Weights) Weight.Record(weight, Modality(TagFor(modality)));
        WatermarkLag.Record(result.WatermarkLagUs / 1000.0);
    }

    /// <summary>Windows the alignment closed, at <paramref name="sessionNowUs"/> on the session clock.</summary>
    public static void WindowsClosed(IReadOnlyList<AlignedWindow> windows, long sessionNowUs)
    {
        if (!WindowLatency.Enabled) return;
        for (var i = 0; i < windows.Count; i++) // not foreach: through the interface its enumerator is an allocation per call
            if (windows[i].IsFirstEmission) WindowLatency.Record(Math.Max(0, sessionNowUs - windows[i].EndUs) / 1000.0);
    }

    /// <summary>A shared model call of the batcher ran <paramref name="inputs"/> inputs.</summary>
    public static void BatcherCall(int inputs) => BatcherCallSize.Record(inputs);

    /// <param name="model">A model of the node's models.json (the operator's file: a bounded set).</param>
    public static void ModelReloaded(string model, string outcome) =>
        ModelReloads.Add(1, new KeyValuePair<string, object?>("model", model), new KeyValuePair<string, object?>("outcome", outcome));

    public static void ModelSwitched(string model) => ModelSwitches.Add(1, new KeyValuePair<string, object?>("model", model));

    public static void EncoderFreed(string model) => EncodersFreed.Add(1, new KeyValuePair<string, object?>("model", model));

    public static void SessionOpened() => ActiveSessions.Add(1);

    public static void GarbageConnection() => GarbageConnections.Add(1);

    /// <param name="message">A protocol type name: a bounded set.</param>
    public static void Unauthorized(string message) => Refused.Add(1, new KeyValuePair<string, object?>("message", message));

    public static void SessionClosed() => ActiveSessions.Add(-1);

    // "single:audio" would make one series per modality name; the kind is what dashboards group by.
    private static string PolicyKind(string policy) => WeightingPolicies.KindName(policy);
}
