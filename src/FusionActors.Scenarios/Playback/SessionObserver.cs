using System.Threading.Channels;
using Akka.Actor;
using FusionActors.Inference.Data;
using FusionActors.Core.Streams;
using FusionActors.Core.Time;
using FusionActors.Protocol;
using FusionActors.Scenarios.Faults;

namespace FusionActors.Scenarios.Playback;

/// <summary>
/// Follows one played session: keeps the latest revision of each window's fused result, the rejections
/// the player got back, state changes and late evidence; prints them live when asked to.
/// </summary>
public sealed class SessionObserver(string sessionId, IActorRef actor, ChannelReader<object> reader, IReadOnlyList<AvDigitsItem> items, SensorFaults plan, bool print)
{
    private readonly Dictionary<long, FusedResult> _windows = new();
    private readonly object _gate = new();

    public string SessionId => sessionId;
    public IActorRef Actor => actor;
    public long ResultsReceived { get; private set; }
    public long Revisions { get; private set; }
    public long LateEvidence { get; private set; }
    public List<FrameRejected> Rejections { get; } = [];
    public List<StreamStateChanged> StateChanges { get; } = [];

    public IReadOnlyDictionary<long, FusedResult> Windows
    {
        get { lock (_gate) return new Dictionary<long, FusedResult>(_windows); }
    }

    public int LabelOf(long windowStartUs) => items[(int)(windowStartUs / 1_000_000)].Label;

    public async Task RunAsync(CancellationToken cancel)
    {
        await foreach (var m in reader.ReadAllAsync(cancel))
        {
            switch (m)
            {
                case FusedResult r:
                    lock (_gate)
                    {
                        ResultsReceived++;
                        if (r.Revision > 0) Revisions++;
                        if (!_windows.TryGetValue(r.WindowStartUs, out var prev) || prev.Revision < r.Revision) _windows[r.WindowStartUs] = r;
                    }
                    if (print) PrintResult(r);
                    break;
                case StreamStateChanged s:
                    StateChanges.Add(s);
                    if (print) System.Console.WriteLine($"          stream {s.StreamId,-7} {s.From} -> {s.To}: {s.Reason}");
                    break;
                case FrameRejected x:
                    Rejections.Add(x);
                    if (print) System.Console.WriteLine($"          rejected {x.StreamId}#{x.Seq}: {x.Reason} ({x.Detail})");
                    break;
                case FusionActors.Protocol.LateEvidence:
                    LateEvidence++;
                    break;
            }
        }
    }

    /// <summary>Waits until every window of the played items has a result.</summary>
    public async Task WaitForWindowsAsync(int count, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (DateTime.UtcNow < deadline)
        {
            lock (_gate)
                if (Enumerable.Range(0, count).All(i => _windows.ContainsKey(i * 1_000_000L))) return;
            await Task.Delay(50);
        }
    }

    public void Complete() => actor.Tell(PoisonPill.Instance);

    private void PrintResult(FusedResult r)
    {
        var k = (int)(r.WindowStartUs / 1_000_000);
        if (k < 0 || k >= items.Count) return;
        var label = items[k].Label;
        var mark = r.TopClass == label ? "ok " : "ERR";
        var weights = string.Join(" ", r.Weights.Select(w => $"{w.Key}={w.Value:0.00}"));
        var states = string.Join(" ", r.States.Select(s => $"{s.Key}:{s.Value}"));
        var faults = (plan.InOutage(k + 0.5) ? " [camera outage]" : "") + (plan.InNoise(k + 0.5) ? " [audio noise]" : "");
        var missing = r.Missing.Count > 0 ? $" missing:{string.Join(",", r.Missing)}" : "";
        if (r.Gates.Count > 0) missing += " gate:" + string.Join(",", r.Gates.Select(g => $"{g.Key}={g.Value:0.00}"));
        var top = r.TopClass >= 0 ? r.TopClass.ToString() : "-";
        System.Console.WriteLine($"[{EventTime.ToSeconds(r.WindowStartUs),5:0}s] rev {r.Revision} label {label} fused {top} {mark} p={r.Confidence:0.00} w: {weights,-24} {states}{missing}{faults}");
    }
}
