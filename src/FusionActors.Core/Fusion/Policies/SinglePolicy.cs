using FusionActors.Protocol.Specs;

namespace FusionActors.Core.Fusion.Policies;

/// <summary>w = 1 for the modality the policy names, 0 for every other.</summary>
public sealed class SinglePolicy : IWeightingPolicy
{
    public FusionPolicyKind Kind => FusionPolicyKind.Single;

    public string Description => "only the named modality counts";

    public double Weight(in ModalityEvidence evidence) => evidence.Modality == evidence.Policy.Modality ? 1.0 : 0.0;
}
