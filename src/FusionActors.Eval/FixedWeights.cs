using System.Text.Json;
using FusionActors.Scenarios.Playback;
using FusionActors.Inference.Data;
using FusionActors.Core.Fusion;
using FusionActors.Inference;
using FusionActors.Runtime.Encoders;

namespace FusionActors.Eval;

/// <summary>
/// Weights of the <c>fixed</c> policy, tuned on clean validation data: audio weight 1, image weight from a
/// grid, maximising val accuracy of the fixed fusion of the models' calibrated outputs (ties: lower NLL).
/// The val items are fused exactly as the pipeline's clean condition would: the audio model on the 1 s
/// item, the image model on 10 camera frames with sensor noise σ=0.05, log-probabilities averaged over the
/// frames, then Σ w log p / Σ w. Committed in config/eval-fixed-weights.json; used from there when the val
/// split is not available.
/// </summary>
public sealed record FixedWeights
{
    public const string FileName = "eval-fixed-weights.json";
    public static readonly double[] Grid = [0.05, 0.1, 0.2, 0.3, 0.5, 0.7, 1.0, 1.4, 2.0, 3.0, 5.0, 10.0];

    public required double Audio { get; init; }
    public required double Image { get; init; }
    public string Method { get; init; } = "";
    public string Command { get; init; } = "";
    public int ValItems { get; init; }
    public double ValAccuracy { get; init; }
    public double ValNll { get; init; }
    public IReadOnlyList<GridPoint> GridResults { get; init; } = [];

    public sealed record GridPoint(double Image, double Accuracy, double Nll);

    public IReadOnlyDictionary<string, double> AsDictionary() => new Dictionary<string, double> { ["audio"] = Audio, ["image"] = Image };

    /// <summary>config/eval-fixed-weights.json of the repository (found walking up), or null.</summary>
    public static string? FindCommitted()
    {
        foreach (var start in new[] { Directory.GetCurrentDirectory(), AppContext.BaseDirectory })
            for (var dir = new DirectoryInfo(start); dir is not null; dir = dir.Parent)
            {
                var candidate = Path.Combine(dir.FullName, "config", FileName);
                if (File.Exists(candidate)) return candidate;
            }
        return null;
    }

    public static FixedWeights Load(string path) =>
        JsonSerializer.Deserialize<FixedWeights>(File.ReadAllText(path), EvalReport.Json)
        ?? throw new InvalidDataException($"{path}: not a fixed-weights file");

    public void Save(string path) => File.WriteAllText(path, JsonSerializer.Serialize(this, EvalReport.Json) + "\n");

    /// <summary>Grid search on the val items (clean) through the models (not the actors: only the weights are tuned here).</summary>
    public static FixedWeights Tune(IReadOnlyList<AvDigitsItem> val, ModelRegistry models, int seed = 7)
    {
        var audio = models.GetEncoder("audio-digits");
        var image = models.GetEncoder("image-digits");
        var tA = models.Catalog.Get("audio-digits").Temperature;
        var tI = models.Catalog.Get("image-digits").Temperature;
        var rng = new Random(seed);
        var rows = new List<(double[] A, double[] I, int Label)>();
        foreach (var item in val)
        {
            var la = Probabilities.LogSoftmax(audio.Encode(item.Pcm).Logits, tA);
            var frames = Enumerable.Range(0, Timeline.CameraFps)
                .Select(_ => (ReadOnlyMemory<float>)Timeline.SensorNoise(item.Image, EvalCondition.CleanCameraNoise, rng)).ToList();
            var li = new double[la.Length];
            foreach (var o in image.Encode(frames))
            {
                var lp = Probabilities.LogSoftmax(o.Logits, tI);
                for (var k = 0; k < li.Length; k++) li[k] += lp[k] / frames.Count;
            }
            Probabilities.NormaliseLog(li);
            rows.Add((la, li, item.Label));
        }
        var grid = Grid.Select(w =>
        {
            var correct = 0;
            var nll = 0.0;
            foreach (var (a, i, label) in rows)
            {
                var f = new double[a.Length];
                for (var k = 0; k < f.Length; k++) f[k] = (a[k] + w * i[k]) / (1 + w);
                Probabilities.NormaliseLog(f);
                if (Probabilities.ArgMax(f) == label) correct++;
                nll -= f[label];
            }
            return new GridPoint(w, Math.Round(correct / (double)rows.Count, 4), Math.Round(nll / rows.Count, 5));
        }).ToList();
        var best = grid.OrderByDescending(g => g.Accuracy).ThenBy(g => g.Nll).First();
        return new FixedWeights
        {
            Audio = 1.0,
            Image = best.Image,
            Method = "grid search over the image weight (audio weight 1) on the clean val split: audio model on the 1 s item, image model on 10 frames " +
                     "with sensor noise sigma 0.05 (seed 7) averaged in log space, fused as sum(w log p)/sum(w); maximise accuracy, ties broken by lower NLL",
            Command = "dotnet run -c Release --project src/FusionActors.Host -- eval --tune-fixed --val data/avdigits",
            ValItems = rows.Count,
            ValAccuracy = best.Accuracy,
            ValNll = best.Nll,
            GridResults = grid,
        };
    }
}
