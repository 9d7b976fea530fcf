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
        var chromium = RequireChromium();
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
        await using var browser = await Browser.StartAsync(chromium, wav, Path.Combine(work, "profile"), url, output);

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

    private static string RequireChromium()
    {
        var path = Environment.GetEnvironmentVariable("FUSION_CHROMIUM") ?? "/usr/bin/chromium";
        if (File.Exists(path)) return path;
        var why = $"no chromium at {path} (Debian: apt-get install chromium; or set FUSION_CHROMIUM)";
        if (Environment.GetEnvironmentVariable("FUSION_REQUIRE_BROWSER") == "1") Assert.Fail(why);
        Assert.Skip(why);
        return path;
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

    /// <summary>A headless Chromium process and a DevTools connection to its one page.</summary>
    private sealed class Browser : IAsyncDisposable
    {
        private readonly Process _process;
        private readonly ClientWebSocket _devtools;
        private int _id;

        private Browser(Process process, ClientWebSocket devtools)
        {
            _process = process;
            _devtools = devtools;
        }

        public static async Task<Browser> StartAsync(string chromium, string wav, string profile, string url, ITestOutputHelper output)
        {
            Directory.CreateDirectory(profile);
            var psi = new ProcessStartInfo(chromium)
            {
                RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false,
            };
            foreach (var a in new[]
                     {
                         "--headless=new", "--no-sandbox", "--disable-gpu", "--no-first-run", "--no-default-browser-check",
                         "--use-fake-ui-for-media-stream", "--use-fake-device-for-media-stream", $"--use-file-for-fake-audio-capture={wav}",
                         "--autoplay-policy=no-user-gesture-required", "--remote-debugging-address=127.0.0.1", "--remote-debugging-port=0",
                         $"--user-data-dir={profile}", url,
                     })
                psi.ArgumentList.Add(a);
            var process = Process.Start(psi)!;
            process.OutputDataReceived += (_, e) => { if (e.Data is not null) Log(output, $"chromium: {e.Data}"); };
            process.ErrorDataReceived += (_, e) => { if (e.Data is not null) Log(output, $"chromium: {e.Data}"); };
            process.BeginOutputReadLine();
            process.BeginErrorReadLine();

            // Chromium writes the port it picked to DevToolsActivePort in the profile once it listens.
            var portFile = Path.Combine(profile, "DevToolsActivePort");
            var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
            while (!File.Exists(portFile) || new FileInfo(portFile).Length == 0)
            {
                if (process.HasExited) throw new InvalidOperationException($"chromium exited with {process.ExitCode}");
                if (DateTime.UtcNow > deadline) throw new TimeoutException("chromium did not open its DevTools port");
                await Task.Delay(100);
            }
            var port = int.Parse(File.ReadAllLines(portFile)[0]);
            using var http = new HttpClient();
            string? target = null;
            while (target is null)
            {
                var list = await http.GetFromJsonAsync<JsonElement>($"http://127.0.0.1:{port}/json/list");
                target = list.EnumerateArray().Where(t => t.GetProperty("type").GetString() == "page")
                    .Select(t => t.GetProperty("webSocketDebuggerUrl").GetString()).FirstOrDefault();
                if (target is null)
                {
                    if (DateTime.UtcNow > deadline) throw new TimeoutException("chromium has no page");
                    await Task.Delay(100);
                }
            }
            var devtools = new ClientWebSocket();
            await devtools.ConnectAsync(new Uri(target), CancellationToken.None);
            return new Browser(process, devtools);
        }

        private static void Log(ITestOutputHelper output, string line)
        {
            try { output.WriteLine(line); }
            catch (InvalidOperationException) { } // after the test ended
        }

        /// <summary>The value of a JavaScript expression in the page (by value, as JSON).</summary>
        public async Task<JsonElement> EvaluateAsync(string expression)
        {
            var id = ++_id;
            var request = JsonSerializer.SerializeToUtf8Bytes(new
            {
                id, method = "Runtime.evaluate",
                @params = new { expression, returnByValue = true, awaitPromise = true },
            });
            await _devtools.SendAsync(request, WebSocketMessageType.Text, true, CancellationToken.None);
            while (true)
            {
                var message = await ReceiveAsync();
                if (!message.TryGetProperty("id", out var got) || got.GetInt32() != id) continue; // an event
                var result = message.GetProperty("result");
                if (result.TryGetProperty("exceptionDetails", out var error)) throw new InvalidOperationException($"{expression}: {error}");
                var value = result.GetProperty("result");
                return value.TryGetProperty("value", out var v) ? v.Clone() : default;
            }
        }

        /// <summary>Evaluates <paramref name="expression"/> until <paramref name="done"/> holds for its value.</summary>
        public async Task<JsonElement> WaitForAsync(string expression, Func<JsonElement, bool> done, TimeSpan timeout)
        {
            var deadline = DateTime.UtcNow + timeout;
            JsonElement last = default;
            while (DateTime.UtcNow < deadline)
            {
                last = await EvaluateAsync(expression);
                if (last.ValueKind == JsonValueKind.Object && done(last)) return last;
                await Task.Delay(250);
            }
            throw new TimeoutException($"the page did not get there in {timeout}: {expression} = {last}");
        }

        private async Task<JsonElement> ReceiveAsync()
        {
            var buffer = new byte[1 << 16];
            using var message = new MemoryStream();
            while (true)
            {
                var r = await _devtools.ReceiveAsync(buffer, CancellationToken.None);
                if (r.MessageType == WebSocketMessageType.Close) throw new InvalidOperationException("DevTools closed the connection");
                message.Write(buffer, 0, r.Count);
                if (r.EndOfMessage) break;
            }
            return JsonDocument.Parse(Encoding.UTF8.GetString(message.ToArray())).RootElement;
        }

        public async ValueTask DisposeAsync()
        {
            try { await _devtools.CloseAsync(WebSocketCloseStatus.NormalClosure, null, CancellationToken.None); }
            catch (Exception e) when (e is WebSocketException or InvalidOperationException) { }
            _devtools.Dispose();
            if (!_process.HasExited) _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
            _process.Dispose();
        }
    }
}
