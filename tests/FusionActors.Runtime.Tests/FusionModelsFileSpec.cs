using System.Text.Json;
using FusionActors.Core.Fusion;
using FusionActors.Core.Fusion.Policies;
using FusionActors.Inference;
using FusionActors.Protocol.Specs;
using FusionActors.Runtime.Fusion;
using Xunit;

namespace FusionActors.Runtime.Tests;

/// <summary>models/fusion.json and its ONNX head: the committed ones load and agree with training; hostile ones are refused.</summary>
public sealed class FusionModelsFileSpec : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("fusion-json-").FullName;

    private static string ModelsDir => Path.GetDirectoryName(ModelCatalog.FindDefaultPath())!;
    private static string CommittedJson => Path.Combine(ModelsDir, FusionModelsFile.FileName);
    private static string CommittedHead => Path.Combine(ModelsDir, "fusion-head.onnx");

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private string Write(string json, string name = "fusion.json")
    {
        var path = Path.Combine(_dir, name);
        File.WriteAllText(path, json);
        return path;
    }

    private static string Features => JsonSerializer.Serialize(LearnedFeatures.Names);

    [Fact]
    public void The_committed_file_loads_with_a_head_and_a_temperature_for_every_fused_policy()
    {
        var models = FusionModelsFile.LoadBeside(ModelCatalog.FindDefaultPath());
        Assert.NotNull(models.Learned);
        Assert.Equal(LearnedFeatures.Count, models.Learned!.FeatureCount);
        foreach (var policy in new[] { "adaptive", "fixed", "learned" })
            Assert.Contains(policy, models.Calibration.Temperatures.Keys);
        Assert.DoesNotContain("single", models.Calibration.Temperatures.Keys);
    }

    [Fact]
    public void ONNX_Runtime_gives_the_head_the_outputs_training_recorded_for_its_probe()
    {
        using var doc = JsonDocument.Parse(File.ReadAllText(CommittedJson));
        var probe = doc.RootElement.GetProperty("fit").GetProperty("probe");
        var rows = probe.GetProperty("features").EnumerateArray().Select(r => r.EnumerateArray().Select(x => (float)x.GetDouble()).ToArray()).ToArray();
        var weights = probe.GetProperty("weight").EnumerateArray().Select(x => x.GetDouble()).ToArray();
        var logT = probe.GetProperty("logTemperature").EnumerateArray().Select(x => x.GetDouble()).ToArray();
        Assert.True(rows.Length >= 4);
        using var head = new OnnxLearnedWeighting(CommittedHead, LearnedFeatures.Count);
        for (var i = 0; i < rows.Length; i++)
        {
            var (w, t) = head.Evaluate(rows[i]);
            Assert.Equal(weights[i], w, 4);
            Assert.Equal(logT[i], t, 4);
        }
    }

    [Fact]
    public void The_head_refuses_a_feature_vector_of_the_wrong_length()
    {
        using var head = new OnnxLearnedWeighting(CommittedHead, LearnedFeatures.Count);
        Assert.Throws<ArgumentException>(() => head.Evaluate(new float[LearnedFeatures.Count + 1]));
        Assert.Throws<ArgumentException>(() => head.Evaluate([]));
    }

    [Fact]
    public void No_file_beside_models_json_means_no_calibration_and_no_head()
    {
        var models = FusionModelsFile.LoadBeside(Path.Combine(_dir, "models.json"));
        Assert.Same(FusionModels.None, models);
        Assert.False(FusionEngine.CanRun(FusionPolicy.Learned, models));
    }

    public static TheoryData<string, string> Hostile => new()
    {
        { "not json", "not valid JSON" },
        { "[1,2]", "root must be an object" },
        { """{"calibration": {"adaptive": {"audio": "2"}}}""", "must be a number" },
        { """{"calibration": {"adaptive": {"audio": 1e400}}}""", "outside" },
        { """{"calibration": {"adaptive": {"audio": -1}}}""", "outside" },
        { """{"calibration": {"adaptive": {"audio": 0}}}""", "outside" },
        { """{"calibration": {"adaptive": {"audio": 1000}}}""", "outside" },
        { """{"calibration": {"adaptive": {"image+audio": 1.2}}}""", "not a pattern" },
        { """{"calibration": {"adaptive": {"audio": 1.2, "audio": 1.3}}}""", "given twice" },
        { """{"calibration": {"mean": {"audio": 1.2}}}""", "unknown policy" },
        { """{"calibration": {"adaptive": [1]}}""", "must be an object" },
        { """{"calibration": {"adaptive": {"audio": {"a": {"b": {"c": {"d": {"e": {"f": {"g": 1}}}}}}}}}}""", "not valid JSON" },
        { """{"learned": {"file": "../../etc/passwd", "features": FEATURES}}""", "beside fusion.json" },
        { """{"learned": {"file": "/etc/passwd", "features": FEATURES}}""", "beside fusion.json" },
        { """{"learned": {"file": "", "features": FEATURES}}""", "learned.file" },
        { """{"learned": {"file": "head.onnx"}}""", "learned.features" },
        { """{"learned": {"file": "head.onnx", "features": ["confidence"]}}""", "retrain" },
        { """{"learned": {"file": "missing.onnx", "features": FEATURES}}""", "not found" },
        { """{"learned": {"file": "garbage.onnx", "features": FEATURES}}""", "not a loadable ONNX model" },
        { """{"learned": {"file": "encoder.onnx", "features": FEATURES}}""", "exactly one input 'features'" },
    };

    [Theory]
    [MemberData(nameof(Hostile))]
    public void A_hostile_fusion_json_is_refused_with_a_message_naming_the_problem(string json, string expected)
    {
        File.WriteAllBytes(Path.Combine(_dir, "garbage.onnx"), [.. Enumerable.Range(0, 300).Select(i => (byte)(i * 37))]);
        File.Copy(Path.Combine(ModelsDir, "image-digits.onnx"), Path.Combine(_dir, "encoder.onnx"), overwrite: true);
        var path = Write(json.Replace("FEATURES", Features, StringComparison.Ordinal));
        var e = Record.Exception(() => FusionModelsFile.Load(path));
        Assert.True(e is InvalidDataException or FileNotFoundException, $"{e?.GetType().Name}: {e?.Message}");
        Assert.Contains(expected, e!.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void An_oversized_file_is_refused_unread()
    {
        var path = Write("{\"calibration\": {}, \"pad\": \"" + new string('x', (int)FusionModelsFile.MaxBytes) + "\"}");
        Assert.Contains("more than", Assert.Throws<InvalidDataException>(() => FusionModelsFile.Load(path)).Message);
    }

    [Fact]
    public void A_head_trained_on_other_features_is_refused()
    {
        Assert.Throws<InvalidDataException>(() => new OnnxLearnedWeighting(CommittedHead, LearnedFeatures.Count - 1));
    }
}
