using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text.Json.Nodes;
using Xunit;
using FusionActors.Runtime.Metrics;

namespace FusionActors.Fusionctl.Tests;

/// <summary>The node's instruments, read through fusionctl metrics, the Prometheus endpoint and the ActivitySource.</summary>
[Collection(ConsoleNodeCollection.Name)]
public sealed class MetricsSpec(ConsoleNode node)
{
    [Fact]
    public async Task Fusionctl_metrics_shows_frames_results_encoder_latency_and_active_sessions()
    {
        await node.OpenSession("ctl-metrics");
        node.SendWindows("ctl-metrics", 0, 3);
        await ConsoleNode.Eventually(async () => (await node.Ctl("--json", "sessions", "show", "ctl-metrics")).Json["fusion"]!["results"]!.GetValue<long>() >= 2,
            "two fused results");

        var run = await node.Ctl("--json", "metrics");
        Assert.True(run.ExitCode == 0, run.ToString());
        var rows = run.Json.AsArray().Select(r => r!).ToList();
        double Value(string instrument, string? tags = null) =>
            rows.Where(r => r["instrument"]!.GetValue<string>() == instrument && (tags is null || r["tags"]!.GetValue<string>() == tags))
                .Sum(r => r["kind"]!.GetValue<string>() == "histogram" ? r["count"]!.GetValue<long>() : r["value"]!.GetValue<double>());
        Assert.True(Value("fusion.frames.in", "modality=audio") >= 150, run.Output);
        Assert.True(Value("fusion.frames.in", "modality=image") >= 30, run.Output);
        Assert.True(Value("fusion.results") >= 2, run.Output);
        Assert.True(Value("fusion.encoder.duration") >= 2, run.Output);
        Assert.True(Value("fusion.window.latency") >= 2, run.Output);
        Assert.True(Value("fusion.sessions.active") >= 1, run.Output);
        Assert.Contains(rows, r => r["instrument"]!.GetValue<string>() == "fusion.weight");

        var table = await node.Ctl("metrics");
        Assert.Contains("fusion.frames.in", table.Output);
    }

    [Fact]
    public async Task Encode_and_fuse_activities_carry_the_session_id_and_frame_seqs()
    {
        var seen = new List<Activity>();
        using var listener = new ActivityListener
        {
            ShouldListenTo = s => s.Name == FusionTracing.SourceName,
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
            ActivityStopped = a =>
            {
                if (a.GetTagItem("fusion.session") as string == "ctl-trace") lock (seen) seen.Add(a);
            },
        };
        ActivitySource.AddActivityListener(listener);
        await node.OpenSession("ctl-trace");
        node.SendWindows("ctl-trace", 0, 3);
        await ConsoleNode.Eventually(() =>
        {
            lock (seen) return Task.FromResult(seen.Any(a => a.OperationName == "encode") && seen.Any(a => a.OperationName == "fuse"));
        }, "encode and fuse activities of ctl-trace");
        lock (seen)
        {
            var encode = seen.First(a => a.OperationName == "encode");
            Assert.NotNull(encode.GetTagItem("fusion.frame.seq.last"));
            Assert.NotNull(encode.GetTagItem("fusion.stream"));
        }
    }

    [Fact]
    public async Task The_Prometheus_endpoint_serves_the_instruments()
    {
        var port = FreePort();
        using var provider = PrometheusEndpoint.Start(new MetricsOptions { PrometheusEnabled = true, PrometheusPort = port });
        Assert.NotNull(provider);
        FusionMetrics.FrameIn("prometheus-probe");
        using var http = new HttpClient();
        string body = "";
        await ConsoleNode.Eventually(async () =>
        {
            try { body = await http.GetStringAsync($"http://127.0.0.1:{port}/metrics"); }
            catch (HttpRequestException) { return false; }
            return body.Contains("prometheus-probe");
        }, "the scrape to show the probe's frame");
        Assert.Contains("fusion_frames_in", body);
    }

    private static int FreePort()
    {
        using var l = new TcpListener(IPAddress.Loopback, 0);
        l.Start();
        return ((IPEndPoint)l.LocalEndpoint).Port;
    }
}
