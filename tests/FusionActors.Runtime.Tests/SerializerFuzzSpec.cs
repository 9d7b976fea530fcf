using System.Runtime.Serialization;
using Akka.Actor;
using Akka.Serialization;
using Akka.TestKit.Xunit2;
using Xunit;
using Xunit.Abstractions;
using FusionActors.Core.Specs;
using FusionActors.Core.Streams;
using FusionActors.Protocol;
using FusionActors.Protocol.Serialization;
using FusionActors.Protocol.Specs;
using static FusionActors.Runtime.Tests.TestSessions;

namespace FusionActors.Runtime.Tests;

/// <summary>
/// Seeded mutations of valid wire buffers through every deserializer of the project: whatever the bytes, the
/// only thing that may come out is the serializer's typed exception or a message, and reading a buffer
/// allocates no more than a small multiple of its size.
/// </summary>
public sealed class SerializerFuzzSpec(ITestOutputHelper log) : TestKit(LocalConfig)
{
    /// <summary>Mutations in all, spread evenly over the valid buffers of the corpus (at least this many).</summary>
    private const int Mutations = 1_000_000;

    [Fact]
    public void Mutated_buffers_give_a_serialization_error_or_a_message_and_never_anything_else()
    {
        var corpus = Corpus();
        Assert.Equal(WireTypes.Control.Count + WireTypes.Frames.Count, corpus.Select(c => c.Message.GetType()).Distinct().Count());
        // Warm-up: the first read of each type builds the JSON metadata it keeps, which is no cost of the input.
        foreach (var (_, serializer, manifest, bytes) in corpus) serializer.FromBinary(bytes, manifest);
        var random = new Random(20261201);
        var mutationsPerSeed = (Mutations + corpus.Count - 1) / corpus.Count;
        long total = 0, refused = 0, built = 0, worstAllocationPerByte = 0, worstAllocation = 0;
        var failures = new List<string>();
        foreach (var (message, serializer, manifest, bytes) in corpus)
        {
            for (var i = 0; i < mutationsPerSeed && failures.Count < 5; i++)
            {
                var mutated = Mutate(bytes, random);
                var before = GC.GetAllocatedBytesForCurrentThread();
                try
                {
                    var back = serializer.FromBinary(mutated, manifest);
                    Assert.IsAssignableFrom<ProtocolMessage>(back);
                    built++;
                }
                catch (SerializationException) { refused++; }
                catch (Exception e)
                {
                    failures.Add($"{manifest}: {e.GetType().Name}: {e.Message} on {Convert.ToHexString(mutated)[..Math.Min(400, 2 * mutated.Length)]}");
                }
                var allocated = GC.GetAllocatedBytesForCurrentThread() - before;
                // A fixed cost (the reader, the exception and its message; resolving an actor path the node has not seen
                // fills Akka's bounded path caches), then at most 16 B per input byte.
                var budget = 16 * mutated.Length + 128 * 1024;
                if (allocated > budget) failures.Add($"{manifest}: {allocated} B allocated for a {mutated.Length}-byte buffer");
                worstAllocationPerByte = Math.Max(worstAllocationPerByte, allocated / Math.Max(1, mutated.Length));
                worstAllocation = Math.Max(worstAllocation, allocated);
                total++;
            }
        }
        log.WriteLine($"{total:N0} mutated buffers over {corpus.Count} seeds: {refused:N0} refused, {built:N0} built; worst {worstAllocation:N0} B allocated for one buffer, {worstAllocationPerByte} B per input byte");
        Assert.True(failures.Count == 0, string.Join("\n", failures));
        Assert.True(total >= Mutations, $"only {total} mutations ran");
        Assert.True(refused > 0 && built > 0, "the mutations neither only break nor only keep the buffers");
    }

    private List<(object Message, SerializerWithStringManifest Serializer, string Manifest, byte[] Bytes)> Corpus()
    {
        var system = (ExtendedActorSystem)Sys;
        var someone = system.ActorOf(Props.Empty, "someone");
        var spec = Spec("fuzz") with
        {
            FixedWeights = new Dictionary<string, double> { ["audio"] = 1, ["image"] = 0.5 },
            Gates = [new StreamGate { Gate = Camera, Gated = Audio, Floor = 0.25, Pooling = GatePooling.Mean }],
        };
        var frame = new Frame("fuzz", Audio, 3, 60_000, [0.5f, -1f, 2f]);
        var result = new FusedResult("fuzz", 0, 1_000_000, 1, FusedStatus.Fused, [0.9, 0.1], 0, "0", 0.9, 0.3,
            new Dictionary<string, double> { ["audio"] = 0.6 }, ["image"], [], [0.1f], new Dictionary<string, StreamState> { [Audio] = StreamState.Active }, 10, "adaptive")
            { Seal = Secrets.New(), Uncertain = true };
        var counters = new StreamCounters { FramesIn = 5, Rejected = new Dictionary<RejectReason, long> { [RejectReason.NotFinite] = 2 } };
        object[] messages =
        [
            frame, new FrameBatch("fuzz", [frame, frame with { Seq = 4 }], Secrets.New()),
            // Frames with a W3C traceparent: the mutations reach its header bit, length byte and bytes.
            frame with { TraceParent = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01" },
            new FrameBatch("fuzz", [frame with { TraceParent = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01" }, frame with { Seq = 4 }], Secrets.New()),
            new StreamHeartbeat("fuzz", Camera, 9, Secrets.New()),
            new OpenSession(spec, 12, "token", new SessionResume(5, new Dictionary<string, long> { [Audio] = 7 }, 2, Secrets.New()), someone, Secrets.New()),
            new SessionOpened("fuzz", [Audio, Camera], -3, someone, null, Secrets.New(), 2, Secrets.New(), Secrets.New()),
            new WriterRelinked("fuzz", someone, Secrets.New()), new RelinkedOutput("fuzz", [[0x83, 0x7b, 0x7d], [0x82, 1, 2, 3, 4, 5, 6, 7, 8]], Secrets.New()),
            new SessionFenced("fuzz", 1, 2, "another writer", Secrets.New()), new NodeFull("fuzz", 20_000, Secrets.New()), new CloseSession("fuzz", Secrets.New()), new SessionClosed("fuzz"),
            new Subscribe("fuzz", someone, Secrets.New()), new Unsubscribe("fuzz", someone), new Subscribed("fuzz"),
            new GetSessionStatus("fuzz", Secrets.New()),
            new SessionStatus("fuzz", true, [new StreamStatus("fuzz", Audio, "audio", StreamState.Idle, 0.5, 10, 9, 1, counters) { Drift = new StreamDrift(0.5, 1.25, 20, 1.0, true, 1, 40) }],
                new AlignmentStatus(1, 2, 3, 4, new Dictionary<string, long> { [Audio] = 1 }, 5), new FusionStatus("adaptive", 1, 0, 0, [result]), "akka://x/user/y"),
            new CloseStream("fuzz", Audio, Secrets.New()), new FramesCommitted("fuzz", 1_000_000, Secrets.New()), result,
            new LateEvidence("fuzz", Audio, 1, 2, 3, 4), new StreamStateChanged("fuzz", Audio, StreamState.Active, StreamState.Idle, "silent"),
            new FrameRejected("fuzz", Audio, 3, RejectReason.Duplicate, "seen"), new CommandRejected("fuzz", "X", "no", Secrets.New()),
            new ClockPing("fuzz", 5, Secrets.New()), new ClockPong("fuzz", 5, 6, Secrets.New()), GetClusterMembers.Instance,
            new ClusterMembers(["akka.tcp://fusion@a:1"], []), new UnsupportedMessage("T", "why"),
            new SetFusionPolicy("fuzz", FusionPolicy.Single("audio"), Secrets.New()), new RestartStream("fuzz", Audio), new DisableStream("fuzz", Audio),
            new EnableStream("fuzz", Audio), new CrashEncoder("fuzz", Camera), new DropFrames("fuzz", Audio, TimeSpan.FromSeconds(3)),
            new SetRecording("fuzz", true, Secrets.New()),
        ];
        return messages.Select(m =>
        {
            var serializer = (SerializerWithStringManifest)system.Serialization.FindSerializerFor(m);
            return (m, serializer, serializer.Manifest(m), serializer.ToBinary(m));
        }).ToList();
    }

    /// <summary>One to four edits: flipped bits, overwritten bytes, extreme lengths, cuts, repeats and insertions.</summary>
    private static byte[] Mutate(byte[] seed, Random random)
    {
        var bytes = new List<byte>(seed);
        for (var edits = random.Next(1, 5); edits > 0 && bytes.Count > 0; edits--)
        {
            var at = random.Next(bytes.Count);
            switch (random.Next(7))
            {
                case 0: bytes[at] ^= (byte)(1 << random.Next(8)); break;
                case 1: bytes[at] = (byte)random.Next(256); break;
                case 2:
                    var extreme = BitConverter.GetBytes(random.Next(4) switch { 0 => int.MaxValue, 1 => -1, 2 => int.MinValue, _ => 1 << random.Next(31) });
                    for (var k = 0; k < 4 && at + k < bytes.Count; k++) bytes[at + k] = extreme[k];
                    break;
                case 3: bytes.RemoveRange(at, bytes.Count - at); break;
                case 4: bytes.RemoveRange(at, Math.Min(random.Next(1, 16), bytes.Count - at)); break;
                case 5:
                    var length = Math.Min(random.Next(1, 32), bytes.Count - at);
                    bytes.InsertRange(at, bytes.GetRange(at, length));
                    break;
                default:
                    var token = "{}[]\",:0-1e9nulltruefalse\\u0000\"$type\""u8.ToArray();
                    bytes.InsertRange(at, token.Skip(random.Next(token.Length)).Take(random.Next(1, 8)));
                    break;
            }
        }
        return [.. bytes];
    }
}
