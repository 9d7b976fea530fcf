using System.Text.Json.Nodes;
using Akka.Actor;
using Microsoft.Extensions.Logging.Abstractions;
using FusionActors.Inference.Data;
using Xunit;
using FusionActors.Core.Specs;
using FusionActors.Core.Streams;
using FusionActors.Protocol;
using FusionActors.Protocol.Specs;
using FusionActors.Runtime.Gateway;
using FusionActors.Runtime.Hosting;
using FusionActors.Runtime.OperatorConsole;

namespace FusionActors.Fusionctl.Tests;

/// <summary>
/// A real node (FusionNode.StartAsync: generic host, one-node sharded cluster, the committed models) with its
/// console host on a free loopback port, and fusionctl run in-process against it over TCP.
/// </summary>
public class ConsoleNode : IAsyncLifetime
{
    public static readonly TimeSpan Wait = TimeSpan.FromSeconds(20);
    public const string Audio = "audio";
    public const string Camera = "camera";

    private static readonly Lazy<AvDigitsDataset> SampleSet = new(AvDigitsDataset.LoadSample);

    public FusionNode Node { get; private set; } = null!;

    protected virtual string? Token => null;

    /// <summary>The node's console options: a free loopback port, <see cref="Token"/>, plain TCP.</summary>
    protected virtual ConsoleOptions ConsoleOptions => new() { Port = 0, Token = Token, FailIfPortTaken = true };

    public int Port => Node.Console!.Endpoint.Port;

    /// <summary>
    /// The node's options: the defaults with <see cref="ConsoleOptions"/> and a recording directory of its own
    /// (sessions are recorded only when a spec or `sessions record` asks).
    /// </summary>
    protected virtual FusionOptions NodeOptions => FusionOptions.Load() with
    {
        OperatorConsole = ConsoleOptions,
        Recording = new FusionActors.Runtime.Recording.RecordingOptions { Directory = RecordingDirectory },
    };

    public async Task InitializeAsync() => Node = await FusionNode.StartAsync(NodeOptions);

    public string RecordingDirectory { get; } = Path.Combine(Path.GetTempPath(), "fusionctl-recordings", Guid.NewGuid().ToString("N"));

    public virtual async Task DisposeAsync()
    {
        await Node.DisposeAsync();
        try { Directory.Delete(RecordingDirectory, recursive: true); }
        catch (DirectoryNotFoundException) { }
    }

    /// <summary>Runs fusionctl with <c>--host 127.0.0.1:PORT</c> and the given arguments.</summary>
    public async Task<CtlRun> Ctl(params string[] args) => await Ctl(args, CancellationToken.None);

    public async Task<CtlRun> Ctl(string[] args, CancellationToken cancel, SyncStringWriter? output = null) => await CtlAt(Port, args, cancel, output);

    /// <summary>Runs fusionctl with <c>--host 127.0.0.1:<paramref name="port"/></c> (a proxy in front of the node, another server).</summary>
    public static async Task<CtlRun> CtlAt(int port, string[] args, CancellationToken cancel = default, SyncStringWriter? output = null)
    {
        output ??= new SyncStringWriter();
        var error = new SyncStringWriter();
        var code = await FusionCtl.RunAsync(["--host", $"127.0.0.1:{port}", .. args], output, error, cancel);
        return new CtlRun(code, output.ToString(), error.ToString());
    }

    public async Task OpenSession(string id)
    {
        var reply = await Node.Sessions.Ask<object>(new OpenSession(Spec(id), 0), Wait);
        Assert.IsType<SessionOpened>(reply);
    }

    /// <summary>Audio and camera frames of sample windows [from, to) of session <paramref name="id"/>.</summary>
    public void SendWindows(string id, int from, int to)
    {
        var items = SampleSet.Value.Items;
        var frames = new List<Frame>();
        for (var w = from; w < to; w++)
        {
            var item = items[w % items.Count];
            for (var j = 0; j < 50; j++)
            {
                var payload = new float[320];
                Array.Copy(item.Pcm, j * 320, payload, 0, 320);
                frames.Add(new Frame(id, Audio, w * 50L + j, w * 1_000_000L + j * 20_000L, payload));
            }
            for (var j = 0; j < 10; j++) frames.Add(new Frame(id, Camera, w * 10L + j, w * 1_000_000L + j * 100_000L, item.Image));
        }
        Node.Sessions.Tell(new FrameBatch(id, frames));
    }

    public static SessionSpec Spec(string id) => new()
    {
        SessionId = id,
        Labels = ["0", "1", "2", "3", "4", "5", "6", "7", "8", "9"],
        Window = WindowSpec.Tumbling(1_000_000),
        Policy = FusionPolicy.Adaptive,
        Streams =
        [
            new StreamSpec
            {
                StreamId = Audio, Modality = "audio", Model = "audio-digits", FrameLength = 320, SampleRateHz = 16_000,
                Framing = Framing.Windowed(1_000_000, 1_000_000), MaxFutureSkewUs = 3_600_000_000, Priority = 1,
            },
            new StreamSpec
            {
                StreamId = Camera, Modality = "image", Model = "image-digits", FrameLength = 64, MaxFutureSkewUs = 3_600_000_000,
                IdleTimeout = TimeSpan.FromSeconds(30),
            },
        ],
    };

    /// <summary>
    /// Starts another console host on this node's actor system, on a free loopback port with its own
    /// <paramref name="options"/>: the built-in palettes and <paramref name="extra"/> ones. The caller disposes it.
    /// </summary>
    public ConsoleHost StartConsole(ConsoleOptions options, params CommandPaletteHandler[] extra)
    {
        var context = new ConsoleContext(Node.System, Node.Sessions, Node.Metrics!, OperatorCredential.For(null).Value);
        return ConsoleHost.Start(options with { Port = 0 }, Node.System, [.. OperatorConsoleHosting.BuiltInPalettes(context), .. extra],
            "limits-test", NullLogger.Instance);
    }

    /// <summary>Polls until <paramref name="condition"/> holds or the deadline passes (no sleeps as synchronization).</summary>
    public static async Task Eventually(Func<Task<bool>> condition, string what, TimeSpan? within = null)
    {
        var deadline = DateTime.UtcNow + (within ?? Wait);
        while (!await condition())
        {
            if (DateTime.UtcNow > deadline) Assert.Fail($"timed out waiting for {what}");
            await Task.Delay(50);
        }
    }
}
