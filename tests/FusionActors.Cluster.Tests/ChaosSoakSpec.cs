using FusionActors.Soak;
using Xunit;
using Xunit.Abstractions;

namespace FusionActors.Cluster.Tests;

/// <summary>The soak runs alone: the other specs' node processes would share its two cores and stretch every failover.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class SoakCollection
{
    public const string Name = "chaos soak";
}

/// <summary>
/// Node and sensor processes that pause, kill and restart each other on a timing that matters: each of these specs
/// runs alone, after the specs that run in parallel.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class NodeProcessCollection
{
    public const string Name = "node processes, one spec at a time";
}

/// <summary>
/// Two minutes of the chaos soak (105 s of pushing and the drain after it): three node processes behind loopback proxies, eight push processes and the in-process
/// probe, with kills of a session's node, SIGSTOP pauses and a 10 s partition on a seeded schedule.
/// </summary>
/// <summary>
/// Part of every test run; <c>FUSION_CHAOS_SOAK=0</c> skips it (a quick local run of the other specs).
/// </summary>
public sealed class ChaosSoakFactAttribute : FactAttribute
{
    public ChaosSoakFactAttribute()
    {
        if (Environment.GetEnvironmentVariable("FUSION_CHAOS_SOAK") == "0")
            Skip = "FUSION_CHAOS_SOAK=0 skips the two-minute chaos soak (./build.sh chaos-soak runs the full one)";
    }
}

[Collection(SoakCollection.Name)]
public sealed class ChaosSoakSpec(ITestOutputHelper output)
{
    [ChaosSoakFact]
    public async Task Two_minutes_of_kills_pauses_and_a_partition_lose_no_frame_and_deliver_no_result_twice()
    {
        // 105 s of pushing hold five fault slots (15 s apart, none in the last 20 s; kills in the even ones): the first
        // seed whose other three include the partition. The drain after them (sessions reopening in a storm finish
        // late) keeps the wall time near 2.5 minutes.
        var seed = Enumerable.Range(1, 100).First(s => SoakRunner.Schedule(s).Take(5).Contains(FaultKind.Partition10));
        var logs = Path.Combine(Path.GetTempPath(), $"fusion-soak-spec-{Guid.NewGuid():N}");
        var report = await SoakRunner.RunAsync(new SoakRunner.Options
        {
            Minutes = 1.75,
            Seed = seed,
            LogDir = logs,
            Progress = output.WriteLine,
        });
        output.WriteLine(report.ToJson());

        var why = $"{string.Join("; ", report.Failures)} (logs in {logs})";
        Assert.Equal(0, report.FramesLost);
        Assert.Equal(report.FramesSent, report.FramesCommitted);
        Assert.Equal(0, report.DuplicateResultsDelivered);
        // Every push process that opened its session finished with its report (all its frames committed), and so did
        // the probe. Windows closed on the clock during a pause are revised when their frames arrive; a few can still
        // end as NoEvidence when two incarnations of a session overlap after a pause (a known gap, docs/operations.md),
        // so here the windows are held to 95 %, not to every one: `chaos-soak` itself still fails on a single one.
        Assert.DoesNotContain(report.Failures, f => !f.Contains("windows missing", StringComparison.Ordinal));
        Assert.True(report.WindowsFused >= 0.95 * report.WindowsExpected,
            $"{report.WindowsMissing} of {report.WindowsExpected} windows missing: {why}");
        output.WriteLine($"windows fused {report.WindowsFused} of {report.WindowsExpected}");
        // No storm of reopens: a session reopens after each fault that hit its node, and backs off when a reopen
        // fails at once.
        Assert.All(report.Rounds, r => Assert.True(r.Resumes <= 40, $"{r.SessionId} reopened {r.Resumes} times"));
        Assert.True(report.Rounds.Count(r => r.DuplicateResultsDelivered is null && r.Reported) >= 8, why);
        Assert.Contains(report.Rounds, r => r.DuplicateResultsDelivered is not null && r.Reported);
        Assert.True(report.FramesSent > 8 * 60 * 60, $"only {report.FramesSent} frames were sent");
        // The faults happened: kills and the partition at least, and the killed nodes came back.
        Assert.True(report.FaultsByKind.GetValueOrDefault("kill") >= 2, why);
        Assert.Equal(1, report.FaultsByKind.GetValueOrDefault("partition-10s"));
        Assert.True(report.NodeRestarts >= report.FaultsByKind["kill"], $"{report.NodeRestarts} restarts for {report.FaultsByKind["kill"]} kills");
        Assert.True(report.ResumeSeconds.Count > 0, "no session reopened after a fault");
        Directory.Delete(logs, recursive: true);
    }
}
