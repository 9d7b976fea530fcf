using System.Diagnostics;
using System.Text.Json;
using System.Text.RegularExpressions;
using FusionActors.Scenarios.Push;
using FusionActors.Scenarios.Remote;
using Xunit;
using Xunit.Abstractions;

namespace FusionActors.Cluster.Tests;

/// <summary>
/// A sensor process frozen for 20 s (SIGSTOP: a suspended laptop, a long GC pause, a debugger) and then let go: its
/// session resumes within 30 s of SIGCONT and every frame it pushed is committed, its windows fused.
/// </summary>
[Collection(NodeProcessCollection.Name)]
public sealed partial class PausedClientSpec(ITestOutputHelper output)
{
    [GeneratedRegex(@"^\[\s*(\d+)s\] pushed (\d+), committed (\d+)")]
    private static partial Regex ProgressLine();

    [Fact]
    public async Task A_push_process_paused_for_20_s_resumes_within_30_s_of_SIGCONT_without_losing_a_frame()
    {
        var logs = Path.Combine(Path.GetTempPath(), $"fusion-paused-client-spec-{Guid.NewGuid():N}");
        var port = NodeProcess.FreePort();
        using var node = NodeProcess.Start(port, [port], logs);
        await node.WaitUpAsync(TimeSpan.FromSeconds(90));

        var report = Path.Combine(logs, "push.json");
        var committedBeforePause = new TaskCompletionSource<long>(TaskCreationOptions.RunContinuationsAsynchronously);
        var resumed = new TaskCompletionSource<TimeSpan>(TaskCreationOptions.RunContinuationsAsynchronously);
        long pausedAt = -1;
        var sinceCont = new Stopwatch();
        var pushLog = new StreamWriter(Path.Combine(logs, "push.log")) { AutoFlush = true };
        using var push = HostProcess.Start(
            ["push", "--to", $"127.0.0.1:{port}", "--session", $"paused-{Guid.NewGuid():N}"[..15], "--seconds", "40", "--report", report],
            "pushing",
            line =>
            {
                lock (pushLog) pushLog.WriteLine(line);
                var m = ProgressLine().Match(line);
                if (!m.Success) return;
                var (second, committed) = (int.Parse(m.Groups[1].Value), long.Parse(m.Groups[3].Value));
                if (second >= 10 && committed > 0) committedBeforePause.TrySetResult(committed);
                // The first progress after SIGCONT that shows more frames committed than before the pause.
                if (sinceCont.IsRunning && committed > Interlocked.Read(ref pausedAt)) resumed.TrySetResult(sinceCont.Elapsed);
            },
            workingDirectory: NodeProcess.RepoRoot());
        await push.WaitUpAsync(TimeSpan.FromSeconds(90));

        var before = await committedBeforePause.Task.WaitAsync(TimeSpan.FromSeconds(90));
        push.Pause(stop: true);
        Interlocked.Exchange(ref pausedAt, before);
        await Task.Delay(TimeSpan.FromSeconds(20)); // the fault: 20 s frozen
        sinceCont.Start();
        push.Pause(stop: false);

        var resumeAfter = await resumed.Task.WaitAsync(TimeSpan.FromSeconds(90));
        var exit = await push.WaitExitAsync(TimeSpan.FromSeconds(180));
        lock (pushLog) pushLog.Dispose();
        output.WriteLine($"committed {before} before the pause; more committed {resumeAfter.TotalSeconds:0.0} s after SIGCONT; push exit {exit}; logs in {logs}");
        Assert.Equal(0, exit);
        var r = JsonSerializer.Deserialize<PushReport>(await File.ReadAllTextAsync(report), FailoverScenario.Json)!;
        output.WriteLine($"frames {r.FramesCommitted}/{r.FramesSent}, windows {r.WindowsFused}/{r.WindowsExpected}, reopened {r.Resumes}x");
        Assert.True(resumeAfter < TimeSpan.FromSeconds(30), $"the session resumed {resumeAfter.TotalSeconds:0.0} s after SIGCONT");
        Assert.Equal(r.FramesSent, r.FramesCommitted);
        Assert.Equal(40 * 60, r.FramesSent);
        Assert.Equal(r.WindowsExpected, r.WindowsFused);
        Assert.False(node.Exited);
        await node.StopAsync(TimeSpan.FromSeconds(20));
        Directory.Delete(logs, recursive: true);
    }
}
