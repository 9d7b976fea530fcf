using FusionActors.Inference.Data;
using Xunit.Abstractions;

namespace FusionActors.Inference.Tests;

[Collection(CommittedModelsCollection.Name)]
public sealed class EncoderAccuracySpec(CommittedModelsFixture models, ITestOutputHelper output)
{
    [Fact]
    public void The_committed_sample_is_a_balanced_test_split_sample()
    {
        var items = models.Sample.Items;
        Assert.InRange(items.Count, 200, 250);
        Assert.All(items, i => Assert.Equal("test", i.Split));
        var perLabel = items.GroupBy(i => i.Label).ToDictionary(g => g.Key, g => g.Count());
        Assert.Equal(10, perLabel.Count);
        Assert.True(perLabel.Values.Max() - perLabel.Values.Min() <= 1, "labels are not balanced");
        Assert.All(items, i => Assert.Equal(AvDigitsDataset.PcmLength, i.Pcm.Length));
        Assert.All(items, i => Assert.Equal(AvDigitsDataset.ImageLength, i.Image.Length));
    }

    [Fact]
    public void Audio_encoder_must_reach_95_percent_on_the_test_sample()
    {
        var (accuracy, ece) = Measure(models.Audio, models.SamplePcm);
        Assert.True(accuracy >= 0.95, $"audio accuracy {accuracy:P2} on {models.Sample.Items.Count} sample items");
        Assert.True(ece <= 0.05, $"audio ECE {ece:F4}");
    }

    [Fact]
    public void Image_encoder_must_reach_95_percent_on_the_test_sample()
    {
        var (accuracy, ece) = Measure(models.Image, models.SampleImages);
        Assert.True(accuracy >= 0.95, $"image accuracy {accuracy:P2} on {models.Sample.Items.Count} sample items");
        Assert.True(ece <= 0.05, $"image ECE {ece:F4}");
    }

    [Fact]
    public void Encoders_must_return_embeddings_and_logits_of_the_catalog_sizes()
    {
        foreach (var (encoder, inputs) in new[] { (models.Audio, models.SamplePcm), (models.Image, models.SampleImages) })
        {
            var outputs = encoder.Encode(inputs.Take(3).ToArray());
            Assert.Equal(3, outputs.Count);
            Assert.All(outputs, o => Assert.Equal(encoder.Spec.Embedding!.Size, o.Embedding.Length));
            Assert.All(outputs, o => Assert.Equal(10, o.Logits.Length));
            Assert.All(outputs, o => Assert.All(o.Embedding.Concat(o.Logits), v => Assert.True(float.IsFinite(v))));
        }

        Assert.Equal(64, models.Audio.EmbeddingLength);
        Assert.Equal(32, models.Image.EmbeddingLength);
        Assert.Equal(16000, models.Audio.InputLength);
        Assert.Equal(64, models.Image.InputLength);
    }

    private (double accuracy, double ece) Measure(OnnxEncoder encoder, IReadOnlyList<ReadOnlyMemory<float>> inputs)
    {
        var outputs = encoder.Encode(inputs);
        var predictions = outputs.Zip(models.Sample.Items, (o, item) =>
        {
            var (label, confidence) = Calibration.Predict(o.Logits, encoder.Spec.Temperature);
            return (confidence, correct: label == item.Label);
        }).ToArray();
        var accuracy = predictions.Count(p => p.correct) / (double)predictions.Length;
        var ece = Calibration.ExpectedCalibrationError(predictions, 15);
        output.WriteLine($"{encoder.Name}: accuracy {accuracy:F4}, ECE15 {ece:F4} (T={encoder.Spec.Temperature}) on {predictions.Length} sample items");
        return (accuracy, ece);
    }
}
