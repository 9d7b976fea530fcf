using System.Text.Json;
using FusionActors.Inference.Data;
using Xunit.Abstractions;

namespace FusionActors.Inference.Tests;

/// <summary>
/// The committed encoders on the committed out-of-distribution sample (samples/avdigits-ood): they must run
/// on every item and give finite, deterministic outputs. Accuracy there is measured and printed, not held to
/// a threshold: the sample exists to show how far the models fall under shift. Set
/// <see cref="DatasetVariable"/> to the absolute path of a full OOD split (e.g. the checkout's
/// data/avdigits-ood/accent-strokes) to print the per-group breakdown there instead of on the sample.
/// </summary>
[Collection(CommittedModelsCollection.Name)]
public sealed class OodSampleSpec(CommittedModelsFixture models, ITestOutputHelper output)
{
    /// <summary>Environment variable: an OOD split to break accuracy down on instead of the committed sample.</summary>
    public const string DatasetVariable = "FUSION_OOD_DATASET";

    private static readonly Lazy<AvDigitsDataset> Ood =
        new(() => AvDigitsDataset.Load(AvDigitsDataset.FindSample(AvDigitsDataset.OodSampleName)));

    [Fact]
    public void The_committed_encoders_must_give_finite_outputs_for_every_ood_item()
    {
        var items = Ood.Value.Items;
        var inputs = new[]
        {
            (models.Audio, items.Select(i => (ReadOnlyMemory<float>)i.Pcm).ToArray()),
            (models.Image, items.Select(i => (ReadOnlyMemory<float>)i.Image).ToArray()),
        };
        foreach (var (encoder, batch) in inputs)
        {
            var outputs = encoder.Encode(batch);
            Assert.Equal(items.Count, outputs.Count);
            Assert.All(outputs, o => Assert.Equal(encoder.Spec.Embedding!.Size, o.Embedding.Length));
            Assert.All(outputs, o => Assert.Equal(10, o.Logits.Length));
            Assert.All(outputs, o => Assert.All(o.Embedding.Concat(o.Logits), v => Assert.True(float.IsFinite(v))));

            var predictions = outputs.Zip(items, (o, item) =>
            {
                var (label, confidence) = Calibration.Predict(o.Logits, encoder.Spec.Temperature);
                Assert.InRange(label, 0, 9);
                Assert.InRange(confidence, 0.1 - 1e-6, 1.0 + 1e-6);
                return (confidence, correct: label == item.Label);
            }).ToArray();
            var accuracy = predictions.Count(p => p.correct) / (double)predictions.Length;
            var ece = Calibration.ExpectedCalibrationError(predictions, 15);
            var meanConfidence = predictions.Average(p => p.confidence);
            output.WriteLine($"{encoder.Name} on {items.Count} OOD sample items: accuracy {accuracy:F4}, " +
                             $"mean confidence {meanConfidence:F4}, ECE15 {ece:F4} (T={encoder.Spec.Temperature})");

            // Same inputs, same outputs: the OOD numbers in the reports are reproducible.
            var again = encoder.Encode(batch.Take(8).ToArray());
            for (var k = 0; k < again.Count; k++)
                Assert.Equal(outputs[k].Logits.ToArray(), again[k].Logits.ToArray());
        }
    }

    [Fact]
    public void Accuracy_per_channel_image_transform_and_language_must_cover_every_item()
    {
        var dir = Environment.GetEnvironmentVariable(DatasetVariable) is { Length: > 0 } d
            ? Path.GetFullPath(d)
            : AvDigitsDataset.FindSample(AvDigitsDataset.OodSampleName);
        var items = AvDigitsDataset.Load(dir).Items;
        // The reader keeps only the fields it knows; the OOD builder's descriptive fields are read here.
        var meta = File.ReadLines(Path.Combine(dir, "manifest.jsonl"))
            .Where(l => !string.IsNullOrWhiteSpace(l))
            .Select(l => JsonDocument.Parse(l).RootElement)
            .ToDictionary(o => o.GetProperty("id").GetString()!, o => o);
        string Field(AvDigitsItem i, string name) =>
            meta[i.Id].TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString()! : "-";

        var audio = Correct(models.Audio, items.Select(i => (ReadOnlyMemory<float>)i.Pcm).ToArray(), items);
        var image = Correct(models.Image, items.Select(i => (ReadOnlyMemory<float>)i.Image).ToArray(), items);
        output.WriteLine($"{items.Count} items of {dir}");
        foreach (var (modality, correct, field) in new[]
                 {
                     ("audio", audio, "channel"), ("audio", audio, "language"), ("image", image, "imageTransform"),
                     ("image", image, "imageSource"),
                 })
        {
            var groups = items.Select((item, k) => (key: Field(item, field), ok: correct[k]))
                .GroupBy(x => x.key).OrderBy(g => g.Key, StringComparer.Ordinal).ToArray();
            Assert.Equal(items.Count, groups.Sum(g => g.Count()));
            output.WriteLine($"{modality} by {field}: " + string.Join(", ",
                groups.Select(g => $"{g.Key} {g.Count(x => x.ok) / (double)g.Count():P1} (n={g.Count()})")));
        }
    }

    private static bool[] Correct(OnnxEncoder encoder, IReadOnlyList<ReadOnlyMemory<float>> inputs, IReadOnlyList<AvDigitsItem> items)
    {
        var outputs = encoder.Encode(inputs);
        return outputs.Select((o, k) => Calibration.Predict(o.Logits, encoder.Spec.Temperature).label == items[k].Label).ToArray();
    }
}
