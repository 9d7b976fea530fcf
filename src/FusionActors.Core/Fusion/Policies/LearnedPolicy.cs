using FusionActors.Protocol.Specs;

namespace FusionActors.Core.Fusion.Policies;

/// <summary>What a learned head makes of one modality: its unnormalised weight and a log-temperature.</summary>
/// <param name="Weight">Finite and ≥ 0.</param>
/// <param name="LogTemperature">
/// log T this modality asks the window's fused posterior to be scaled by; the window's T is exp of the weight-averaged
/// log T of its modalities (0 = leave it as pooled).
/// </param>
public readonly record struct LearnedOutput(double Weight, double LogTemperature);

/// <summary>
/// A learned weighting head: maps one modality's <see cref="LearnedFeatures"/> to its weight and log-temperature. The
/// node loads one from models/fusion.json (an ONNX model, run by FusionActors.Runtime); Core only knows this interface.
/// </summary>
public interface ILearnedWeighting
{
    /// <summary>Number of features the head takes: must be <see cref="LearnedFeatures.Count"/>.</summary>
    int FeatureCount { get; }

    LearnedOutput Evaluate(ReadOnlySpan<float> features);
}

/// <summary>
/// A policy that, besides a weight, scales the window's fused posterior: the engine divides the fused log-posterior by
/// T = exp(Σ w·log T_m / Σ w) over the modalities it fused (before the node's per-pattern calibration).
/// </summary>
public interface IWindowTemperaturePolicy : IWeightingPolicy
{
    /// <summary>Bounds of log T: T in [0.05, 20].</summary>
    public const double MaxAbsLogTemperature = 2.995732273553991; // log 20

    /// <summary>The weight, as <see cref="IWeightingPolicy.Weight"/>, and this modality's log T (finite, within the bounds).</summary>
    double Weigh(in ModalityEvidence evidence, out double logTemperature);
}

/// <summary>
/// A head that also wants to see what it weighs (the evaluation's feature dump records the features with the window,
/// the modality and its posterior): called with each modality's evidence and features before <see cref="ILearnedWeighting.Evaluate"/>.
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
public sealed class LearnedPolicy : IWindowTemperaturePolicy
{
    public FusionPolicyKind Kind => FusionPolicyKind.Learned;

    public string Description => "a learned head over confidence, freshness, reliability, coverage and agreement (models/fusion.json)";

    public double Weight(in ModalityEvidence evidence) => Weigh(evidence, out _);

    public double Weigh(in ModalityEvidence evidence, out double logTemperature)
    {
        var head = evidence.Learned ?? throw new InvalidOperationException("the learned policy needs the node's learned head (models/fusion.json)");
        Span<float> features = stackalloc float[LearnedFeatures.Count];
        LearnedFeatures.Compute(evidence, features);
        if (head is IEvidenceObserver observer) observer.Observe(evidence, features);
        var (w, lt) = head.Evaluate(features);
        // A head is a model file: whatever it returns, the engine gets a finite weight ≥ 0 and a bounded log T.
        logTemperature = double.IsFinite(lt) ? Math.Clamp(lt, -IWindowTemperaturePolicy.MaxAbsLogTemperature, IWindowTemperaturePolicy.MaxAbsLogTemperature) : 0.0;
        return double.IsFinite(w) && w > 0 ? w : 0.0;
    }
}
