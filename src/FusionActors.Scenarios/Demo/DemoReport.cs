using System.Text.Json;
using System.Text.Json.Serialization;
using FusionActors.Core.Streams;
using FusionActors.Protocol;
using FusionActors.Scenarios.Faults;
using FusionActors.Scenarios.Playback;

namespace FusionActors.Scenarios.Demo;

/// <summary>What the demo measured; written as JSON with --report.</summary>
public sealed record DemoReport
{
    public static readonly JsonSerializerOptions Json = new()
    {
        WriteIndented = true,
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        Converters = { new JsonStringEnumConverter() },
    };

    public int Seconds { get; init; }
    public int Windows { get; init; }
    public long FusedResults { get; init; }
    public long Revisions { get; init; }
    public double Accuracy { get; init; }
    public double AccuracyDuringOutage { get; init; }
    public double AccuracyDuringNoise { get; init; }
    public double AudioOnlyAccuracy { get; init; }
    public double ImageOnlyAccuracy { get; init; }
    public long EncoderRestarts { get; init; }
    public long Quarantined { get; init; }
    public long FramesLate { get; init; }
    public long FramesTooLate { get; init; }
    public long FramesRejected { get; init; }
    public IReadOnlyDictionary<string, long> RejectedByReason { get; init; } = new Dictionary<string, long>();
    public long WindowsWithMissingModality { get; init; }
    public long NoEvidenceWindows { get; init; }
    public long LateEvidence { get; init; }
    public IReadOnlyList<string> StateChanges { get; init; } = [];
    public IReadOnlyList<WindowRow> Results { get; init; } = [];

    public sealed record WindowRow(int Window, int Label, int Fused, bool Correct, int Revision, double Confidence,
        IReadOnlyDictionary<string, double> Weights, IReadOnlyList<string> Missing, string Faults)
    {
        /// <summary>The gate factor applied to each gated modality in the window (<see cref="FusedResult.Gates"/>); empty without gates.</summary>
        public IReadOnlyDictionary<string, double> Gates { get; init; } = new Dictionary<string, double>();
    }

    public static DemoReport Build(int seconds, SensorFaults plan, SessionObserver demo, SessionStatus status, SessionObserver audioOnly, SessionObserver imageOnly)
    {
        var windows = demo.Windows;
        var rows = new List<WindowRow>();
        for (var k = 0; k < seconds; k++)
        {
            var label = demo.LabelOf(k * 1_000_000L);
            var faults = (plan.InOutage(k + 0.5) ? "camera-outage " : "") + (plan.InNoise(k + 0.5) ? "audio-noise" : "");
            if (windows.TryGetValue(k * 1_000_000L, out var r))
                rows.Add(new WindowRow(k, label, r.TopClass, r.TopClass == label, r.Revision, Math.Round(r.Confidence, 4),
                    r.Weights.ToDictionary(w => w.Key, w => Math.Round(w.Value, 4)), r.Missing, faults.Trim())
                {
                    Gates = r.Gates.ToDictionary(g => g.Key, g => Math.Round(g.Value, 4)),
                });
            else
                rows.Add(new WindowRow(k, label, -1, false, -1, 0, new Dictionary<string, double>(), ["no result"], faults.Trim()));
        }
        var rejected = status.Streams.SelectMany(s => s.Counters.Rejected)
            .Concat(demo.Rejections.Where(r => r.Reason == RejectReason.UnknownStream).GroupBy(_ => RejectReason.UnknownStream)
                .Select(g => new KeyValuePair<RejectReason, long>(g.Key, g.LongCount())))
            .GroupBy(kv => kv.Key.ToString())
            .ToDictionary(g => g.Key, g => g.Sum(kv => kv.Value));
        return new DemoReport
        {
            Seconds = seconds,
            Windows = rows.Count,
            FusedResults = demo.ResultsReceived,
            Revisions = demo.Revisions,
            Accuracy = AccuracyOfRows(rows),
            AccuracyDuringOutage = AccuracyOfRows(rows.Where(r => r.Faults.Contains("camera-outage"))),
            AccuracyDuringNoise = AccuracyOfRows(rows.Where(r => r.Faults.Contains("audio-noise"))),
            AudioOnlyAccuracy = AccuracyOf(audioOnly, seconds),
            ImageOnlyAccuracy = AccuracyOf(imageOnly, seconds),
            EncoderRestarts = status.Streams.Sum(s => s.Counters.EncoderRestarts),
            Quarantined = status.Streams.Sum(s => s.Counters.Quarantined),
            FramesLate = status.Streams.Sum(s => s.Counters.FramesLate),
            FramesTooLate = status.Streams.Sum(s => s.Counters.FramesTooLate),
            FramesRejected = demo.Rejections.Count,
            RejectedByReason = rejected,
            WindowsWithMissingModality = rows.Count(r => r.Missing.Count > 0),
            NoEvidenceWindows = windows.Values.Count(r => r.Status == FusedStatus.NoEvidence),
            LateEvidence = demo.LateEvidence,
            StateChanges = demo.StateChanges.Select(s => $"{s.StreamId}: {s.From} -> {s.To} ({s.Reason})").ToArray(),
            Results = rows,
        };
    }

    private static double AccuracyOfRows(IEnumerable<WindowRow> rows)
    {
        var list = rows.ToList();
        return list.Count == 0 ? double.NaN : Math.Round(list.Count(r => r.Correct) / (double)list.Count, 4);
    }

    private static double AccuracyOf(SessionObserver o, int seconds)
    {
        var w = o.Windows;
        var correct = Enumerable.Range(0, seconds).Count(k => w.TryGetValue(k * 1_000_000L, out var r) && r.TopClass == o.LabelOf(k * 1_000_000L));
        return Math.Round(correct / (double)seconds, 4);
    }

    public static void Print(DemoReport r)
    {
        System.Console.WriteLine();
        System.Console.WriteLine("summary");
        System.Console.WriteLine($"  windows {r.Windows}, fused results {r.FusedResults} ({r.Revisions} revisions), no-evidence windows {r.NoEvidenceWindows}");
        System.Console.WriteLine($"  accuracy adaptive {r.Accuracy:P1}   during camera outage {r.AccuracyDuringOutage:P1}   during audio noise {r.AccuracyDuringNoise:P1}");
        System.Console.WriteLine($"  same frames, single modality: audio-only {r.AudioOnlyAccuracy:P1}, image-only {r.ImageOnlyAccuracy:P1}");
        System.Console.WriteLine($"  encoder restarts {r.EncoderRestarts}, quarantined {r.Quarantined}, frames late {r.FramesLate} (too late {r.FramesTooLate}), late evidence {r.LateEvidence}");
        System.Console.WriteLine($"  frames rejected {r.FramesRejected}: {string.Join(", ", r.RejectedByReason.Select(kv => $"{kv.Key}={kv.Value}"))}");
        System.Console.WriteLine($"  windows with a missing modality {r.WindowsWithMissingModality}");
    }
}
