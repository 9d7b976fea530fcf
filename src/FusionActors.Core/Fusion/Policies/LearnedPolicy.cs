using FusionActors.Protocol.Specs;

namespace FusionActors.Core.Fusion.Policies;

/// <summary>
/// A learned weighting head: maps one modality's <see cref="LearnedFeatures"/> to its unnormalised weight. The node
/// loads one from models/fusion.json (an ONNX model, run by FusionActors.Inference); Core only knows this interface.
/// </summary>
public interface ILearnedWeighting
{
    /// <summary>Number of features the head takes: must be <see cref="LearnedFeatures.Count"/>.</summary>
    int FeatureCount { get; }

    /// <summary>The weight of a modality with these features: finite and ≥ 0.</summary>
    double Weight(ReadOnlySpan<float> features);
}

/// <summary>
/// A head that also wants to see what it weighs (the evaluation's feature dump records the features with the window,
/// the modality and its posterior): called with each modality's evidence and features before <see cref="ILearnedWeighting.Weight"/>.
/// </summary>
public interface IEvidenceObserver
{
    void Observe(in ModalityEvidence evidence, ReadOnlySpan<float> features);
}

/// <summary>
/// w = the node's learned head applied to the modality's <see cref="LearnedFeatures"/>. A session can only run it on a
/// node that has loaded a head (<see cref="FusionModels.Learned"/>); the engine refuses the policy otherwise.
/// </summary>
/// <remarks>Computes the features on the stack; the head's own run (ONNX Runtime) allocates its small tensors.</remarks>
public sealed class LearnedPolicy : IWeightingPolicy
{
    public FusionPolicyKind Kind => FusionPolicyKind.Learned;

    public string Description => "a learned head over confidence, freshness, reliability, coverage and agreement (models/fusion.json)";

    public double Weight(in ModalityEvidence evidence)
    {
        var head = evidence.Learned ?? throw new InvalidOperationException("the learned policy needs the node's learned head (models/fusion.json)");
        Span<float> features = stackalloc float[LearnedFeatures.Count];
        LearnedFeatures.Compute(evidence, features);
        if (head is IEvidenceObserver observer) observer.Observe(evidence, features);
        var w = head.Weight(features);
        // A head is a model file: whatever it returns, the engine gets a finite weight ≥ 0.
        return double.IsFinite(w) && w > 0 ? w : 0.0;
    }
}
