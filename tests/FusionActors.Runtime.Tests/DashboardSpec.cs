using System.Text.Json;
using Akka.Actor;
using System.Text.RegularExpressions;
using Xunit;
using Xunit.Abstractions;
using FusionActors.Client;
using FusionActors.Protocol;
using FusionActors.Runtime.Hosting;
using static FusionActors.Runtime.Tests.TestSessions;

namespace FusionActors.Runtime.Tests;

/// <summary>
/// docs/grafana/fusion-dashboard.json cannot rot: every metric its PromQL names is in the /metrics output of a real
/// node (Prometheus endpoint on loopback, scraped over HTTP) after a session of two modalities with a rejected frame
/// and an encoder crash, through the node's batcher.
/// </summary>
public sealed partial class DashboardSpec(ITestOutputHelper log) : IAsyncLifetime
{
    private FusionNode _node = null!;
    private int _port, _metricsPort;

    public async Task InitializeAsync()
    {
        _port = FreePort();
        _metricsPort = FreePort();
        _node = await StartNodeAsync(_port, $"""
            fusion.security.session-tokens = ["sensor-token"]
            fusion.metrics.prometheus.enabled = on
            fusion.metrics.prometheus.port = {_metricsPort}
            """);
    }

    public async Task DisposeAsync() => await _node.DisposeAsync();

    [GeneratedRegex(@"\bfusion_[a-z0-9_]+")]
    private static partial Regex MetricName();

    [Fact]
    public async Task Every_metric_the_dashboard_queries_is_in_a_real_nodes_scrape()
    {
        var options = new FusionClientOptions { Contacts = [$"127.0.0.1:{_port}"], Token = "sensor-token", RequestTimeout = TimeSpan.FromSeconds(30) };
        await using (var session = await FusionClient.ConnectAsync(options).OpenSessionAsync(Spec("dashboard-1")))
        {
            await PushWindow(session, 0);
            // A frame of the wrong size, from inside the node's process: rejected, by reason.
            _node.Sessions.Tell(new Frame("dashboard-1", Camera, 99, 0, new float[3]), ActorRefs.NoSender);
            await session.CompleteAsync(TimeSpan.FromSeconds(30));
            Assert.Single(await Collect(session, 1, TimeSpan.FromSeconds(30)));
        }

        // A crash of a camera encoder in another session, open until the scrape has it: a failure, then a restart.
        await using var crashed = await FusionClient.ConnectAsync(options).OpenSessionAsync(Spec("dashboard-2"));
        await _node.Sessions.Ask<Status.Success>(new CrashEncoder("dashboard-2", Camera), TimeSpan.FromSeconds(30));
        await PushWindow(crashed, 0);
        await PushWindow(crashed, 1);

        var dashboard = JsonDocument.Parse(await File.ReadAllTextAsync(DashboardPath()));
        var exprs = Exprs(dashboard.RootElement).ToList();
        Assert.True(exprs.Count >= 12, $"only {exprs.Count} queries");
        var wanted = exprs.SelectMany(e => MetricName().Matches(e).Select(m => m.Value)).ToHashSet();
        Assert.Contains(dashboard.RootElement.GetProperty("templating").GetProperty("list").EnumerateArray(),
            v => v.GetProperty("type").GetString() == "datasource" && v.GetProperty("query").GetString() == "prometheus");

        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(30) };
        HashSet<string> series = [];
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
        while (true)
        {
            var text = await http.GetStringAsync($"http://127.0.0.1:{_metricsPort}/metrics");
            series = text.Split('\n').Where(l => l.StartsWith("fusion_", StringComparison.Ordinal))
                .Select(l => l[..l.IndexOfAny(['{', ' '])]).ToHashSet();
            var missing = wanted.Where(w => !series.Contains(w)).ToList();
            if (missing.Count == 0) break;
            if (DateTime.UtcNow > deadline)
                Assert.Fail($"the dashboard queries {string.Join(", ", missing)}, not in the scrape; it has {string.Join(", ", series.Order())}");
            await Task.Delay(200);
        }
        log.WriteLine($"{wanted.Count} metrics in {exprs.Count} queries, all among the {series.Count} fusion_ series of the scrape");
    }

    private static IEnumerable<string> Exprs(JsonElement e)
    {
        switch (e.ValueKind)
        {
            case JsonValueKind.Object:
                foreach (var p in e.EnumerateObject())
                    if (p.Name == "expr" && p.Value.ValueKind == JsonValueKind.String) yield return p.Value.GetString()!;
                    else foreach (var x in Exprs(p.Value)) yield return x;
                break;
            case JsonValueKind.Array:
                foreach (var item in e.EnumerateArray())
                foreach (var x in Exprs(item)) yield return x;
                break;
        }
    }

    private static string DashboardPath()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            var path = Path.Combine(dir.FullName, "docs", "grafana", "fusion-dashboard.json");
            if (File.Exists(path)) return path;
        }
        throw new FileNotFoundException("docs/grafana/fusion-dashboard.json not found above " + AppContext.BaseDirectory);
    }
}
