using FusionActors.Client;
using FusionActors.Inference.Data;
using FusionActors.Scenarios;
using FusionActors.Scenarios.Faults;
using FusionActors.Scenarios.Playback;
using FusionActors.Scenarios.Remote;
using Xunit;
using Xunit.Abstractions;

namespace FusionActors.Cluster.Tests;

/// <summary>
/// A node SIGKILLed and started again at the same address (same port, a new actor system): a client whose session
/// lived there resumes on the new incarnation once, not in a storm of reopens, and loses no frame.
/// </summary>
[Collection(NodeProcessCollection.Name)]
public sealed class NodeRestartSpec(ITestOutputHelper output)
{
    [Fact]
    public async Task A_client_resumes_on_a_node_restarted_at_its_own_address_without_a_storm_of_reopens()
    {
        var logs = Path.Combine(Path.GetTempPath(), $"fusion-restart-spec-{Guid.NewGuid():N}");
        var port = NodeProcess.FreePort();
        var node = NodeProcess.Start(port, [port], logs);
        NodeProcess? again = null;
        try
        {
            await node.WaitUpAsync(TimeSpan.FromSeconds(90));
            var items = AvDigitsDataset.LoadSample().Items.Take(24).ToArray();
            await using var client = await FusionClient.ConnectAsync(new FusionClientOptions { Contacts = [$"127.0.0.1:{port}"] });
            var id = $"restart-{Guid.NewGuid():N}"[..16];
            await using var session = await client.OpenSessionAsync(AvDigitsSession.Spec(id));
            var tally = new ResultTally(items);
            using var stopReading = new CancellationTokenSource();
            var reading = tally.RunAsync(session, stopReading.Token);
            var player = new SessionPlayer(session);
            var playing = player.PlayAsync(Timeline.Build(id, items, new SensorFaults { CameraNoiseSigma = SensorFaults.CleanCameraNoise }),
                CancellationToken.None);

            // Some windows fused and committed, then the power cut, then the same node again at the same address.
            await session.WaitCommittedAsync(4_000_000, TimeSpan.FromSeconds(60));
            node.Kill();
            Assert.NotNull(await node.WaitExitAsync(TimeSpan.FromSeconds(30)));
            again = NodeProcess.Start(port, [port], logs);
            await again.WaitUpAsync(TimeSpan.FromSeconds(90));

            await playing;
            await session.WaitCommittedAsync(long.MaxValue, TimeSpan.FromSeconds(120));
            var stats = session.Stats;
            output.WriteLine($"opens {stats.Opens}, disconnects {stats.Disconnects}, resumes {string.Join("; ", stats.Resumes.Select(r => $"{r.Gap.TotalSeconds:0.0}s on {r.Node}, {r.EntriesReplayed} replayed"))}; logs in {logs}");
            await stopReading.CancelAsync();
            await reading;
            var summary = tally.Summarize();
            output.WriteLine($"windows fused {summary.WindowsFused}/{summary.WindowsExpected}");

            Assert.Equal(stats.FramesPushed, stats.FramesCommitted);
            Assert.Equal(0, stats.Uncommitted);
            Assert.True(stats.Resumes.Count >= 1, "the session must have resumed on the restarted node");
            // One loss, one reopen; a retry or two while the node starts are tolerable, a storm is not.
            Assert.True(stats.Opens <= 4, $"{stats.Opens} opens: a storm of reopens");
        }
        finally
        {
            if (again is not null) await again.StopAsync(TimeSpan.FromSeconds(20));
            again?.Dispose();
            node.Dispose();
        }
        Directory.Delete(logs, recursive: true);
    }
}
