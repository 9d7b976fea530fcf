using FusionActors.Core.Fusion.Policies;
using FusionActors.Inference;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;

namespace FusionActors.Runtime.Fusion;

/// <summary>
/// The <c>learned</c> policy's head as an ONNX model: input <c>features</c> [N, F] float32, outputs <c>weight</c> [N, 1]
/// (≥ 0; a softplus) and <c>log_temperature</c> [N, 1] (a bounded tanh) float32. One InferenceSession per node, shared
/// by every session; thread-safe.
/// </summary>
public sealed class OnnxLearnedWeighting : ILearnedWeighting, IDisposable
{
    public const string InputName = "features", OutputName = "weight", TemperatureOutputName = "log_temperature";

    /// <summary>Largest weight the head may return; a larger one is clamped (weights are normalised per window anyway).</summary>
    public const double MaxWeight = 1e6;

    private readonly InferenceSession _session;
    private readonly string[] _inputNames = [InputName];
    private readonly string[] _outputNames = [OutputName, TemperatureOutputName];
    private volatile bool _disposed;

    /// <exception cref="FileNotFoundException">No such file.</exception>
    /// <exception cref="InvalidDataException">The graph is not a head over <paramref name="featureCount"/> features.</exception>
    public OnnxLearnedWeighting(string path, int featureCount)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"learned fusion head not found: {path}", path);
        if (featureCount != LearnedFeatures.Count)
            throw new InvalidDataException($"learned fusion head {path}: trained on {featureCount} features, this node computes {LearnedFeatures.Count} ({string.Join(", ", LearnedFeatures.Names)})");
        using var options = OnnxEncoder.DefaultOptions();
        try { _session = new InferenceSession(path, options); }
        catch (OnnxRuntimeException e) { throw new InvalidDataException($"learned fusion head {path} is not a loadable ONNX model: {e.Message}", e); }
        try { Check(path, _session, featureCount); }
        catch
        {
            _session.Dispose();
            throw;
        }
        FeatureCount = featureCount;
    }

    public int FeatureCount { get; }

    public LearnedOutput Evaluate(ReadOnlySpan<float> features)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (features.Length != FeatureCount) throw new ArgumentException($"the head takes {FeatureCount} features, got {features.Length}", nameof(features));
        var buffer = features.ToArray();
        using var input = OrtValue.CreateTensorValueFromMemory(buffer, [1, FeatureCount]);
        using var runOptions = new RunOptions();
        using var results = _session.Run(runOptions, _inputNames, [input], _outputNames);
        var w = results[0].GetTensorDataAsSpan<float>();
        var t = results[1].GetTensorDataAsSpan<float>();
        if (w.Length != 1 || t.Length != 1) throw new InvalidOperationException($"learned fusion head returned {w.Length} weights and {t.Length} temperatures for one row");
        var x = (double)w[0];
        return new LearnedOutput(double.IsFinite(x) ? Math.Clamp(x, 0, MaxWeight) : 0.0, double.IsFinite(t[0]) ? t[0] : 0.0);
    }

    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        _session.Dispose();
    }

    private static void Check(string path, InferenceSession session, int featureCount)
    {
        if (session.InputMetadata.Count != 1 || !session.InputMetadata.TryGetValue(InputName, out var input))
            throw new InvalidDataException($"learned fusion head {path} must have exactly one input '{InputName}'; it has: {string.Join(", ", session.InputMetadata.Keys)}");
        if (input.ElementDataType != TensorElementType.Float || input.Dimensions is not [_, var f] || f != featureCount)
            throw new InvalidDataException($"learned fusion head {path}: input '{InputName}' must be float32 [N, {featureCount}], it is {input.ElementDataType} [{string.Join(",", input.Dimensions)}]");
        foreach (var name in new[] { OutputName, TemperatureOutputName })
            if (!session.OutputMetadata.TryGetValue(name, out var output) || output.Dimensions is not [_, 1] || output.ElementDataType != TensorElementType.Float)
                throw new InvalidDataException($"learned fusion head {path} must have a float32 output '{name}' of shape [N, 1]");
    }
}
