using FusionActors.Client;
using FusionActors.Inference.Data;
using FusionActors.Core.Streams;
using FusionActors.Protocol;

namespace FusionActors.Scenarios.Playback;

/// <summary>Reads a remote session's results and keeps the latest revision of each window, to score against the played items.</summary>
public sealed class ResultTally(IReadOnlyList<AvDigitsItem> items)
{
    private readonly object _gate = new();
    private readonly Dictionary<long, FusedResult> _windows = new();
    private long _received;

    public Task RunAsync(FusionSession session, CancellationToken cancel) => Task.Run(async () =>
    {
        try
        {
            await foreach (var r in session.Results.WithCancellation(cancel))
                lock (_gate)
                {
                    _received++;
                    if (!_windows.TryGetValue(r.WindowStartUs, out var prev) || prev.Revision < r.Revision) _windows[r.WindowStartUs] = r;
                }
        }
        catch (OperationCanceledException)
        {
        }
    }, CancellationToken.None);

    public Summary Summarize()
    {
        lock (_gate)
        {
            int fused = 0, noEvidence = 0, missing = 0, correct = 0, labelled = 0;
            for (var i = 0; i < items.Count; i++)
            {
                if (!_windows.TryGetValue(i * 1_000_000L, out var r)) continue;
                if (r.Status == FusedStatus.NoEvidence)
                {
                    noEvidence++;
                    continue;
                }
                fused++;
                if (r.Missing.Count > 0) missing++;
                labelled++;
                if (r.TopClass == items[i].Label) correct++;
            }
            var absent = Enumerable.Range(0, items.Count).Where(i => !_windows.ContainsKey(i * 1_000_000L)).ToArray();
            return new Summary(items.Count, _windows.Count(kv => kv.Key < items.Count * 1_000_000L), fused, noEvidence, missing,
                labelled == 0 ? 0 : (double)correct / labelled, _received, absent);
        }
    }

    /// <param name="WindowsWithResult">Windows of the played items that got any result (fused or NoEvidence).</param>
    /// <param name="WindowsFused">Windows decided on evidence.</param>
    /// <param name="MissingWindows">Indexes of played windows without any result.</param>
    public sealed record Summary(int WindowsExpected, int WindowsWithResult, int WindowsFused, int WindowsNoEvidence, int WindowsWithMissingModality,
        double Accuracy, long ResultsReceived, int[] MissingWindows);
}
