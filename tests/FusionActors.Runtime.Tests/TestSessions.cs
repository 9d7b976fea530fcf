using Akka.Actor;
using FusionActors.Inference.Data;
using FusionActors.Core.Specs;
using FusionActors.Core.Streams;
using FusionActors.Core.Supervision;
using FusionActors.Inference;
using FusionActors.Protocol;
using FusionActors.Protocol.Specs;
using FusionActors.Runtime.Alignment;
using FusionActors.Runtime.Encoders;
using FusionActors.Runtime.Fusion;
using FusionActors.Runtime.Gateway;
using FusionActors.Runtime.Hosting;
using FusionActors.Runtime.Sessions;
using FusionActors.Runtime.Streams;

namespace FusionActors.Runtime.Tests;

/// <summary>Specs, frames and encoders the actor specs share: the real committed models and sample.</summary>
public static class TestSessions
{
    public const string Audio = "audio";
    public const string Camera = "camera";
    public static readonly string[] Labels = ["0", "1", "2", "3", "4", "5", "6", "7", "8", "9"];

    private static readonly Lazy<ModelRegistry> Registry = new(ModelRegistry.FromDefaultCatalog);
    private static readonly Lazy<AvDigitsDataset> SampleSet = new(AvDigitsDataset.LoadSample);

    public static IEncoderProvider Encoders => new RegistryEncoderProvider(Registry.Value);

    public static IReadOnlyList<AvDigitsItem> Sample => SampleSet.Value.Items;

    /// <summary>Actor-system config: the server's defaults, in-process (no cluster) for unit-level actor specs.</summary>
    public static string LocalConfig => FusionConfig.DefaultsText + "\nakka.actor.provider = local\nakka.loglevel = WARNING\n";

    public static BackoffPolicy FastBackoff => new() { Min = TimeSpan.FromMilliseconds(20), Max = TimeSpan.FromMilliseconds(200), MaxRestarts = 10 };

    public static SessionSpec Spec(string id, TimeSpan? cameraIdle = null, long allowedLatenessUs = 0, FusionPolicy? policy = null) => new()
    {
        SessionId = id,
        Labels = Labels,
        Window = WindowSpec.Tumbling(1_000_000),
        Policy = policy ?? FusionPolicy.Adaptive,
        AllowedLatenessUs = allowedLatenessUs,
        Streams =
        [
            new StreamSpec
            {
                StreamId = Audio, Modality = "audio", Model = "audio-digits", FrameLength = 320, SampleRateHz = 16_000,
                Framing = Framing.Windowed(1_000_000, 1_000_000), MaxFutureSkewUs = 3_600_000_000, Priority = 1,
            },
            new StreamSpec
            {
                StreamId = Camera, Modality = "image", Model = "image-digits", FrameLength = 64,
                MaxFutureSkewUs = 3_600_000_000, IdleTimeout = cameraIdle ?? TimeSpan.FromSeconds(2),
            },
        ],
    };

    /// <summary>The 50 audio frames (20 ms) of sample item <paramref name="item"/> placed in window <paramref name="window"/>.</summary>
    public static IEnumerable<Frame> AudioFrames(string session, int window, AvDigitsItem item, long firstSeq)
    {
        for (var j = 0; j < 50; j++)
        {
            var payload = new float[320];
            Array.Copy(item.Pcm, j * 320, payload, 0, 320);
            yield return new Frame(session, Audio, firstSeq + j, window * 1_000_000L + j * 20_000L, payload);
        }
    }

    /// <summary>Camera frames (10 fps) showing <paramref name="item"/>'s digit in window <paramref name="window"/>.</summary>
    public static IEnumerable<Frame> CameraFrames(string session, int window, AvDigitsItem item, long firstSeq, int count = 10)
    {
        for (var j = 0; j < count; j++)
            yield return new Frame(session, Camera, firstSeq + j, window * 1_000_000L + j * 100_000L, item.Image);
    }

    /// <summary>Pushes window <paramref name="w"/> of the sample through a client session (seqs continue window by window).</summary>
    public static async Task PushWindow(FusionActors.Client.FusionSession session, int w)
    {
        foreach (var f in AudioFrames(session.SessionId, w, Sample[w], w * 50L)) await session.Stream(Audio).PushAsync(f);
        foreach (var f in CameraFrames(session.SessionId, w, Sample[w], w * 10L)) await session.Stream(Camera).PushAsync(f);
    }

    /// <summary>The next <paramref name="count"/> results of a client session, within <paramref name="within"/>.</summary>
    public static async Task<List<FusedResult>> Collect(FusionActors.Client.FusionSession session, int count, TimeSpan within)
    {
        using var cts = new CancellationTokenSource(within);
        var results = new List<FusedResult>();
        await foreach (var r in session.Results.WithCancellation(cts.Token))
        {
            results.Add(r);
            if (results.Count == count) break;
        }
        return results;
    }

    /// <summary>A real one-node server on loopback at <paramref name="port"/>, console off, with <paramref name="hocon"/> over the defaults.</summary>
    public static Task<FusionNode> StartNodeAsync(int port, string hocon = "") =>
        FusionNode.StartAsync(FusionOptions.FromHocon(FusionConfig.DefaultsText + $"""

            fusion.node.port = {port}
            fusion.console.enabled = off
            akka.loglevel = WARNING
            {hocon}
            """));

    /// <summary>A free TCP port on loopback for a node's remoting.</summary>
    public static int FreePort()
    {
        using var l = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        l.Start();
        return ((System.Net.IPEndPoint)l.LocalEndpoint).Port;
    }

    public static Props SessionProps(string id, IEncoderProvider? encoders = null, BackoffPolicy? backoff = null) =>
        SessionActor.Props(id, encoders ?? Encoders, backoff ?? FastBackoff, sharded: false);
}
