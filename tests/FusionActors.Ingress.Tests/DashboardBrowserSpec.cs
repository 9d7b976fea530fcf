using System.Text.Json;
using FusionActors.Runtime.Dashboard;
using FusionActors.Scenarios.Faults;
using Xunit;

namespace FusionActors.Ingress.Tests;

/// <summary>
/// The node's dashboard in a real headless Chromium: a live two-modality AV-Digits session (the demo's driver, its
/// faults, and a camera that stops sending at 10 s until the end) runs through a real node; the spec opens
/// <c>/dashboard/</c>, enters the operator token in the page's form, picks the session from the cluster-wide list and
/// reads the page's DOM: the camera's weight drops to 0 and it is marked missing while audio's weight rises to 1.
/// It also takes the page's screenshot (DevTools Page.captureScreenshot); with FUSION_DASHBOARD_SCREENSHOT=PATH it is
/// written there (docs/dashboard.png is one).
/// Without chromium it is skipped with the reason, unless FUSION_REQUIRE_BROWSER=1 (CI), where that is a failure.
/// </summary>
public sealed class DashboardBrowserSpec(ITestOutputHelper output)
{
    public const string OperatorToken = "dashboard-spec-operator-token-0123456789";

    [Fact]
    public async Task The_dashboard_shows_the_camera_going_out_of_a_live_session_and_the_weights_moving_to_audio()
    {
        var chromium = ChromiumBrowser.Require();
        var work = Directory.CreateTempSubdirectory("fusion-dashboard-spec-").FullName;
        await using var node = await IngressNode.StartAsync(new Dictionary<string, string?> { ["Fusion:Console:Token"] = OperatorToken });
        // The demo's faults (network jitter, bad input, a camera encoder crash), with the camera gone from 10 s to the end.
        const int seconds = 28;
        var plan = SensorFaults.Demo(seconds) with { CameraOutage = new Interval(10, 1000), AudioNoise = null, CrashCameraEncoderAt = 5.35 };
        await using var session = await LiveAvSession.StartAsync(node, "dashboard-demo", seconds, plan);

        await using var browser = await ChromiumBrowser.StartAsync(chromium, Path.Combine(work, "profile"), node.HttpUri(DashboardEndpoints.Path).ToString(),
            output, extraArguments: ["--window-size=1440,1400", "--hide-scrollbars"]);
        try
        {
            await browser.WaitForAsync("window.fusionDashboard && window.fusionDashboard.state()", s => !s.GetProperty("signedIn").GetBoolean(), TimeSpan.FromSeconds(60));
        }
        catch (TimeoutException)
        {
            output.WriteLine($"page: {await browser.EvaluateAsync("location.href + ' ' + document.readyState + ' ' + document.documentElement.outerHTML.slice(0, 400)")}");
            throw;
        }

        // A wrong token is refused by the node and the page says so; the right one opens the sessions list.
        await browser.EvaluateAsync(Enter("not-the-operator-token-at-all-0123456789"));
        var refused = await browser.WaitForAsync("({ error: document.getElementById('login-error').textContent, hidden: document.getElementById('main').hidden })",
            s => s.GetProperty("error").GetString()!.Length > 0, TimeSpan.FromSeconds(30));
        Assert.True(refused.GetProperty("hidden").GetBoolean());
        await browser.EvaluateAsync(Enter(OperatorToken));
        await browser.WaitForAsync("({ row: !!document.querySelector('#sessions tr[data-session=\"dashboard-demo\"]') })",
            s => s.GetProperty("row").GetBoolean(), TimeSpan.FromSeconds(60));
        var stored = await browser.EvaluateAsync("({ token: sessionStorage.getItem('fusionDashboardToken'), url: location.href })");
        Assert.Equal(OperatorToken, stored.GetProperty("token").GetString());
        Assert.DoesNotContain(OperatorToken, stored.GetProperty("url").GetString());

        await browser.EvaluateAsync("document.querySelector('#sessions tr[data-session=\"dashboard-demo\"]').click(), true");
        const string streams = """
            (() => {
              const row = (id) => { const r = document.querySelector('#streams tr[data-stream="' + id + '"]');
                return r ? { weight: r.querySelector('td.weight').textContent, presence: r.querySelector('td.presence').textContent,
                             state: r.querySelector('td.state').textContent } : null; };
              const s = window.fusionDashboard.state();
              return { live: s.live, results: s.results, camera: row('camera'), audio: row('audio'),
                       missingRows: document.querySelectorAll('#results tbody tr[data-missing="image"]').length,
                       chart: document.getElementById('weights-legend').textContent };
            })()
            """;

        // Both modalities present, with weight, before the outage: in the results table (a page that comes late still
        // gets the recent results when it subscribes).
        const string table = """
            ({ live: window.fusionDashboard.state().live,
               rows: [...document.querySelectorAll('#results tbody tr')].map(r => ({ missing: r.dataset.missing, weights: r.cells[5].textContent })) })
            """;
        var before = await browser.WaitForAsync(table, s =>
            s.GetProperty("live").GetString() == "live" &&
            s.GetProperty("rows").EnumerateArray().Any(r => r.GetProperty("missing").GetString() == "" &&
                RowWeight(r, "image") > 0.05 && RowWeight(r, "audio") is > 0.05 and < 0.999), TimeSpan.FromSeconds(90));
        var audioBefore = before.GetProperty("rows").EnumerateArray().Where(r => r.GetProperty("missing").GetString() == "")
            .Select(r => RowWeight(r, "audio")).Max();
        output.WriteLine($"before the outage: audio weight at most {audioBefore} in {before.GetProperty("rows").GetArrayLength()} rows");
        Assert.True(audioBefore < 0.999);

        // The camera stops sending: it goes Idle, its weight drops to 0 and it is marked missing; audio takes all the weight.
        var after = await browser.WaitForAsync(streams, s =>
            s.GetProperty("camera").ValueKind == JsonValueKind.Object && s.GetProperty("audio").ValueKind == JsonValueKind.Object &&
            s.GetProperty("camera").GetProperty("presence").GetString() == "missing" && Weight(s, "camera") == 0 &&
            s.GetProperty("audio").GetProperty("presence").GetString() == "present" && Weight(s, "audio") == 1 &&
            s.GetProperty("missingRows").GetInt32() >= 3, TimeSpan.FromSeconds(90));
        output.WriteLine($"camera out: {after}");
        Assert.True(Weight(after, "audio") > audioBefore, $"audio's weight did not rise: {audioBefore} -> {Weight(after, "audio")}");
        Assert.Contains(after.GetProperty("camera").GetProperty("state").GetString(), new[] { "Idle", "Degraded" });
        Assert.Contains("image", after.GetProperty("chart").GetString());
        var changes = await browser.EvaluateAsync("({ text: document.getElementById('changes').textContent })");
        Assert.Contains("camera", changes.GetProperty("text").GetString());

        var png = await browser.ScreenshotAsync();
        Assert.True(png.Length > 10_000 && png.AsSpan(0, 8).SequenceEqual(new byte[] { 0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A }), "not a PNG screenshot");
        if (Environment.GetEnvironmentVariable("FUSION_DASHBOARD_SCREENSHOT") is { Length: > 0 } shot)
        {
            await File.WriteAllBytesAsync(shot, png, TestContext.Current.CancellationToken);
            output.WriteLine($"screenshot written to {shot} ({png.Length} bytes)");
        }
        var state = await browser.EvaluateAsync("window.fusionDashboard.state()");
        Assert.Equal(0, state.GetProperty("errors").GetArrayLength());
        Directory.Delete(work, recursive: true);
    }

    private static string Enter(string token) =>
        $"document.getElementById('token').value = {JsonSerializer.Serialize(token)}; document.getElementById('login-form').requestSubmit(); true";

    /// <summary>A modality's weight in a results row's weights cell ("audio=0.53 image=0.47"); NaN when absent.</summary>
    private static double RowWeight(JsonElement row, string modality) =>
        row.GetProperty("weights").GetString()!.Split(' ').Select(p => p.Split('=')).Where(p => p.Length == 2 && p[0] == modality)
            .Select(p => double.Parse(p[1], System.Globalization.CultureInfo.InvariantCulture)).DefaultIfEmpty(double.NaN).First();

    /// <summary>The weight shown in the streams table; NaN while none is ("-").</summary>
    private static double Weight(JsonElement s, string stream) =>
        s.GetProperty(stream) is { ValueKind: JsonValueKind.Object } row && double.TryParse(row.GetProperty("weight").GetString(),
            System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out var w) ? w : double.NaN;
}
