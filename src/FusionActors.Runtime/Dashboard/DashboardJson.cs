using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Serialization;
using FusionActors.Protocol;

namespace FusionActors.Runtime.Dashboard;

/// <summary>
/// What the dashboard sends to the browser: small JSON shapes built from the session protocol's records (never the
/// records themselves, so nothing the page does not show, like embeddings or seals, leaves the node).
/// </summary>
internal static class DashboardJson
{
    /// <summary>Recent results a session's snapshot carries.</summary>
    public const int RecentResults = 64;

    public static readonly JsonSerializerOptions Options = new(JsonSerializerDefaults.Web)
    {
        // A NaN or an infinity is written as a string, which the page treats as absent.
        NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals,
        Converters = { new JsonStringEnumConverter() },
        Encoder = JavaScriptEncoder.Default,
    };

    public static byte[] Bytes(object value) => JsonSerializer.SerializeToUtf8Bytes(value, Options);

    public static object Error(string error, string detail) => new { kind = "error", error, detail };

    public static object ListRow(string node, SessionStatus s) => new
    {
        s.SessionId, node, policy = s.Fusion?.Policy, results = s.Fusion?.Results ?? 0, watermarkUs = s.Alignment?.WatermarkUs,
        streams = s.Streams.Select(t => new { t.StreamId, t.Modality, state = t.State }),
    };

    /// <summary>A session's status for the page: streams with their counters and drift, alignment, fusion and the recent results.</summary>
    public static object Status(SessionStatus s, bool withRecent) => new
    {
        s.SessionId, s.Open, s.Client,
        policy = s.Fusion?.Policy, results = s.Fusion?.Results ?? 0, noEvidence = s.Fusion?.NoEvidence ?? 0,
        windowsWithMissingModality = s.Fusion?.WindowsWithMissingModality ?? 0,
        alignment = s.Alignment is { } a
            ? new { a.WatermarkUs, a.WindowsClosed, a.Revisions, a.LateEvidence, a.BufferedEvidence, a.CommittedThroughUs }
            : null,
        streams = s.Streams.Select(t => new
        {
            t.StreamId, t.Modality, state = t.State, t.Reliability, t.WatermarkUs, t.PendingInputs,
            t.Counters.FramesIn, t.Counters.FramesAccepted, rejected = t.Counters.RejectedTotal, t.Counters.FramesLate,
            t.Counters.FramesTooLate, t.Counters.InputsShed, t.Counters.EncoderRestarts, t.Counters.Quarantined,
            t.Counters.EncodeMillisTotal, t.Counters.Batches,
            drift = t.Drift is { } d
                ? new { last = Finite(d.Last), mean = Finite(d.Mean), d.Window, d.Threshold, d.Alerting, d.Alerts, d.Scored }
                : null,
        }),
        recent = withRecent && s.Fusion is { } f ? f.Recent.TakeLast(RecentResults).Select(Result).ToArray() : null,
    };

    public static object Result(FusedResult r) => new
    {
        r.WindowStartUs, r.WindowEndUs, r.Revision, r.Status, r.TopClass, r.TopLabel, confidence = Finite(r.Confidence),
        posterior = r.Posterior.Select(Finite), r.Weights, r.Missing, r.Imputed, r.States, r.WatermarkLagUs, r.Policy, r.Uncertain,
    };

    public static object Event(object message) => message switch
    {
        FusedResult r => new { kind = "result", result = Result(r) },
        StreamStateChanged c => new { kind = "state", c.StreamId, from = c.From, to = c.To, c.Reason },
        LateEvidence l => new { kind = "late", l.StreamId, l.StartUs, l.LastSeq, l.WindowEndUs, l.SessionWatermarkUs },
        SessionClosed c => new { kind = "closed", c.SessionId },
        _ => new { kind = "unknown" },
    };

    private static double? Finite(double d) => double.IsFinite(d) ? d : null;
}
