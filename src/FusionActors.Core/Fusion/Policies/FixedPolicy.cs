using FusionActors.Protocol.Specs;

namespace FusionActors.Core.Fusion.Policies;

/// <summary>w = the spec's fixed weight of the modality, else its prior weight; whatever the evidence.</summary>
public sealed class FixedPolicy : IWeightingPolicy
{
    public FusionPolicyKind Kind => FusionPolicyKind.Fixed;

    public string Description => "the spec's fixed weight per modality (else the prior weight)";

    public double Weight(in ModalityEvidence evidence) =>
        evidence.FixedWeights.TryGetValue(evidence.Modality, out var w) ? w : evidence.PriorWeight;
}
