using FusionActors.Protocol.Specs;

namespace FusionActors.Core.Fusion.Policies;

/// <summary>
/// Every fusion policy the node runs: the one place that lists them. Parsing, validation, the operator console's
/// choices and the weighing itself all go through here, so a new policy is its <see cref="FusionPolicyKind"/>
/// member, its <see cref="IWeightingPolicy"/> class and its line in <see cref="All"/>.
/// </summary>
public static class WeightingPolicies
{
    /// <summary>The policies, in the order operators see them.</summary>
    public static IReadOnlyList<IWeightingPolicy> All { get; } =
    [
        new AdaptivePolicy(),
        new FixedPolicy(),
        new SinglePolicy(),
        new LearnedPolicy(),
    ];

    private static readonly Dictionary<FusionPolicyKind, IWeightingPolicy> ByKind = All.ToDictionary(p => p.Kind);

    /// <summary>The policy that implements <paramref name="kind"/>, or null when the node has none.</summary>
    public static IWeightingPolicy? Find(FusionPolicyKind kind) => ByKind.GetValueOrDefault(kind);

    /// <summary>The policy that implements <paramref name="policy"/>'s kind.</summary>
    /// <exception cref="ArgumentException">No policy implements it.</exception>
    public static IWeightingPolicy For(FusionPolicy policy) =>
        Find(policy.Kind) ?? throw new ArgumentException($"no weighting policy implements '{policy.Kind}'", nameof(policy));

    /// <summary>Whether a policy implements <paramref name="policy"/>'s kind.</summary>
    public static bool IsKnown(FusionPolicy policy) => ByKind.ContainsKey(policy.Kind);

    /// <summary>
    /// Parses "adaptive", "fixed", "single:MODALITY", "learned" (case-insensitive, trimmed).
    /// </summary>
    /// <exception cref="FormatException">Not the name of a policy this node runs.</exception>
    public static FusionPolicy Parse(string text)
    {
        var policy = FusionPolicy.Parse(text);
        if (!IsKnown(policy)) throw new FormatException($"unknown fusion policy '{text}': expected {Usage}");
        return policy;
    }

    /// <summary>
    /// True when <paramref name="policy"/> names a modality (as <c>single:MODALITY</c> does) that none of
    /// <paramref name="streams"/> has. Null streams have no modality.
    /// </summary>
    public static bool NamesUnknownModality(FusionPolicy policy, IEnumerable<StreamSpec?> streams)
    {
        if (!FusionPolicy.TakesModality(policy.Kind)) return false;
        foreach (var s in streams)
            if (s?.Modality == policy.Modality) return false;
        return true;
    }

    /// <summary>How the policies are written, for help texts: "adaptive, fixed, single:MODALITY or learned".</summary>
    public static string Usage => Forms("MODALITY");

    /// <summary>
    /// What a console completes a policy argument to: each name, with its colon when a modality follows
    /// ("adaptive", "fixed", "single:").
    /// </summary>
    public static IReadOnlyList<string> Completions { get; } =
        [.. All.Select(p => FusionPolicy.TakesModality(p.Kind) ? FusionPolicy.NameOf(p.Kind) + ":" : FusionPolicy.NameOf(p.Kind))];

    /// <summary>
    /// The kind's name of a policy as results name it ("single:audio" → "single"; "adaptive" stays): a bounded set,
    /// for metric tags. No allocation.
    /// </summary>
    public static string KindName(string policy)
    {
        foreach (var (prefix, name) in ArgumentPrefixes)
            if (policy.StartsWith(prefix, StringComparison.Ordinal)) return name;
        return policy;
    }

    private static readonly (string Prefix, string Name)[] ArgumentPrefixes =
        [.. All.Where(p => FusionPolicy.TakesModality(p.Kind)).Select(p => (FusionPolicy.NameOf(p.Kind) + ":", FusionPolicy.NameOf(p.Kind)))];

    private static string Forms(string modality)
    {
        var forms = All.Select(p => FusionPolicy.TakesModality(p.Kind) ? $"{FusionPolicy.NameOf(p.Kind)}:{modality}" : FusionPolicy.NameOf(p.Kind)).ToArray();
        return forms.Length == 1 ? forms[0] : string.Join(", ", forms[..^1]) + " or " + forms[^1];
    }
}
