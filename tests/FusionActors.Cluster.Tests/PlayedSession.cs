using FusionActors.Client;
using FusionActors.Inference.Data;
using FusionActors.Scenarios;
using FusionActors.Scenarios.Faults;
using FusionActors.Scenarios.Playback;
using Xunit;
using Xunit.Abstractions;

namespace FusionActors.Cluster.Tests;

/// <summary>
/// An AV-Digits session a client plays in real time through the nodes while a spec breaks them (the first items of the
/// committed sample, clean camera), its results tallied as they come; <see cref="FinishAsync"/> is the ending the specs
/// share: the play done, every frame committed, every window given a result.
/// </summary>
internal sealed class PlayedSession : IAsyncDisposable
{
    private readonly CancellationTokenSource _stopReading = new();
    private readonly ResultTally _tally;
    private readonly Task _reading;
    private readonly Task _playing;

    private PlayedSession(FusionSession session, string id, AvDigitsItem[] items)
    {
        Session = session;
        _tally = new ResultTally(items);
        _reading = _tally.RunAsync(session, _stopReading.Token);
        _playing = new SessionPlayer(session).PlayAsync(
            Timeline.Build(id, items, new SensorFaults { CameraNoiseSigma = SensorFaults.CleanCameraNoise }), CancellationToken.None);
    }

    public FusionSession Session { get; }

    /// <summary>Opens a session named <paramref name="prefix"/> and a random suffix on <paramref name="client"/> and starts playing <paramref name="items"/> items into it.</summary>
    public static async Task<PlayedSession> StartAsync(FusionClient client, string prefix, int items)
    {
        var id = $"{prefix}-{Guid.NewGuid():N}"[..16];
        var session = await client.OpenSessionAsync(AvDigitsSession.Spec(id));
        return new PlayedSession(session, id, AvDigitsDataset.LoadSample().Items.Take(items).ToArray());
    }

    /// <summary>
    /// Waits for the play to end and everything to commit, prints the client's account (opens, resumes, windows), and
    /// asserts that no frame and no window was lost: every frame pushed committed, every window given a result.
    /// </summary>
    public async Task<(SessionStats Stats, ResultTally.Summary Summary)> FinishAsync(ITestOutputHelper output, string logs)
    {
        await _playing;
        await Session.WaitCommittedAsync(long.MaxValue, TimeSpan.FromSeconds(120));
        var stats = Session.Stats;
        output.WriteLine($"opens {stats.Opens}, disconnects {stats.Disconnects}, resumes " +
                         $"{string.Join("; ", stats.Resumes.Select(r => $"{r.Gap.TotalSeconds:0.0}s on {r.Node}, {r.EntriesReplayed} replayed"))}; logs in {logs}");
        await _stopReading.CancelAsync();
        await _reading;
        var summary = _tally.Summarize();
        output.WriteLine($"windows fused {summary.WindowsFused}/{summary.WindowsExpected}, results {summary.ResultsReceived}, " +
                         $"duplicates dropped {stats.DuplicateResultsDropped}");
        Assert.Equal(stats.FramesPushed, stats.FramesCommitted);
        Assert.Equal(0, stats.Uncommitted);
        Assert.Empty(summary.MissingWindows);
        Assert.Equal(summary.WindowsExpected, summary.WindowsWithResult);
        return (stats, summary);
    }

    public async ValueTask DisposeAsync()
    {
        await _stopReading.CancelAsync();
        _stopReading.Dispose();
        await Session.DisposeAsync();
    }
}
