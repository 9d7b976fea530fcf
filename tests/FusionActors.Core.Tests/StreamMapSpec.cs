using FusionActors.Core.Alignment;
using FusionActors.Core.Fusion;
using FusionActors.Core.Streams;
using FusionActors.Protocol;
using FusionActors.Protocol.Specs;

using static FusionActors.Core.Tests.TestData;

namespace FusionActors.Core.Tests;

/// <summary>
/// A window's evidence per stream as the aligner hands it out (<see cref="StreamMap{T}"/> over the session's shared
/// stream ids): it reads like the dictionary it replaced, and the fusion decides the aligner's windows bit for bit as
/// it decides the same evidence in a dictionary.
/// </summary>
public class StreamMapSpec
{
    [Fact]
    public void A_stream_map_reads_like_a_dictionary_in_spec_order()
    {
        var keys = new StreamKeys(["b", "a", "c"]);
        var map = new StreamMap<int>(keys, [2, 1, 3]);
        Assert.Equal(["b", "a", "c"], map.Keys);
        Assert.Equal([2, 1, 3], map.Values);
        Assert.Equal(3, map.Count);
        Assert.Equal(1, map["a"]);
        Assert.True(map.TryGetValue("c", out var c) && c == 3);
        Assert.False(map.TryGetValue("d", out _));
        Assert.False(map.ContainsKey("d"));
        Assert.Throws<KeyNotFoundException>(() => map["d"]);
        Assert.Equal(new[] { ("b", 2), ("a", 1), ("c", 3) }, map.Select(kv => (kv.Key, kv.Value)));
        Assert.Throws<ArgumentException>(() => new StreamMap<int>(keys, [1, 2]));
        Assert.Throws<ArgumentException>(() => new StreamKeys(["a", "a"]));

        // Many streams: looked up by a shared index, same answers.
        var many = Enumerable.Range(0, 40).Select(i => $"s{i}").ToArray();
        var big = new StreamMap<int>(new StreamKeys(many), [.. Enumerable.Range(0, 40)]);
        for (var i = 0; i < many.Length; i++) Assert.Equal(i, big[many[i]]);
        Assert.False(big.ContainsKey("s40"));
    }

    [Theory]
    [InlineData(FusionPolicyKind.Adaptive, 1)]
    [InlineData(FusionPolicyKind.Adaptive, 2)]
    [InlineData(FusionPolicyKind.Fixed, 3)]
    [InlineData(FusionPolicyKind.Single, 4)]
    public void The_fusion_decides_the_aligners_windows_bit_for_bit_as_the_same_evidence_in_a_dictionary(FusionPolicyKind policy, int seed)
    {
        var rng = new Random(seed);
        var spec = Session(Stream("audio"), Stream("video"), Stream("imu", modality: "audio")) with
        {
            Window = WindowSpec.Tumbling(10 * Ms),
            Policy = policy == FusionPolicyKind.Single ? FusionPolicy.Single("video") : new FusionPolicy(policy),
        };
        var aligner = new Aligner(spec);
        var viaMap = new FusionEngine(spec);
        var viaDictionary = new FusionEngine(spec);
        var health = Healthy("audio", "video", "imu");
        var windows = 0;
        for (var t = 0L; t < 400 * Ms; t += Ms)
        {
            foreach (var stream in new[] { "audio", "video", "imu" })
            {
                if (rng.NextDouble() < 0.3) continue; // gaps: some windows miss a stream
                var p = Enumerable.Range(0, 3).Select(_ => 0.05 + rng.NextDouble()).ToArray();
                var sum = p.Sum();
                var e = Ev(stream, t + rng.Next(0, 500), t + Ms, [.. p.Select(v => v / sum)],
                    embedding: [.. Enumerable.Range(0, 4).Select(_ => (float)rng.NextDouble())], modality: stream == "imu" ? "audio" : stream)
                    with { Drift = rng.NextDouble() < 0.2 ? double.NaN : rng.NextDouble() * 3, Coverage = rng.NextDouble() };
                aligner.OnEvidence(e);
            }
            foreach (var w in aligner.AdvanceAll(t).Windows)
            {
                Assert.IsType<StreamMap<IReadOnlyList<Evidence>>>(w.Evidence);
                var asDictionary = w with { Evidence = w.Evidence.ToDictionary(kv => kv.Key, kv => kv.Value) };
                Same(viaDictionary.Fuse("s1", asDictionary, health), viaMap.Fuse("s1", w, health));
                windows++;
            }
        }
        Assert.True(windows > 30);
    }

    private static void Same(FusedResult expected, FusedResult actual)
    {
        Assert.Equal(expected.Status, actual.Status);
        Assert.Equal(Bits(expected.Posterior), Bits(actual.Posterior));
        Assert.Equal(expected.TopClass, actual.TopClass);
        Assert.Equal(BitConverter.DoubleToInt64Bits(expected.Confidence), BitConverter.DoubleToInt64Bits(actual.Confidence));
        Assert.Equal(BitConverter.DoubleToInt64Bits(expected.Entropy), BitConverter.DoubleToInt64Bits(actual.Entropy));
        Assert.Equal(expected.Weights.Select(kv => (kv.Key, BitConverter.DoubleToInt64Bits(kv.Value))), actual.Weights.Select(kv => (kv.Key, BitConverter.DoubleToInt64Bits(kv.Value))));
        Assert.Equal(expected.Missing, actual.Missing);
        Assert.Equal(expected.Imputed, actual.Imputed);
        Assert.Equal(expected.FusedEmbedding.Select(BitConverter.SingleToInt32Bits), actual.FusedEmbedding.Select(BitConverter.SingleToInt32Bits));
        Assert.Equal(expected.WatermarkLagUs, actual.WatermarkLagUs);
    }

    private static long[] Bits(double[] values) => [.. values.Select(BitConverter.DoubleToInt64Bits)];
}
