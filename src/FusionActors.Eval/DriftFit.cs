using System.Text.Json.Nodes;
using FusionActors.Inference;
using FusionActors.Inference.Data;
using FusionActors.Inference.Drift;
using FusionActors.Scenarios.Playback;

namespace FusionActors.Eval;

/// <summary>
/// Fits the drift parameters of the two AV-Digits encoders by running them (ONNX) on the data set's train split
/// (Mahalanobis class means and tied covariance) and val split (normalisation of every scorer), on inputs as the
/// pipeline's clean condition makes them: the audio model on the 1 s item, the image model on camera frames with
/// sensor noise σ = 0.05. Never the test split.
/// </summary>
public static class DriftFit
{
    public const string Command = "dotnet run -c Release --project src/FusionActors.Host -- fit-drift --data data/avdigits";

    /// <summary>Camera frames per val item for the image model's normalisation (frames differ only by sensor noise).</summary>
    public const int ValFramesPerItem = 3;

    public sealed record Result(string Model, DriftFitter.Fit Fit, JsonObject Json);

    public static IReadOnlyList<Result> Run(string dataDir, ModelRegistry models, int seed, Action<string>? log = null)
    {
        var train = AvDigitsDataset.Load(dataDir, "train").Items;
        var val = AvDigitsDataset.Load(dataDir, "val").Items;
        if (train.Count == 0 || val.Count == 0) throw new InvalidDataException($"{dataDir}: needs a train and a val split");
        var results = new List<Result>();
        foreach (var name in new[] { "audio-digits", "image-digits" })
        {
            var encoder = models.GetEncoder(name);
            var spec = models.Catalog.Get(name);
            var rng = new Random(seed);
            var isImage = spec.Modality == "image";
            float[] Input(AvDigitsItem item) => isImage ? Timeline.SensorNoise(item.Image, EvalCondition.CleanCameraNoise, rng) : item.Pcm;
            var fitSet = Encode(encoder, train.Select(i => (Input(i), i.Label)).ToList());
            var valInputs = val.SelectMany(i => Enumerable.Range(0, isImage ? ValFramesPerItem : 1).Select(_ => (Input(i), i.Label))).ToList();
            var valSet = Encode(encoder, valInputs).Select(x => x.Output).ToList();
            var fit = DriftFitter.Run(fitSet, valSet, spec.ClassCount);
            log?.Invoke($"{name}: fitted on {fit.FitItems} train inputs, normalised on {fit.NormalisationItems} val inputs; " +
                        $"energy median {fit.Energy.Median:F3} q95 {fit.Energy.Q95:F3}, mahalanobis median {fit.Mahalanobis.Median:F2} q95 {fit.Mahalanobis.Q95:F2}; " +
                        $"val mean drift {fit.ValMeanDrift:F3}, {fit.ValFractionAboveOne:P1} above 1");
            var provenance = new JsonObject
            {
                ["command"] = Command,
                ["combine"] = "max of the normalised scores",
                ["normalisation"] = "max(0, (raw - median) / (q95 - median)) over the val split's raw scores",
                ["meansAndCovariance"] = $"train split, {fit.FitItems} inputs, tied covariance + {DriftFitter.Shrinkage} x mean variance on the diagonal",
                ["normalisedOn"] = $"val split, {fit.NormalisationItems} inputs",
                ["inputs"] = isImage ? $"camera frames with sensor noise sigma {EvalCondition.CleanCameraNoise} (seed {seed}), {ValFramesPerItem} per val item" : "the 1 s item",
                ["valMeanDrift"] = Math.Round(fit.ValMeanDrift, 4),
                ["valFractionAboveOne"] = Math.Round(fit.ValFractionAboveOne, 4),
            };
            results.Add(new Result(name, fit, DriftJson.ToJson(fit, provenance)));
        }
        return results;
    }

    private static List<(EncoderOutput Output, int Label)> Encode(OnnxEncoder encoder, List<(float[] Input, int Label)> items)
    {
        var outputs = new List<(EncoderOutput, int)>(items.Count);
        for (var start = 0; start < items.Count; start += 64)
        {
            var batch = items.Skip(start).Take(64).ToList();
            var encoded = encoder.Encode(batch.Select(b => (ReadOnlyMemory<float>)b.Input).ToList());
            for (var i = 0; i < batch.Count; i++) outputs.Add((encoded[i], batch[i].Label));
        }
        return outputs;
    }
}
