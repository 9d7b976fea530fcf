using System.Diagnostics;
using System.Text.Json;
using System.Text.RegularExpressions;
using FusionActors.Scenarios.Remote;
using Xunit;

namespace FusionActors.Ingress.Tests;

/// <summary>
/// The browser sensor page the node serves at /sensor, in Debian's headless chromium: its fake microphone plays three
/// AV-Digits WAVs in a loop, the page streams it through the ingress and gets one decision a second. Skipped with
/// the reason where chromium is absent, unless FUSION_REQUIRE_CHROMIUM=1.
/// </summary>
public sealed partial class BrowserSensorSpec(ITestOutputHelper output)
{
    [Fact]
    public async Task The_sensor_page_streams_the_microphone_and_shows_the_fused_decisions()
    {
        var chromium = RequireChromium();
        await using var node = await IngressNode.StartAsync();
        var dir = Path.Combine(Path.GetTempPath(), $"fusion-browser-{Guid.NewGuid():N}");
        Directory.CreateDirectory(dir);
        var labels = WriteMicrophone(Path.Combine(dir, "mic.wav"), 3);

        var psi = new ProcessStartInfo(chromium) { RedirectStandardError = true, RedirectStandardOutput = true, UseShellExecute = false };
        foreach (var a in new[]
                 {
                     "--headless=new", "--no-sandbox", "--disable-gpu", "--no-first-run", $"--user-data-dir={Path.Combine(dir, "profile")}",
                     "--use-fake-ui-for-media-stream", "--use-fake-device-for-media-stream", $"--use-file-for-fake-audio-capture={Path.Combine(dir, "mic.wav")}",
                     "--autoplay-policy=no-user-gesture-required", "--enable-logging=stderr", "--v=0",
                     $"http://127.0.0.1:{node.HttpPort}/sensor?token={IngressNode.Token}&auto=1&seconds=6&session=browser-spec",
                 })
            psi.ArgumentList.Add(a);
        var results = new List<(long Window, string Label, string Status)>();
        var done = new TaskCompletionSource<int>(TaskCreationOptions.RunContinuationsAsynchronously);
        using var process = new Process { StartInfo = psi };
        void Line(string? line)
        {
            if (line is null || !line.Contains("fusion-", StringComparison.Ordinal)) return;
            lock (results)
            {
                output.WriteLine(line);
                if (ResultLine().Match(line) is { Success: true } r) results.Add((long.Parse(r.Groups[1].Value), r.Groups[2].Value, r.Groups[3].Value));
            }
            if (DoneLine().Match(line) is { Success: true } d) done.TrySetResult(int.Parse(d.Groups[1].Value));
            if (line.Contains("fusion-error", StringComparison.Ordinal)) done.TrySetException(new InvalidOperationException(line));
        }
        process.OutputDataReceived += (_, e) => Line(e.Data);
        process.ErrorDataReceived += (_, e) => Line(e.Data);
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        try
        {
            var count = await done.Task.WaitAsync(TimeSpan.FromSeconds(120), TestContext.Current.CancellationToken);
            Assert.True(count >= 4, $"{count} results in 6 s of audio");
        }
        finally
        {
            if (!process.HasExited) process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync(TestContext.Current.CancellationToken);
        }
        lock (results)
        {
            Assert.All(results, r => Assert.Equal("Fused", r.Status));
            var correct = results.Count(r => r.Label == labels[(int)(r.Window / 1_000_000) % labels.Length]);
            output.WriteLine($"{correct} of {results.Count} decisions are the digit spoken in that second");
            Assert.True(correct >= results.Count * 3 / 4, $"{correct} of {results.Count} decisions right");
        }
        Assert.True(node.Ingress.Counters.FramesIn >= 200, $"{node.Ingress.Counters.FramesIn} frames in"); // 50 a second
        Directory.Delete(dir, recursive: true);
    }

    /// <summary>The first <paramref name="items"/> WAVs of the sample, one after the other, as the fake microphone's file; their labels.</summary>
    private static string[] WriteMicrophone(string path, int items)
    {
        var sample = Path.Combine(NodeProcess.RepoRoot(), "samples", "avdigits");
        var entries = File.ReadLines(Path.Combine(sample, "manifest.jsonl")).Where(l => l.Trim().Length > 0).Take(items)
            .Select(l => JsonDocument.Parse(l).RootElement).ToArray();
        var pcm = new MemoryStream();
        foreach (var e in entries)
        {
            var wav = File.ReadAllBytes(Path.Combine(sample, e.GetProperty("audio").GetString()!));
            var data = FindChunk(wav, "data");
            pcm.Write(wav, data.Offset, data.Length);
        }
        using var f = new BinaryWriter(File.Create(path));
        f.Write("RIFF"u8);
        f.Write((int)(36 + pcm.Length));
        f.Write("WAVEfmt "u8);
        f.Write(16);
        f.Write((short)1);
        f.Write((short)1);
        f.Write(16_000);
        f.Write(32_000);
        f.Write((short)2);
        f.Write((short)16);
        f.Write("data"u8);
        f.Write((int)pcm.Length);
        f.Write(pcm.ToArray());
        return entries.Select(e => e.GetProperty("label").GetInt32().ToString()).ToArray();
    }

    private static (int Offset, int Length) FindChunk(byte[] wav, string id)
    {
        for (var at = 12; at + 8 <= wav.Length;)
        {
            var size = BitConverter.ToInt32(wav, at + 4);
            if (System.Text.Encoding.ASCII.GetString(wav, at, 4) == id) return (at + 8, Math.Min(size, wav.Length - at - 8));
            at += 8 + size + (size & 1);
        }
        throw new InvalidDataException($"no {id} chunk");
    }

    private static string RequireChromium()
    {
        foreach (var name in new[] { Environment.GetEnvironmentVariable("FUSION_CHROMIUM"), "chromium", "chromium-browser" })
        {
            if (string.IsNullOrEmpty(name)) continue;
            if (Path.IsPathRooted(name) && File.Exists(name)) return name;
            foreach (var dir in (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':'))
                if (dir.Length > 0 && File.Exists(Path.Combine(dir, name))) return Path.Combine(dir, name);
        }
        const string reason = "no chromium on PATH (apt-get install chromium) for the browser sensor page";
        if (Environment.GetEnvironmentVariable("FUSION_REQUIRE_CHROMIUM") == "1") Assert.Fail(reason);
        Assert.Skip(reason);
        return null!;
    }

    [GeneratedRegex(@"fusion-result window=(\d+) revision=\d+ label=(\S+) status=(\w+)")]
    private static partial Regex ResultLine();

    [GeneratedRegex(@"fusion-done results=(\d+)")]
    private static partial Regex DoneLine();
}
