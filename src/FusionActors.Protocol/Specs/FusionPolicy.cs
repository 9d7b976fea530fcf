using System.Reflection;

namespace FusionActors.Protocol.Specs;

/// <summary>
/// The policy a session weighs its modalities with, as the wire names it. Its name in text is the member's name in
/// lower case; a member marked <see cref="TakesModalityAttribute"/> is written <c>name:MODALITY</c>.
/// </summary>
public enum FusionPolicyKind
{
    /// <summary>w = prior · reliability · confidence · freshness.</summary>
    Adaptive,

    /// <summary>Static weights only (from the spec's fixed weights, else the prior weights).</summary>
    Fixed,

    /// <summary>Only one modality counts.</summary>
    [TakesModality]
    Single,

    /// <summary>Weights from a small learned head over per-modality features (the node's models/fusion.json).</summary>
    Learned,
}

/// <summary>A <see cref="FusionPolicyKind"/> that names a modality: <c>name:MODALITY</c>.</summary>
[AttributeUsage(AttributeTargets.Field)]
public sealed class TakesModalityAttribute : Attribute;

/// <summary>How modalities are weighted: "adaptive", "fixed" or "single:MODALITY".</summary>
public sealed record FusionPolicy(FusionPolicyKind Kind, string? Modality = null)
{
    private static readonly (FusionPolicyKind Kind, string Name, bool TakesModality)[] Kinds =
        [.. Enum.GetValues<FusionPolicyKind>().Select(k => (k, k.ToString().ToLowerInvariant(),
            typeof(FusionPolicyKind).GetField(k.ToString())!.IsDefined(typeof(TakesModalityAttribute))))];

    public static FusionPolicy Adaptive { get; } = new(FusionPolicyKind.Adaptive);
    public static FusionPolicy Fixed { get; } = new(FusionPolicyKind.Fixed);
    public static FusionPolicy Single(string modality) => new(FusionPolicyKind.Single, modality);
    public static FusionPolicy Learned { get; } = new(FusionPolicyKind.Learned);

    /// <summary>The kind's name in text: "adaptive", "fixed", "single".</summary>
    public static string NameOf(FusionPolicyKind kind) => Find(kind) is { } k ? k.Name : kind.ToString().ToLowerInvariant();

    /// <summary>Whether the kind is written with a modality, <c>name:MODALITY</c>.</summary>
    public static bool TakesModality(FusionPolicyKind kind) => Find(kind)?.TakesModality ?? false;

    /// <summary>The forms a policy is written in: "adaptive, fixed or single:&lt;modality&gt;".</summary>
    public static string Forms(string modality = "<modality>")
    {
        var forms = Kinds.Select(k => k.TakesModality ? $"{k.Name}:{modality}" : k.Name).ToArray();
        return forms.Length == 1 ? forms[0] : string.Join(", ", forms[..^1]) + " or " + forms[^1];
    }

    public static FusionPolicy Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var t = text.Trim();
        foreach (var (kind, name, takesModality) in Kinds)
        {
            if (!takesModality)
            {
                if (t.Equals(name, StringComparison.OrdinalIgnoreCase)) return new FusionPolicy(kind);
                continue;
            }
            var prefix = name + ":";
            if (t.StartsWith(prefix, StringComparison.OrdinalIgnoreCase) && t.Length > prefix.Length)
                return new FusionPolicy(kind, t[prefix.Length..]);
        }
        throw new FormatException($"unknown fusion policy '{text}': expected {Forms()}");
    }

    public override string ToString() => TakesModality(Kind) ? $"{NameOf(Kind)}:{Modality}" : NameOf(Kind);

    private static (FusionPolicyKind Kind, string Name, bool TakesModality)? Find(FusionPolicyKind kind)
    {
        foreach (var k in Kinds)
            if (k.Kind == kind) return k;
        return null;
    }
}
