using FusionActors.Protocol.Specs;

namespace FusionActors.Core.Fusion.Policies;

/// <summary>
/// w = s · r · d · c · f: prior weight, reliability of the evidence, its drift discount (an input unlike the model's
/// training data is less reliable, <see cref="DriftDiscount.Adaptive"/>), confidence, freshness.
/// </summary>
public sealed class AdaptivePolicy : IWeightingPolicy
{
    public FusionPolicyKind Kind => FusionPolicyKind.Adaptive;

    public string Description => "prior x reliability x drift discount x confidence x freshness, window by window";

    public double Weight(in ModalityEvidence evidence)
    {
        var s = evidence.PriorWeight;
        // Only modalities with evidence get here: weigh it with the reliability it was produced at.
        var r = evidence.Reliability * DriftDiscount.Adaptive.Factor(evidence.Drift);
        var c = evidence.Confidence;
        var f = evidence.Freshness;
        return s * r * c * f;
    }
}
