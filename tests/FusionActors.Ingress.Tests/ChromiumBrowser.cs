using System.Diagnostics;
using System.Net.Http.Json;
using System.Net.WebSockets;
using System.Text;
using System.Text.Json;
using Xunit;

namespace FusionActors.Ingress.Tests;

/// <summary>
/// A headless Chromium process (Debian's <c>chromium</c>) and a DevTools connection to its one page: the harness of the
/// browser specs. <see cref="Require"/> skips a spec with the reason where there is no chromium, unless
/// FUSION_REQUIRE_BROWSER=1 (CI), where that is a failure.
/// </summary>
public sealed class ChromiumBrowser : IAsyncDisposable
{
    /// <summary>The chromium executable; skips (or, with FUSION_REQUIRE_BROWSER=1, fails) the spec without one.</summary>
    public static string Require()
    {
        var path = Environment.GetEnvironmentVariable("FUSION_CHROMIUM") ?? "/usr/bin/chromium";
        if (File.Exists(path)) return path;
        var why = $"no chromium at {path} (Debian: apt-get install chromium; or set FUSION_CHROMIUM)";
        if (Environment.GetEnvironmentVariable("FUSION_REQUIRE_BROWSER") == "1") Assert.Fail(why);
        Assert.Skip(why);
        return path;
    }

    private readonly Process _process;
    private readonly ClientWebSocket _devtools;
    private int _id;

    private ChromiumBrowser(Process process, ClientWebSocket devtools)
    {
        _process = process;
        _devtools = devtools;
    }

    public static async Task<ChromiumBrowser> StartAsync(string chromium, string profile, string url, ITestOutputHelper output,
        string? fakeAudio = null, IEnumerable<string>? extraArguments = null)
    {
        Directory.CreateDirectory(profile);
        var psi = new ProcessStartInfo(chromium)
        {
            RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false,
        };
        foreach (var a in new[]
                 {
                     "--headless=new", "--no-sandbox", "--disable-gpu", "--no-first-run", "--no-default-browser-check",
                     "--use-fake-ui-for-media-stream", "--use-fake-device-for-media-stream",
                     "--autoplay-policy=no-user-gesture-required", "--remote-debugging-address=127.0.0.1", "--remote-debugging-port=0",
                     $"--user-data-dir={profile}",
                 }.Concat(fakeAudio is null ? [] : [$"--use-file-for-fake-audio-capture={fakeAudio}"]).Concat(extraArguments ?? []).Append(url))
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
        return new ChromiumBrowser(process, devtools);
    }

    private static void Log(ITestOutputHelper output, string line)
    {
        try { output.WriteLine(line); }
        catch (InvalidOperationException) { } // after the test ended
    }

    /// <summary>The value of a JavaScript expression in the page (by value, as JSON).</summary>
    public async Task<JsonElement> EvaluateAsync(string expression)
    {
        var result = await SendAsync("Runtime.evaluate", new { expression, returnByValue = true, awaitPromise = true });
        if (result.TryGetProperty("exceptionDetails", out var error)) throw new InvalidOperationException($"{expression}: {error}");
        var value = result.GetProperty("result");
        return value.TryGetProperty("value", out var v) ? v.Clone() : default;
    }

    /// <summary>A DevTools command to the page; its result.</summary>
    public async Task<JsonElement> SendAsync(string method, object parameters)
    {
        var id = ++_id;
        var request = JsonSerializer.SerializeToUtf8Bytes(new { id, method, @params = parameters });
        await _devtools.SendAsync(request, WebSocketMessageType.Text, true, CancellationToken.None);
        while (true)
        {
            var message = await ReceiveAsync();
            if (!message.TryGetProperty("id", out var got) || got.GetInt32() != id) continue; // an event
            if (message.TryGetProperty("error", out var failed)) throw new InvalidOperationException($"{method}: {failed}");
            return message.GetProperty("result").Clone();
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

    /// <summary>A PNG of the page as shown (DevTools Page.captureScreenshot).</summary>
    public async Task<byte[]> ScreenshotAsync()
    {
        var result = await SendAsync("Page.captureScreenshot", new { format = "png", captureBeyondViewport = true });
        return Convert.FromBase64String(result.GetProperty("data").GetString()!);
    }
}
