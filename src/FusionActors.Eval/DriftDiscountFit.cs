using FusionActors.Core.Fusion;
using FusionActors.Core.Fusion.Policies;
using FusionActors.Inference;
using FusionActors.Inference.Data;
using FusionActors.Scenarios.Faults;
using FusionActors.Scenarios.Playback;

namespace FusionActors.Eval;

/// <summary>
/// Chooses the adaptive policy's drift discount (<see cref="DriftDiscount"/>: onset and scale) on the val split under
/// in-distribution faults only: clean, white noise on the audio (20, 10, 0, −5, −10 dB), camera noise σ 0.2 and 0.5 and
/// a 4×4 occluder, the faults of the evaluation's matrix that change what the encoders see. Per val item and fault it
/// runs the real encoders as the pipeline would (audio on the 1 s item, image on 10 frames pooled in log space), weighs
/// each modality as the adaptive policy does with prior, reliability and freshness 1 (w = d · c), and scores the fused
/// posterior by its mean NLL over every item and fault. Among the grid points whose accuracy (pooled over the faults)
/// is at least that without a discount, the lowest NLL wins (ties: the gentler discount). Never the test split or the
/// out-of-distribution splits.
/// </summary>
public static class DriftDiscountFit
{
    public static readonly double[] Onsets = [0.5, 1.0, 1.5, 2.0, 3.0];
    public static readonly double[] Scales = [0.25, 0.5, 1.0, 2.0, 4.0, 8.0, double.PositiveInfinity];

    public sealed record Fault(string Name, double? SnrDb, double CameraSigma, int Occlusion);

    public static readonly Fault[] Faults =
    [
        new("clean", null, EvalCondition.CleanCameraNoise, 0),
        new("audio-snr-20", 20, EvalCondition.CleanCameraNoise, 0),
        new("audio-snr-10", 10, EvalCondition.CleanCameraNoise, 0),
        new("audio-snr-0", 0, EvalCondition.CleanCameraNoise, 0),
        new("audio-snr-neg5", -5, EvalCondition.CleanCameraNoise, 0),
        new("audio-snr-neg10", -10, EvalCondition.CleanCameraNoise, 0),
        new("image-noise-low", null, 0.2, 0),
        new("image-noise-high", null, 0.5, 0),
        new("image-occlusion", null, EvalCondition.CleanCameraNoise, 4),
    ];

    public sealed record GridPoint(double Onset, double Scale, double Nll, double Accuracy, IReadOnlyDictionary<string, double> AccuracyByFault);

    /// <param name="MeanDrift">Mean drift per fault of the audio inputs and of the image frames (pooled per item).</param>
    public sealed record Result(DriftDiscount Best, IReadOnlyList<GridPoint> Grid, int Items, IReadOnlyDictionary<string, (double Audio, double Image)> MeanDrift);

    private sealed record Row(string Fault, int Label, double[] Audio, double AudioDrift, double[] Image, double ImageDrift);

    public static Result Run(IReadOnlyList<AvDigitsItem> val, ModelRegistry models, int seed = 7)
    {
        var audio = models.GetEncoder("audio-digits");
        var image = models.GetEncoder("image-digits");
        var (sa, si) = (models.Catalog.Get("audio-digits"), models.Catalog.Get("image-digits"));
        if (sa.Drift is null || si.Drift is null) throw new InvalidDataException("the models have no drift parameters: run fit-drift first");
        var rows = new List<Row>();
        foreach (var fault in Faults)
        {
            var rng = new Random(seed);
            foreach (var item in val)
            {
                var pcm = fault.SnrDb is { } snr ? SensorScript.AddNoise(item.Pcm, snr, rng) : item.Pcm;
                var oa = audio.Encode(pcm);
                var occluder = fault.Occlusion > 0 ? (X: rng.Next(9 - fault.Occlusion), Y: rng.Next(9 - fault.Occlusion), V: rng.Next(2)) : (X: -1, Y: -1, V: 0);
                var frames = new List<ReadOnlyMemory<float>>();
                for (var f = 0; f < Timeline.CameraFps; f++)
                {
                    var frame = Timeline.SensorNoise(item.Image, fault.CameraSigma, rng);
                    if (occluder.X >= 0)
                        for (var y = occluder.Y; y < occluder.Y + fault.Occlusion; y++)
                        for (var x = occluder.X; x < occluder.X + fault.Occlusion; x++) frame[y * 8 + x] = occluder.V;
                    frames.Add(frame);
                }
                var li = new double[10];
                var di = 0.0;
                foreach (var o in image.Encode(frames))
                {
                    var lp = Probabilities.LogSoftmax(o.Logits, si.Temperature);
                    for (var k = 0; k < li.Length; k++) li[k] += lp[k] / frames.Count;
                    di += si.Drift.Score(o) / frames.Count;
                }
                Probabilities.NormaliseLog(li);
                rows.Add(new Row(fault.Name, item.Label, Probabilities.LogSoftmax(oa.Logits, sa.Temperature), sa.Drift.Score(oa), li, di));
            }
        }
        var grid = new List<GridPoint>();
        foreach (var onset in Onsets)
        foreach (var scale in Scales)
        {
            var d = new DriftDiscount(onset, scale);
            var nll = 0.0;
            var correct = new Dictionary<string, int>();
            foreach (var r in rows)
            {
                var wa = d.Factor(r.AudioDrift) * Probabilities.ConfidenceOfLog(r.Audio);
                var wi = d.Factor(r.ImageDrift) * Probabilities.ConfidenceOfLog(r.Image);
                var f = new double[r.Audio.Length];
                var sum = wa + wi;
                for (var k = 0; k < f.Length; k++) f[k] = sum > 0 ? (wa * r.Audio[k] + wi * r.Image[k]) / sum : 0;
                Probabilities.NormaliseLog(f);
                nll -= f[r.Label];
                if (Probabilities.ArgMax(f) == r.Label) correct[r.Fault] = correct.GetValueOrDefault(r.Fault) + 1;
            }
            var byFault = Faults.ToDictionary(x => x.Name, x => Math.Round(correct.GetValueOrDefault(x.Name) / (double)val.Count, 4));
            grid.Add(new GridPoint(onset, scale, Math.Round(nll / rows.Count, 5), Math.Round(correct.Values.Sum() / (double)rows.Count, 4), byFault));
        }
        // In distribution the discount must not cost accuracy: among the points at least as accurate as no discount
        // (scale +∞), the lowest NLL; ties go to the gentler discount (later onset, then slower fall).
        var none = grid.First(g => double.IsPositiveInfinity(g.Scale)).Accuracy;
        var best = grid.Where(g => g.Accuracy >= none).OrderBy(g => g.Nll).ThenByDescending(g => g.Onset).ThenByDescending(g => g.Scale).First();
        var meanDrift = Faults.ToDictionary(f => f.Name, f =>
        {
            var of = rows.Where(r => r.Fault == f.Name).ToList();
            return (Math.Round(of.Average(r => r.AudioDrift), 3), Math.Round(of.Average(r => r.ImageDrift), 3));
        });
        return new Result(new DriftDiscount(best.Onset, best.Scale), grid, val.Count, meanDrift);
    }
}
