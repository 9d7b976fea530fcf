using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using FusionActors.Core.Alignment;
using FusionActors.Core.Fusion;
using FusionActors.Core.Fusion.Policies;
using FusionActors.Core.Streams;
using FusionActors.Protocol;
using FusionActors.Protocol.Specs;
using static FusionActors.Core.Tests.TestData;

namespace FusionActors.Core.Tests;

public class WeightingPolicySpec
{
    [Fact]
    public void Every_policy_kind_on_the_wire_has_exactly_one_policy_class()
    {
        Assert.Equal(Enum.GetValues<FusionPolicyKind>().Order(), WeightingPolicies.All.Select(p => p.Kind).Order());
        foreach (var kind in Enum.GetValues<FusionPolicyKind>())
            Assert.Equal(kind, WeightingPolicies.For(new FusionPolicy(kind, "m")).Kind);
        Assert.All(WeightingPolicies.All, p => Assert.False(string.IsNullOrWhiteSpace(p.Description)));
    }

    [Fact]
    public void Operators_see_the_policies_as_they_always_have()
    {
        // A policy added later comes after these; the ones operators know keep their names and order.
        Assert.Equal(new[] { "adaptive", "fixed", "single:" }, WeightingPolicies.Completions.Take(3));
        Assert.StartsWith("adaptive, fixed", WeightingPolicies.Usage);
        Assert.Contains("single:MODALITY", WeightingPolicies.Usage);
        var e = Assert.Throws<FormatException>(() => WeightingPolicies.Parse("mean"));
        Assert.StartsWith("unknown fusion policy 'mean': expected adaptive, fixed", e.Message);
        Assert.Contains("single:<modality>", e.Message);
        if (WeightingPolicies.All.Count == 3)
        {
            Assert.Equal("adaptive, fixed, single:MODALITY or learned", WeightingPolicies.Usage);
            Assert.Equal("unknown fusion policy 'mean': expected adaptive, fixed, single:<modality> or learned", e.Message);
        }
    }

    [Theory]
    [InlineData("adaptive", FusionPolicyKind.Adaptive, null, "adaptive")]
    [InlineData("FIXED", FusionPolicyKind.Fixed, null, "fixed")]
    [InlineData(" single:audio ", FusionPolicyKind.Single, "audio", "single:audio")]
    public void The_registry_parses_what_the_wire_record_names(string text, FusionPolicyKind kind, string? modality, string name)
    {
        var policy = WeightingPolicies.Parse(text);
        Assert.Equal(new FusionPolicy(kind, modality), policy);
        Assert.Equal(name, policy.ToString());
        Assert.Equal(policy, WeightingPolicies.Parse(policy.ToString()));
    }

    [Theory]
    [InlineData("single")]
    [InlineData("adaptive:audio")]
    [InlineData("0")]
    [InlineData("Single:")]
    public void Malformed_policies_are_refused(string text) => Assert.Throws<FormatException>(() => WeightingPolicies.Parse(text));

    [Fact]
    public void Only_a_policy_that_names_a_modality_can_name_an_unknown_one()
    {
        StreamSpec?[] streams = [Stream("mic", "audio"), null, Stream("cam", "video")];
        Assert.False(WeightingPolicies.NamesUnknownModality(FusionPolicy.Single("video"), streams));
        Assert.True(WeightingPolicies.NamesUnknownModality(FusionPolicy.Single("smell"), streams));
        Assert.True(WeightingPolicies.NamesUnknownModality(new FusionPolicy(FusionPolicyKind.Single), streams.OfType<StreamSpec>()));
        Assert.False(WeightingPolicies.NamesUnknownModality(FusionPolicy.Adaptive with { Modality = "smell" }, streams));
        Assert.False(WeightingPolicies.NamesUnknownModality(FusionPolicy.Fixed, streams));
    }

    [Fact]
    public void Metric_tags_group_policies_by_kind()
    {
        Assert.Equal("single", WeightingPolicies.KindName("single:audio"));
        Assert.Equal("adaptive", WeightingPolicies.KindName("adaptive"));
        Assert.Equal("fixed", WeightingPolicies.KindName("fixed"));
    }

    /// <summary>The weighting as FusionEngine computed it before policies were classes, kept here as the reference.</summary>
    private static double ReferenceWeight(FusionPolicy policy, IReadOnlyDictionary<string, double> fixedWeights, string modality, StreamSpec[] specs,
        double prior, double tau, AlignedWindow window, double[]? logp, long newestEnd, IReadOnlyDictionary<string, StreamSnapshot> streams)
    {
        switch (policy.Kind)
        {
            case FusionPolicyKind.Single:
                return modality == policy.Modality ? 1.0 : 0.0;
            case FusionPolicyKind.Fixed:
                return fixedWeights.TryGetValue(modality, out var fixedW) ? fixedW : prior;
        }
        var s = prior;
        var r = 0.0;
        foreach (var x in specs) r += streams.TryGetValue(x.StreamId, out var snap) ? snap.ReliabilityOfEvidence : 0.0;
        r /= specs.Length;
        var c = logp is { Length: > 0 } ? Probabilities.ConfidenceOfLog(logp) : 1.0;
        var age = Math.Max(0, window.EndUs - newestEnd);
        var f = Math.Exp(-age / tau);
        return s * r * c * f;
    }

    private static double[] RandomLogP(Random rng, int classes)
    {
        var logp = new double[classes];
        for (var k = 0; k < classes; k++) logp[k] = Math.Log(rng.NextDouble() + 1e-9) * rng.Next(1, 6);
        Probabilities.NormaliseLog(logp);
        return logp;
    }

    private static StreamSnapshot RandomSnapshot(Random rng) =>
        new(Enum.GetValues<StreamState>()[rng.Next(5)], rng.NextDouble(), rng.Next(3) == 0 ? null : rng.NextDouble());

    [Property(MaxTest = 500)]
    public Property Each_policy_class_weighs_bit_for_bit_as_the_engine_did_before() =>
        Prop.ForAll(Arb.From(Gen.Choose(0, int.MaxValue)), seed =>
        {
            var rng = new Random(seed);
            var modalities = new[] { "audio", "video", "imu" };
            var modality = modalities[rng.Next(modalities.Length)];
            var specs = Enumerable.Range(0, rng.Next(1, 4)).Select(i => Stream($"{modality}-{i}", modality)).ToArray();
            var streams = specs.Where(_ => rng.Next(4) > 0).ToDictionary(s => s.StreamId, _ => RandomSnapshot(rng));
            var fixedWeights = modalities.Where(_ => rng.Next(2) == 0).ToDictionary(m => m, _ => rng.NextDouble() * 5);
            var prior = rng.NextDouble() * 3;
            var tau = 1 + rng.NextDouble() * 2 * Sec;
            var start = rng.NextInt64(-10 * Sec, 10 * Sec);
            var window = Window(start, start + rng.NextInt64(1, 2 * Sec));
            var newest = window.EndUs - rng.NextInt64(-Sec, 5 * Sec);
            var logp = rng.Next(5) == 0 ? null : RandomLogP(rng, rng.Next(1, 12));
            var policies = new[] { FusionPolicy.Adaptive, FusionPolicy.Fixed, FusionPolicy.Single(modalities[rng.Next(modalities.Length)]) };
            foreach (var policy in policies)
            {
                var expected = ReferenceWeight(policy, fixedWeights, modality, specs, prior, tau, window, logp, newest, streams);
                var actual = WeightingPolicies.For(policy).Weight(new ModalityEvidence(policy, modality, specs, prior, tau, logp, newest, window, streams, fixedWeights));
                Assert.Equal(BitConverter.DoubleToInt64Bits(expected), BitConverter.DoubleToInt64Bits(actual));
                Assert.True(actual >= 0, $"{policy}: weight {actual}");
            }
            return true;
        });

    [Property(MaxTest = 300)]
    public Property Fused_weights_are_non_negative_sum_to_one_and_a_missing_modality_gets_none() =>
        Prop.ForAll(Arb.From(Gen.Choose(0, int.MaxValue)), seed =>
        {
            var rng = new Random(seed);
            string[] modalities = ["audio", "video", "imu"];
            var spec = Session(Stream("mic", "audio", priorWeight: 0.5 + rng.NextDouble()), Stream("cam", "video"), Stream("cam2", "video"), Stream("acc", "imu"))
                with { FixedWeights = modalities.Where(_ => rng.Next(2) == 0).ToDictionary(m => m, _ => rng.NextDouble() * 3) };
            var engine = new FusionEngine(spec);
            for (var i = 0; i < 5; i++)
            {
                engine.Policy = rng.Next(3) switch
                {
                    0 => FusionPolicy.Adaptive,
                    1 => FusionPolicy.Fixed,
                    _ => FusionPolicy.Single(modalities[rng.Next(modalities.Length)]),
                };
                var start = i * Sec;
                var evidence = spec.Streams.Where(_ => rng.Next(3) > 0)
                    .Select(s => Ev(s.StreamId, start + rng.NextInt64(0, Sec), probs: Probabilities.Exp(RandomLogP(rng, 3)), modality: s.Modality))
                    .ToArray();
                var snapshots = spec.Streams.ToDictionary(s => s.StreamId, _ => RandomSnapshot(rng));
                var r = engine.Fuse("s1", Window(start, start + Sec, 0, evidence), snapshots);
                var present = evidence.Select(e => e.Modality).ToHashSet();
                Assert.Equal(modalities.Where(m => !present.Contains(m)), r.Missing);
                Assert.All(r.Missing, m => Assert.Equal(0.0, r.Weights[m]));
                Assert.All(r.Weights.Values, w => Assert.True(w >= 0, $"weight {w}"));
                var sum = r.Weights.Values.Sum();
                if (sum == 0) Assert.Equal(FusedStatus.NoEvidence, r.Status);
                else Assert.Equal(1.0, sum, 12);
                if (engine.Policy.Kind == FusionPolicyKind.Single && present.Contains(engine.Policy.Modality!))
                    Assert.Equal(1.0, r.Weights[engine.Policy.Modality!]);
            }
            return true;
        });
}
