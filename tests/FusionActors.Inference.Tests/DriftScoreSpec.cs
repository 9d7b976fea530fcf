using System.Text.Json;
using FusionActors.Inference.Data;
using FusionActors.Inference.Drift;
using Xunit.Abstractions;

namespace FusionActors.Inference.Tests;

/// <summary>
/// Drift scores: the "drift" member of models.json is refused when malformed (hostile catalogs first), the two
/// scorers compute what they say, and the committed fitted parameters score the committed in-distribution sample as
/// typical and the committed out-of-distribution sample as atypical, through the real encoders.
/// </summary>
[Collection(CommittedModelsCollection.Name)]
public sealed class DriftScoreSpec(CommittedModelsFixture models, ITestOutputHelper output)
{
    private static string Catalog(string drift) => """
        {"models":[{"name":"m","file":"m.onnx","modality":"image",
          "input":{"name":"image","shape":[-1,1,8,8],"min":0.0,"max":1.0},
          "outputs":{"embedding":{"name":"embedding","size":2},"logits":{"name":"logits","size":2}},
          "labels":["a","b"],"drift":
        """ + drift + "}]}";

    private const string Maha = """{"median":1,"q95":3,"means":[[0,0],[2,2]],"precision":[[1,0],[0,1]]}""";

    [Theory]
    [InlineData("[]", "must be an object")]
    [InlineData("{}", "no scorer")]
    [InlineData("""{"knn":{"median":0,"q95":1}}""", "unknown drift scorer")]
    [InlineData("""{"energy":{"median":1,"q95":1}}""", "q95 above the median")]
    [InlineData("""{"energy":{"median":2,"q95":1}}""", "q95 above the median")]
    [InlineData("""{"energy":{"median":"0","q95":1}}""", "finite number")]
    [InlineData("""{"energy":{"q95":1}}""", "missing \"median\"")]
    [InlineData("""{"energy":{"temperature":0,"median":0,"q95":1}}""", "temperature must be positive")]
    [InlineData("""{"energy":{"temperature":-1,"median":0,"q95":1}}""", "temperature must be positive")]
    [InlineData("""{"mahalanobis":{"median":1,"q95":3,"means":[[0,0]],"precision":[[1,0],[0,1]]}}""", "1 means for 2 classes")]
    [InlineData("""{"mahalanobis":{"median":1,"q95":3,"means":[[0,0,0],[1,1,1]],"precision":[[1,0],[0,1]]}}""", "embedding's 2 values")]
    [InlineData("""{"mahalanobis":{"median":1,"q95":3,"means":[[0,0],[1,1]],"precision":[[1,0]]}}""", "must be 2×2")]
    [InlineData("""{"mahalanobis":{"median":1,"q95":3,"means":[[0,0],[1,1]],"precision":[[1,0],[0]]}}""", "must be 2×2")]
    [InlineData("""{"mahalanobis":{"median":1,"q95":3,"means":[[0,0],[1,1]]}}""", "\"precision\" must be an array")]
    [InlineData("""{"mahalanobis":{"median":1,"q95":3,"means":[[0,null],[1,1]],"precision":[[1,0],[0,1]]}}""", "finite number")]
    [InlineData("""{"mahalanobis":{"median":1,"q95":3,"means":[[0,1e999],[1,1]],"precision":[[1,0],[0,1]]}}""", "finite number")]
    public void A_malformed_drift_member_must_be_refused_naming_the_problem(string drift, string expected)
    {
        using var dir = new TempDirectory();
        var path = dir.Write("models.json", Catalog(drift));
        var e = Assert.Throws<InvalidDataException>(() => ModelCatalog.Load(path));
        Assert.Contains(expected, e.Message);
        Assert.Contains("('m')", e.Message);
    }

    [Fact]
    public void A_huge_precision_matrix_must_be_refused_before_it_is_read_whole()
    {
        using var dir = new TempDirectory();
        var row = "[" + string.Join(",", Enumerable.Repeat("0", 2)) + "]";
        var precision = "[" + string.Join(",", Enumerable.Repeat(row, DriftJson.MaxDimension + 1)) + "]";
        var path = dir.Write("models.json", Catalog("""{"mahalanobis":{"median":1,"q95":3,"means":[[0,0],[1,1]],"precision":""" + precision + "}}"));
        var e = Assert.Throws<InvalidDataException>(() => ModelCatalog.Load(path));
        Assert.Contains($"over {DriftJson.MaxDimension} rows", e.Message);
    }

    [Fact]
    public void A_model_without_drift_parameters_must_have_no_drift_model()
    {
        using var dir = new TempDirectory();
        var path = dir.Write("models.json", Catalog("null"));
        Assert.Null(ModelCatalog.Load(path).Get("m").Drift);
    }

    [Fact]
    public void The_scorers_must_compute_the_energy_and_the_nearest_class_mahalanobis_distance()
    {
        using var dir = new TempDirectory();
        var path = dir.Write("models.json", Catalog("""{"energy":{"temperature":2,"median":-3,"q95":-1},"mahalanobis":""" + Maha + "}"));
        var drift = ModelCatalog.Load(path).Get("m").Drift!;
        var energy = drift.Scorers.Single(s => s.Scorer.Name == "energy");
        var maha = drift.Scorers.Single(s => s.Scorer.Name == "mahalanobis");

        var o = new EncoderOutput([1.5f, 2.5f], [1f, 3f]);
        var expectedEnergy = -2 * Math.Log(Math.Exp(0.5) + Math.Exp(1.5));
        Assert.Equal(expectedEnergy, energy.Scorer.Raw(o), 9);
        Assert.Equal(Math.Max(0, (expectedEnergy + 3) / 2), energy.Score(o), 9);
        // Nearest mean (2,2): 0.25 + 0.25.
        Assert.Equal(0.5, maha.Scorer.Raw(o), 9);
        Assert.Equal(0, maha.Score(o)); // below the median: typical
        var far = new EncoderOutput([10f, -4f], [1f, 3f]);
        Assert.Equal(64 + 36, maha.Scorer.Raw(far), 6); // nearest mean (2,2): 8² + 6²
        Assert.Equal((100 - 1) / 2.0, maha.Score(far), 6);
        // The model's drift is the larger normalised score.
        Assert.Equal(Math.Max(energy.Score(far), maha.Score(far)), drift.Score(far), 9);
        // Nothing to read: not scored, never a made-up number.
        Assert.True(double.IsNaN(maha.Scorer.Raw(new EncoderOutput([1f], [1f, 3f]))));
        Assert.True(double.IsNaN(energy.Scorer.Raw(new EncoderOutput([1f, 2f], []))));
        Assert.True(double.IsNaN(drift.Score(new EncoderOutput([1f], []))));
    }

    [Fact]
    public void The_mahalanobis_distance_must_equal_the_direct_quadratic_form_on_random_inputs()
    {
        var rng = new Random(9);
        for (var trial = 0; trial < 50; trial++)
        {
            var d = 1 + rng.Next(40);
            var k = 1 + rng.Next(12);
            // A random symmetric positive definite precision: AᵀA + I.
            var a = new double[d, d];
            for (var i = 0; i < d; i++) for (var j = 0; j < d; j++) a[i, j] = rng.NextDouble() * 2 - 1;
            var p = new double[d][];
            for (var i = 0; i < d; i++)
            {
                p[i] = new double[d];
                for (var j = 0; j < d; j++)
                {
                    for (var m = 0; m < d; m++) p[i][j] += a[m, i] * a[m, j];
                    if (i == j) p[i][j] += 1;
                }
            }
            var means = Enumerable.Range(0, k).Select(_ => Enumerable.Range(0, d).Select(_ => rng.NextDouble() * 6 - 3).ToArray()).ToArray();
            var scorer = new MahalanobisScorer(means, p);
            var z = Enumerable.Range(0, d).Select(_ => (float)(rng.NextDouble() * 8 - 4)).ToArray();
            var direct = means.Min(mu =>
            {
                var q = 0.0;
                for (var i = 0; i < d; i++) for (var j = 0; j < d; j++) q += (z[i] - mu[i]) * p[i][j] * (z[j] - mu[j]);
                return q;
            });
            var raw = scorer.Raw(new EncoderOutput(z, []));
            Assert.Equal(direct, raw, Math.Max(1e-9, direct * 1e-9));
        }
    }

    [Fact]
    public void The_fitter_must_recover_class_means_and_normalise_half_the_validation_inputs_to_zero()
    {
        var rng = new Random(3);
        (EncoderOutput, int) Draw(int label)
        {
            double G() => Math.Sqrt(-2 * Math.Log(1 - rng.NextDouble())) * Math.Cos(2 * Math.PI * rng.NextDouble());
            var centre = label == 0 ? -2.0 : 2.0;
            return (new EncoderOutput([(float)(centre + G()), (float)(0.5 * G())], [(float)(label == 0 ? 2 : -2), (float)(label == 0 ? -2 : 2)]), label);
        }
        var fitSet = Enumerable.Range(0, 4000).Select(i => Draw(i % 2)).ToList();
        var val = Enumerable.Range(0, 2000).Select(i => Draw(i % 2).Item1).ToList();
        var fit = DriftFitter.Run(fitSet, val, 2);
        Assert.InRange(fit.Means[0][0], -2.1, -1.9);
        Assert.InRange(fit.Means[1][0], 1.9, 2.1);
        // Unit variance along x, 0.25 along y: the precision is about diag(1, 4).
        Assert.InRange(fit.Precision[0][0], 0.9, 1.1);
        Assert.InRange(fit.Precision[1][1], 3.6, 4.4);
        Assert.InRange(Math.Abs(fit.Precision[0][1]), 0, 0.15);
        var model = fit.Model();
        var zeros = val.Count(v => model.Scorers.Single(s => s.Scorer.Name == "mahalanobis").Score(v) == 0) / (double)val.Count;
        Assert.InRange(zeros, 0.49, 0.51);
        // Far from both classes is atypical; at a class mean typical.
        Assert.True(model.Score(new EncoderOutput([0f, 5f], [0f, 0f])) > 3);
        Assert.Equal(0, model.Scorers.Single(s => s.Scorer.Name == "mahalanobis").Score(new EncoderOutput([2f, 0f], [0f, 0f])));
    }

    [Fact]
    public void The_committed_drift_parameters_must_load_and_carry_their_provenance()
    {
        foreach (var name in new[] { "audio-digits", "image-digits" })
        {
            var spec = models.Registry.Catalog.Get(name);
            Assert.NotNull(spec.Drift);
            Assert.Equal(["energy", "mahalanobis"], spec.Drift!.Scorers.Select(s => s.Scorer.Name).Order());
            using var doc = JsonDocument.Parse(File.ReadAllText(models.Registry.Catalog.Path));
            var fit = doc.RootElement.GetProperty("models").EnumerateArray().Single(m => m.GetProperty("name").GetString() == name)
                .GetProperty("drift").GetProperty("fit");
            Assert.Contains("fit-drift", fit.GetProperty("command").GetString());
            Assert.Contains("val split", fit.GetProperty("normalisedOn").GetString());
        }
    }

    [Fact]
    public void Through_the_real_encoders_the_in_distribution_sample_must_score_typical_and_the_ood_sample_atypical()
    {
        var ood = AvDigitsDataset.Load(AvDigitsDataset.FindSample(AvDigitsDataset.OodSampleName)).Items;
        var id = models.Sample.Items;
        var rng = new Random(5);
        float[] Camera(float[] image) => image.Select(v => (float)Math.Clamp(v + 0.05 * Gaussian(rng), 0, 1)).ToArray();
        foreach (var (encoder, pick) in new (OnnxEncoder, Func<AvDigitsItem, float[]>)[] { (models.Audio, i => i.Pcm), (models.Image, i => Camera(i.Image)) })
        {
            var drift = encoder.Spec.Drift!;
            var inD = encoder.Encode(id.Select(i => (ReadOnlyMemory<float>)pick(i)).ToArray()).Select(drift.Score).ToArray();
            var outD = encoder.Encode(ood.Select(i => (ReadOnlyMemory<float>)pick(i)).ToArray()).Select(drift.Score).ToArray();
            Assert.All(inD.Concat(outD), d => Assert.True(d >= 0 && double.IsFinite(d)));
            var (meanIn, meanOut) = (inD.Average(), outD.Average());
            var aboveIn = inD.Count(d => d > 1) / (double)inD.Length;
            var aboveOut = outD.Count(d => d > 1) / (double)outD.Length;
            output.WriteLine($"{encoder.Name}: mean drift in distribution {meanIn:F3} ({aboveIn:P1} above 1) over {inD.Length}, " +
                             $"out of distribution {meanOut:F3} ({aboveOut:P1} above 1) over {outD.Length}");
            foreach (var s in drift.Scorers)
            {
                var o = encoder.Encode(ood.Select(i => (ReadOnlyMemory<float>)pick(i)).ToArray()).Select(s.Score).Average();
                var n = encoder.Encode(id.Select(i => (ReadOnlyMemory<float>)pick(i)).ToArray()).Select(s.Score).Average();
                output.WriteLine($"  {s.Scorer.Name}: in {n:F3}, out {o:F3}");
            }
            // The sample is the test split: like val, most of it is typical; the shifted sample is not.
            Assert.InRange(aboveIn, 0, 0.2);
            Assert.True(meanOut > 2 * meanIn, $"{encoder.Name}: OOD mean drift {meanOut:F3} is not above twice the in-distribution {meanIn:F3}");
        }
    }

    private static double Gaussian(Random rng) => Math.Sqrt(-2 * Math.Log(1 - rng.NextDouble())) * Math.Cos(2 * Math.PI * rng.NextDouble());
}
