using System.Diagnostics;
using System.Text.Json;
using System.Text.RegularExpressions;
using FusionActors.Scenarios.Remote;
using Xunit;

namespace FusionActors.Ingress.Tests;

/// <summary>
/// The Python client (clients/python) against real node processes: it plays the AV-Digits sample through the
/// WebSocket ingress; midway its connection is cut (by the client, or by killing the node it talks to) and it
/// resumes without losing a frame. Needs python3 with the websockets package (Debian: python3-websockets); without
/// them the specs are skipped with the reason, unless FUSION_REQUIRE_PYTHON=1 (CI), where that is a failure.
/// </summary>
public sealed partial class PythonClientSpec(ITestOutputHelper output)
{
    private const string Token = "python-spec-token-0123456789";

    [Fact]
    public async Task The_python_client_unit_tests_pass()
    {
        var python = RequirePython();
        var psi = new ProcessStartInfo(python, ["-m", "unittest", "discover", "-v", "-s", Path.Combine(NodeProcess.RepoRoot(), "clients", "python", "tests")])
            { RedirectStandardError = true, RedirectStandardOutput = true, UseShellExecute = false };
        using var p = Process.Start(psi)!;
        var stderr = p.StandardError.ReadToEndAsync(TestContext.Current.CancellationToken);
        var stdout = await p.StandardOutput.ReadToEndAsync(TestContext.Current.CancellationToken);
        await p.WaitForExitAsync(TestContext.Current.CancellationToken).WaitAsync(TimeSpan.FromMinutes(2), TestContext.Current.CancellationToken);
        output.WriteLine(stdout + await stderr);
        Assert.Equal(0, p.ExitCode);
        Assert.Contains("OK", await stderr);
    }

    [Fact]
    public async Task The_python_sample_pushes_avdigits_and_every_frame_is_committed_and_every_window_fused_across_a_dropped_connection()
    {
        var python = RequirePython();
        var logs = LogDir("py-drop");
        var (port, http) = (NodeProcess.FreePort(), NodeProcess.FreePort());
        using var node = StartNode(port, http, [port], logs, "node");
        await node.WaitUpAsync(TimeSpan.FromSeconds(90));

        const int items = 16;
        var (exit, report) = await RunSample(python, [$"ws://127.0.0.1:{http}/ingress/v1"], items, logs, ["--drop-after", "6"]);

        Assert.Equal(0, exit);
        AssertEverythingDelivered(report, items);
        Assert.Equal(1, report.GetProperty("connectionsDropped").GetInt32());
        Assert.True(report.GetProperty("resumes").GetInt32() >= 1, "the client did not resume");
        Assert.True(report.GetProperty("accuracy").GetDouble() >= 0.9, $"accuracy {report.GetProperty("accuracy")}");
        await node.StopAsync(TimeSpan.FromSeconds(30));
    }

    [Fact]
    public async Task When_the_node_the_python_client_talks_to_is_killed_it_resumes_through_another_node_without_losing_a_frame()
    {
        var python = RequirePython();
        var logs = LogDir("py-failover");
        // The split-brain resolver keeps the side with the lowest address on a tie: the survivor (the seed) gets the
        // lower port, and the client talks to the other node first.
        var ports = new[] { NodeProcess.FreePort(), NodeProcess.FreePort() }.Order().ToArray();
        var https = new[] { NodeProcess.FreePort(), NodeProcess.FreePort() };
        using var survivor = StartNode(ports[0], https[0], [ports[0]], logs, "survivor");
        await survivor.WaitUpAsync(TimeSpan.FromSeconds(90));
        using var victim = StartNode(ports[1], https[1], [ports[0]], logs, "victim");
        await victim.WaitUpAsync(TimeSpan.FromSeconds(90));

        const int items = 24;
        var killed = false;
        var (exit, report) = await RunSample(python, [$"ws://127.0.0.1:{https[1]}/ingress/v1", $"ws://127.0.0.1:{https[0]}/ingress/v1"], items, logs, [],
            results =>
            {
                // SIGKILL of the node whose ingress the client uses, a third of the way in: no goodbye, no close frame.
                if (results == items / 3 && !killed)
                {
                    killed = true;
                    output.WriteLine($"killing the node the client talks to (pid {victim.Pid}) after {results} results");
                    victim.Kill();
                }
            });

        Assert.True(killed, "the sample ended before the node was killed");
        Assert.Equal(0, exit);
        AssertEverythingDelivered(report, items);
        Assert.True(report.GetProperty("resumes").GetInt32() >= 1, "the client did not resume");
        var nodes = report.GetProperty("nodes").EnumerateArray().Select(n => n.GetString()).ToArray();
        output.WriteLine($"session hosted on: {string.Join(" then ", nodes)}");
        Assert.EndsWith($":{ports[0]}", nodes[^1]);
        await survivor.StopAsync(TimeSpan.FromSeconds(30));
    }

    private void AssertEverythingDelivered(JsonElement report, int items)
    {
        output.WriteLine(report.ToString());
        Assert.True(report.GetProperty("committedAll").GetBoolean(), "the session did not commit everything");
        Assert.Equal(report.GetProperty("framesPushed").GetInt64(), report.GetProperty("framesCommitted").GetInt64());
        Assert.Equal(items * 60L, report.GetProperty("framesPushed").GetInt64()); // 50 audio + 10 camera frames a second
        Assert.Equal(0, report.GetProperty("uncommitted").GetInt32());
        Assert.Equal(items, report.GetProperty("windows").GetInt32());
        Assert.Equal(items, report.GetProperty("fusedWindows").GetInt32());
    }

    private async Task<(int Exit, JsonElement Report)> RunSample(string python, string[] urls, int items, string logs, string[] extra,
        Action<int>? onResult = null)
    {
        var reportPath = Path.Combine(logs, "report.json");
        var psi = new ProcessStartInfo(python)
        {
            RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false, WorkingDirectory = NodeProcess.RepoRoot(),
        };
        foreach (var a in (string[])[Path.Combine(NodeProcess.RepoRoot(), "clients", "python", "samples", "push_avdigits.py"), "--url", string.Join(",", urls),
                     "--token", Token, "--items", items.ToString(), "--speed", "4", "--report", reportPath, "--timeout", "150", .. extra])
            psi.ArgumentList.Add(a);
        using var process = new Process { StartInfo = psi };
        var results = 0;
        void Line(string? line)
        {
            if (line is null) return;
            lock (output) output.WriteLine(line);
            if (ResultLine().IsMatch(line)) onResult?.Invoke(Interlocked.Increment(ref results));
        }
        process.OutputDataReceived += (_, e) => Line(e.Data);
        process.ErrorDataReceived += (_, e) => Line(e.Data);
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        try
        {
            await process.WaitForExitAsync(TestContext.Current.CancellationToken).WaitAsync(TimeSpan.FromMinutes(4), TestContext.Current.CancellationToken);
        }
        finally
        {
            if (!process.HasExited) process.Kill(entireProcessTree: true);
        }
        process.WaitForExit(); // the output read to its end
        Assert.True(File.Exists(reportPath), $"the sample wrote no report (exit {process.ExitCode})");
        return (process.ExitCode, JsonDocument.Parse(await File.ReadAllTextAsync(reportPath, TestContext.Current.CancellationToken)).RootElement.Clone());
    }

    private HostProcess StartNode(int port, int http, int[] seeds, string logs, string name)
    {
        var log = new StreamWriter(Path.Combine(logs, $"{name}.log")) { AutoFlush = true };
        return HostProcess.Start(
            ["node", "--config", Path.Combine(NodeProcess.RepoRoot(), "config", "node.hocon"), "--port", port.ToString(), "--http-port", http.ToString(),
                "--seeds", string.Join(",", seeds.Select(s => $"127.0.0.1:{s}"))],
            "node up at",
            line => { lock (log) log.WriteLine(line); },
            new Dictionary<string, string?> { ["FUSION_CONSOLE_PORT"] = "0", ["FUSION_CONFIG"] = null, ["FUSION_SESSION_TOKENS"] = Token },
            NodeProcess.RepoRoot());
    }

    private string LogDir(string name)
    {
        var dir = Path.Combine(Path.GetTempPath(), $"fusion-{name}-{Guid.NewGuid():N}");
        Directory.CreateDirectory(dir);
        output.WriteLine($"logs in {dir}");
        return dir;
    }

    /// <summary>A python3 that has the websockets package; skips (or, with FUSION_REQUIRE_PYTHON=1, fails) without one.</summary>
    private static string RequirePython()
    {
        var candidates = new[] { Environment.GetEnvironmentVariable("FUSION_PYTHON"), "/usr/bin/python3", "python3" };
        var tried = new List<string>();
        foreach (var candidate in candidates.Where(c => !string.IsNullOrEmpty(c)).Distinct())
        {
            var problem = Probe(candidate!);
            if (problem is null) return candidate!;
            tried.Add($"{candidate}: {problem}");
        }
        var reason = "no python3 with the websockets package (apt-get install python3 python3-websockets): " + string.Join("; ", tried);
        if (Environment.GetEnvironmentVariable("FUSION_REQUIRE_PYTHON") == "1") Assert.Fail(reason);
        Assert.Skip(reason);
        return null!;
    }

    private static string? Probe(string python)
    {
        try
        {
            using var p = Process.Start(new ProcessStartInfo(python, ["-c", "import websockets, sys; assert int(websockets.__version__.split('.')[0]) >= 10, websockets.__version__"])
                { RedirectStandardError = true, RedirectStandardOutput = true, UseShellExecute = false })!;
            var err = p.StandardError.ReadToEnd();
            if (!p.WaitForExit(30_000)) { p.Kill(); return "did not answer"; }
            return p.ExitCode == 0 ? null : err.Trim().Split('\n').LastOrDefault() ?? $"exit {p.ExitCode}";
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            return e.Message;
        }
    }

    [GeneratedRegex(@"^\[\s*\d+s\] rev ")]
    private static partial Regex ResultLine();
}
