using System.Diagnostics;
using System.Net.Http.Json;
using System.Net.WebSockets;
using System.Text;
using System.Text.Json;
using FusionActors.Inference.Data;
using FusionActors.Runtime.Ingress;
using Xunit;

namespace FusionActors.Ingress.Tests;

/// <summary>
/// The node's browser sensor page in a real headless Chromium (Debian's <c>chromium</c>), whose fake microphone plays
/// a WAV of the AV-Digits sample: the page captures it, pushes it through the WebSocket ingress, and shows the fused
/// results; a connection dropped midway is resumed without losing a frame. The spec drives the browser over the
/// DevTools protocol and reads the page's own counters and table.
/// Without chromium it is skipped with the reason, unless FUSION_REQUIRE_BROWSER=1 (CI), where that is a failure.
/// </summary>
public sealed class BrowserSensorSpec(ITestOutputHelper output)
{
    [Fact]
    public async Task The_sensor_page_pushes_its_microphone_into_a_session_and_shows_the_fused_results()
    {
        var chromium = ChromiumBrowser.Require();
        var work = Directory.CreateTempSubdirectory("fusion-browser-spec-").FullName;
        var wav = Path.Combine(work, "digits.wav");
        WriteWav(wav, AvDigitsDataset.LoadSample().Items.Take(12).SelectMany(i => i.Pcm).ToArray());
        await using var node = await IngressNode.StartAsync();

        // The page is the node's own, with its security headers.
        using (var http = new HttpClient())
        {
            var page = await http.GetAsync(node.HttpUri(SensorPage.Path), TestContext.Current.CancellationToken);
            Assert.True(page.IsSuccessStatusCode, $"GET {SensorPage.Path}: {page.StatusCode}");
            Assert.Contains("connect-src 'self'", page.Headers.GetValues("Content-Security-Policy").Single());
            Assert.Equal(System.Net.HttpStatusCode.NotFound,
                (await http.GetAsync(node.HttpUri(SensorPage.Path + "..%2Fhealthz%2Flive"), TestContext.Current.CancellationToken)).StatusCode);
        }

        var url = $"{node.HttpUri(SensorPage.Path)}?session=browser-spec&autostart=1#token={IngressNode.Token}";
        await using var browser = await ChromiumBrowser.StartAsync(chromium, Path.Combine(work, "profile"), url, output, fakeAudio: wav);

        // Results with audio evidence come back; a dropped connection midway is resumed and what was held is replayed.
        await browser.WaitForAsync("window.fusionSensor && window.fusionSensor.stats()",
            s => s.GetProperty("fused").GetInt32() >= 2, TimeSpan.FromSeconds(120));
        await browser.EvaluateAsync("window.fusionSensor.drop(), true");
        var stats = await browser.WaitForAsync("window.fusionSensor.stats()",
            s => s.GetProperty("opens").GetInt32() >= 2 && s.GetProperty("fused").GetInt32() >= 6, TimeSpan.FromSeconds(120));
        output.WriteLine($"page stats: {stats}");
        var results = await browser.EvaluateAsync("window.fusionSensor.results");
        var fused = results.EnumerateArray().Where(r => r.GetProperty("status").GetString() == "Fused").ToArray();
        Assert.True(fused.Length >= 5);
        Assert.All(fused, r =>
        {
            Assert.True(r.GetProperty("weights").GetProperty("audio").GetDouble() > 0, $"no audio weight in {r}");
            Assert.DoesNotContain("audio", r.GetProperty("missing").EnumerateArray().Select(m => m.GetString()));
        });
        var rows = await browser.EvaluateAsync("document.querySelectorAll('#results tr').length");
        Assert.True(rows.GetInt32() >= fused.Length, $"{rows} rows shown for {fused.Length} fused results");
        Assert.Equal(0, stats.GetProperty("errors").GetArrayLength());
        Assert.True(stats.GetProperty("framesReplayed").GetInt32() > 0, "nothing was replayed after the drop");
        var windows = fused.Select(r => (r.GetProperty("windowStartUs").GetInt64(), r.GetProperty("revision").GetInt32())).ToArray();
        Assert.Equal(windows.Length, windows.Distinct().Count());

        // Stop: the stream is closed, and every frame the page sent is committed.
        await browser.EvaluateAsync("window.fusionSensor.stop(), true");
        var done = await browser.WaitForAsync("window.fusionSensor.stats()",
            s => s.GetProperty("state").GetString() is "done" or "failed", TimeSpan.FromSeconds(60));
        output.WriteLine($"after stop: {done}");
        Assert.Equal("done", done.GetProperty("state").GetString());
        Assert.Equal("all", done.GetProperty("committedThroughUs").GetString());
        Assert.Equal(0, done.GetProperty("held").GetInt32());
        Assert.True(done.GetProperty("framesSent").GetInt32() >= 250, $"only {done.GetProperty("framesSent")} frames sent");
        Assert.Equal(0, done.GetProperty("framesDroppedUnheld").GetInt32());
        Directory.Delete(work, recursive: true);
    }

    /// <summary>16-bit PCM mono WAV at 16 kHz, as Chromium's fake audio capture reads it.</summary>
    private static void WriteWav(string path, float[] pcm)
    {
        using var w = new BinaryWriter(File.Create(path));
        var data = pcm.Length * 2;
        w.Write("RIFF"u8); w.Write(36 + data); w.Write("WAVE"u8);
        w.Write("fmt "u8); w.Write(16); w.Write((short)1); w.Write((short)1); w.Write(AvDigitsDataset.SampleRate);
        w.Write(AvDigitsDataset.SampleRate * 2); w.Write((short)2); w.Write((short)16);
        w.Write("data"u8); w.Write(data);
        foreach (var s in pcm) w.Write((short)Math.Clamp(Math.Round(s * short.MaxValue), short.MinValue, short.MaxValue));
    }
}
