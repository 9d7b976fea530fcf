using FusionActors.Protocol.Specs;

namespace FusionActors.Core.Fusion.Policies;

/// <summary>
/// How the fusion weighs one modality's evidence in a window. One stateless instance per
/// <see cref="FusionPolicyKind"/>, listed in <see cref="WeightingPolicies"/>; the policy's argument (a modality, for
/// kinds that take one) comes with each call in <see cref="ModalityEvidence.Policy"/>.
/// </summary>
/// <remarks>
/// Called for each modality with evidence (present or imputed) in every window of every session: no allocation.
/// Weights must be finite and ≥ 0; the engine normalises them over the modalities with evidence and gives
/// missing modalities 0.
/// </remarks>
public interface IWeightingPolicy
{
    /// <summary>The wire kind this policy implements.</summary>
    FusionPolicyKind Kind { get; }

    /// <summary>One line for operators: what the weight is.</summary>
    string Description { get; }

    /// <summary>The unnormalised weight of <paramref name="evidence"/>'s modality in its window.</summary>
    double Weight(in ModalityEvidence evidence);
}
