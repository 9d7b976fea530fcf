using System.Runtime.Serialization;
using Akka.Actor;
using Akka.Serialization;
using FusionActors.Core.Time;
using FusionActors.Protocol;
using FusionActors.Protocol.Serialization;
using FusionActors.Protocol.Specs;
using FusionActors.Runtime.Hosting;
using FusionActors.Runtime.Ingress;
using FusionActors.Runtime.Recording;
using SharpFuzz;

namespace FusionActors.Fuzz;

/// <summary>
/// Coverage-guided fuzzing of every reader of bytes a peer or a file controls: each control manifest of
/// <see cref="ProtocolSerializer"/>, each of <see cref="FrameSerializer"/>, the WebSocket ingress's open and frames
/// messages, and recording files. An input's first byte picks the reader, the rest is what it reads. A reader may
/// build a message or refuse with its typed exception; any other exception is a crash for AFL to keep.
/// <para>
/// <c>FusionActors.Fuzz</c> runs under afl-fuzz (persistent mode); <c>seeds DIR</c> writes one valid input per reader;
/// <c>replay FILE...</c> runs inputs once and says what each gave (exit 1 on a crash). tools/fuzz/run.sh does it all.
/// </para>
/// </summary>
public static class Program
{
    public static int Main(string[] args)
    {
        if (args is [])
        {
            // Instrumented code may run only once the fuzzer's shared memory is attached, inside Fuzzer.Run: the actor
            // system and the readers are made on the first input, and kept for the process's next ones.
            List<Target>? fuzzed = null;
            Fuzzer.Run(stream =>
            {
                fuzzed ??= Targets((ExtendedActorSystem)NewSystem());
                using var buffer = new MemoryStream();
                stream.CopyTo(buffer);
                Run(fuzzed, buffer.ToArray());
            });
            return 0;
        }
        using var system = NewSystem();
        var targets = Targets((ExtendedActorSystem)system);
        switch (args)
        {
            case ["seeds", var dir]:
                Directory.CreateDirectory(dir);
                foreach (var (i, t) in targets.Index())
                    File.WriteAllBytes(Path.Combine(dir, $"{i:D2}-{Safe(t.Name)}"), [(byte)i, .. t.Seed]);
                Console.WriteLine($"{targets.Count} seeds in {dir}");
                return 0;
            case ["list"]:
                foreach (var (i, t) in targets.Index()) Console.WriteLine($"{i,3} {t.Name}");
                return 0;
            case ["replay", .. var files]:
                var crashes = 0;
                foreach (var file in files)
                {
                    try { Console.WriteLine($"{file}: {Run(targets, File.ReadAllBytes(file))}"); }
                    catch (Exception e)
                    {
                        crashes++;
                        Console.WriteLine($"{file}: CRASH {e.GetType().Name}: {e.Message}\n{e.StackTrace}");
                    }
                }
                return crashes == 0 ? 0 : 1;
            default:
                Console.Error.WriteLine("usage: FusionActors.Fuzz [seeds DIR | list | replay FILE...]");
                return 2;
        }
    }

    private static ActorSystem NewSystem() =>
        ActorSystem.Create("fuzz", FusionConfig.DefaultsText + "\nakka.actor.provider = local\nakka.loglevel = ERROR\n");

    /// <summary>Reads <paramref name="input"/> with the reader its first byte names; returns what came of it, throws on a crash.</summary>
    public static string Run(IReadOnlyList<Target> targets, byte[] input)
    {
        if (input.Length == 0) return "empty";
        var target = targets[input[0] % targets.Count];
        try
        {
            return $"{target.Name}: {target.Read(input.AsSpan(1).ToArray())}";
        }
        catch (Exception e) when (target.Refusal(e))
        {
            return $"{target.Name}: refused ({e.GetType().Name})";
        }
    }

    /// <param name="Refusal">The reader's typed refusal: the only exception it may throw.</param>
    public sealed record Target(string Name, Func<byte[], string> Read, Func<Exception, bool> Refusal, byte[] Seed);

    public static List<Target> Targets(ExtendedActorSystem system)
    {
        var protocol = (SerializerWithStringManifest)system.Serialization.FindSerializerForType(typeof(OpenSession));
        var frames = (SerializerWithStringManifest)system.Serialization.FindSerializerForType(typeof(Frame));
        var samples = Samples(system).ToDictionary(m => m.GetType());
        var list = new List<Target>();
        static bool Serialization(Exception e) => e is SerializationException;
        foreach (var (manifest, type) in WireTypes.Control.OrderBy(kv => kv.Key, StringComparer.Ordinal))
            list.Add(new Target($"control {manifest}", b => Built(protocol.FromBinary(b, manifest)), Serialization,
                samples.TryGetValue(type, out var sample) ? protocol.ToBinary(sample) : "{}"u8.ToArray()));
        foreach (var type in WireTypes.Frames)
        {
            var sample = samples[type];
            var manifest = frames.Manifest(sample);
            list.Add(new Target($"frames {manifest}", b => Built(frames.FromBinary(b, manifest)), Serialization, frames.ToBinary(sample)));
        }
        // A session frame stream's element (Akka.Streams' internal SequencedOnNext around a batch), in FrameSerializer's compact form.
        if (Type.GetType(FrameSerializer.StreamElementTypeName) is { } element)
        {
            var sequenced = Activator.CreateInstance(element, 7L, samples[typeof(FrameBatch)])!;
            var manifest = frames.Manifest(sequenced);
            list.Add(new Target($"frames {manifest}", b => frames.FromBinary(b, manifest) is var m && m.GetType() == element ? "stream element" : Built(m),
                Serialization, frames.ToBinary(sequenced)));
        }
        static bool Ingress(Exception e) => e is IngressProtocolException;
        list.Add(new Target("ingress open", b => IngressWire.ParseOpen(b).Spec.SessionId, Ingress, IngressOpenSeed()));
        list.Add(new Target("ingress frames", b => $"{IngressWire.ParseFrames(b, "fuzz", ["audio", "camera"]).Count} frames", Ingress,
            [2, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 16, 39, 0, 0, 0, 0, 0, 0, 2, 0, 0, 0, 0, 0, 128, 63, 0, 0, 0, 64,
             1, 2, 0, 0, 0, 0, 0, 0, 0, 32, 78, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 64, 64]));
        list.Add(new Target("recording", b =>
        {
            using var file = new MemoryStream(b);
            return $"{RecordingReader.Read(file).Records.Count} records";
        }, e => e is RecordingFormatException, RecordingSeed(system)));
        return list;
    }

    private static string Built(object message) => message is ProtocolMessage ? message.GetType().Name : throw new InvalidOperationException($"built a {message.GetType()}");

    /// <summary>One valid message of the types whose JSON has most to explore; the others start from "{}".</summary>
    private static IEnumerable<ProtocolMessage> Samples(ExtendedActorSystem system)
    {
        var someone = system.ActorOf(Props.Empty, "someone");
        var spec = Spec();
        var frame = new Frame("fuzz", "audio", 3, 60_000, [0.5f, -1f, 2f]) { TraceParent = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01" };
        yield return frame;
        yield return new FrameBatch("fuzz", [frame, frame with { Seq = 4, TraceParent = null }], Secrets.New());
        yield return new StreamHeartbeat("fuzz", "camera", 9, Secrets.New());
        yield return new OpenSession(spec, 12, "token", new SessionResume(5, new Dictionary<string, long> { ["audio"] = 7 }, 2, Secrets.New(),
            new Dictionary<string, long[]> { ["audio"] = [3] }, new Dictionary<long, int> { [1_000_000] = 1 }, 1), someone, Secrets.New());
        yield return new SessionOpened("fuzz", ["audio", "camera"], -3, someone, null, Secrets.New(), 2, Secrets.New(), Secrets.New());
        yield return new FusedResult("fuzz", 0, 1_000_000, 1, FusedStatus.Fused, [0.9, 0.1], 0, "0", 0.9, 0.3,
            new Dictionary<string, double> { ["audio"] = 0.6 }, ["image"], [], [0.1f],
            new Dictionary<string, StreamState> { ["audio"] = StreamState.Active }, 10, "adaptive") { Seal = Secrets.New() };
        yield return new SetFusionPolicy("fuzz", FusionPolicy.Single("audio"), Secrets.New());
        yield return new RelinkedOutput("fuzz", [[0x83, 0x7b, 0x7d]], Secrets.New());
        yield return new ClusterMembers(["akka.tcp://fusion@127.0.0.1:4053"], []);
    }

    private static SessionSpec Spec() => new()
    {
        SessionId = "fuzz",
        Labels = ["0", "1"],
        Window = WindowSpec.Tumbling(1_000_000),
        AllowedLatenessUs = 150_000,
        Streams =
        [
            new StreamSpec { StreamId = "audio", Modality = "audio", Model = "noop", FrameLength = 320, SampleRateHz = 16_000, Framing = Framing.Windowed(1_000_000, 1_000_000) },
            new StreamSpec { StreamId = "camera", Modality = "image", Model = "noop", FrameLength = 64 },
        ],
        Gates = [new StreamGate { Gate = "camera", Gated = "audio", Floor = 0.25 }],
    };

    private static byte[] IngressOpenSeed() => System.Text.Json.JsonSerializer.SerializeToUtf8Bytes(new IngressOpen
    {
        Protocol = 1, Spec = Spec(), Token = "token", Nonce = Secrets.New(), ClientNowUs = 0,
        Resume = new IngressResume { CommittedThroughUs = 0, NextSeq = new() { ["audio"] = 5 }, Generation = 1, Delivered = new() { [0] = 2 } },
    }, IngressWire.Json);

    private static byte[] RecordingSeed(ExtendedActorSystem system)
    {
        var dir = Directory.CreateTempSubdirectory("fusion-fuzz-");
        try
        {
            string path;
            using (var writer = new RecordingWriter(new RecordingOptions { Directory = dir.FullName }))
            {
                var recording = writer.For("fuzz", TimeSources.Manual(new ManualClock(1_700_000_000_000_000)));
                path = recording.Begin(Spec() with { Record = true }, -42);
                recording.Frame(new Frame("fuzz", "camera", 0, 10_000, new float[64]));
                recording.Heartbeat("audio", 99_000);
                recording.End("seed");
                writer.Flush(TimeSpan.FromSeconds(30));
            }
            return File.ReadAllBytes(path);
        }
        finally { dir.Delete(recursive: true); }
    }

    private static string Safe(string name) => string.Concat(name.Select(c => char.IsAsciiLetterOrDigit(c) ? c : '_'));
}
