namespace FusionActors.Protocol.Specs;

public enum FusionPolicyKind
{
    /// <summary>w = prior · reliability · confidence · freshness.</summary>
    Adaptive,

    /// <summary>Static weights only (from the spec's fixed weights, else the prior weights).</summary>
    Fixed,

    /// <summary>Only one modality counts.</summary>
    Single,
}

/// <summary>How modalities are weighted: "adaptive", "fixed" or "single:MODALITY".</summary>
public sealed record FusionPolicy(FusionPolicyKind Kind, string? Modality = null)
{
    public static FusionPolicy Adaptive { get; } = new(FusionPolicyKind.Adaptive);
    public static FusionPolicy Fixed { get; } = new(FusionPolicyKind.Fixed);
    public static FusionPolicy Single(string modality) => new(FusionPolicyKind.Single, modality);

    public static FusionPolicy Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var t = text.Trim();
        if (t.Equals("adaptive", StringComparison.OrdinalIgnoreCase)) return Adaptive;
        if (t.Equals("fixed", StringComparison.OrdinalIgnoreCase)) return Fixed;
        if (t.StartsWith("single:", StringComparison.OrdinalIgnoreCase) && t.Length > "single:".Length)
            return Single(t["single:".Length..]);
        throw new FormatException($"unknown fusion policy '{text}': expected adaptive, fixed or single:<modality>");
    }

    public override string ToString() => Kind switch
    {
        FusionPolicyKind.Adaptive => "adaptive",
        FusionPolicyKind.Fixed => "fixed",
        _ => $"single:{Modality}",
    };
}
