// Opens a session on a node, pushes three seconds of a 100 Hz sensor, waits until every frame is committed,
// and prints what came back as one JSON line: {"pushed":N,"committed":true,"results":M,"windows":W}.
// Usage: dotnet run -- 127.0.0.1:4053 [token]
using System.Text.Json;
using FusionActors.Client;
using FusionActors.Protocol.Specs;

if (args.Length < 1) { Console.Error.WriteLine("usage: ClientPackageSample HOST:PORT [TOKEN]"); return 2; }

var spec = new SessionSpec
{
    SessionId = $"package-sample-{Guid.NewGuid():N}",
    Streams = [new StreamSpec { StreamId = "imu", Modality = "imu", Model = "noop", FrameLength = 6, SampleRateHz = 600 }],
};
await using var session = await FusionClient
    .ConnectAsync(new FusionClientOptions { Contacts = [args[0]], Token = args.Length > 1 ? args[1] : null })
    .OpenSessionAsync(spec);

var imu = session.Stream("imu");
var start = session.NowUs;
const int frames = 300;   // 3 s at 100 frames/s, 6 values each
for (var i = 0; i < frames; i++)
    await imu.PushAsync([.. Enumerable.Range(0, 6).Select(k => MathF.Sin(i * 0.1f + k))], start + i * 10_000L);

await session.CompleteAsync(TimeSpan.FromSeconds(60));   // throws unless every frame was committed

// Tumbling 1 s windows on the event-time grid: read until the window holding the last frame is decided.
var lastWindow = (start + (frames - 1) * 10_000L) / 1_000_000 * 1_000_000;
var windows = new SortedSet<long>();
var results = 0;
using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
await foreach (var r in session.Results.WithCancellation(timeout.Token))
{
    results++;
    windows.Add(r.WindowStartUs);
    if (r.WindowStartUs >= lastWindow) break;
}
await session.CloseAsync();

Console.WriteLine(JsonSerializer.Serialize(new { pushed = frames, committed = true, results, windows = windows.Count }));
return windows.Count >= 3 ? 0 : 1;
