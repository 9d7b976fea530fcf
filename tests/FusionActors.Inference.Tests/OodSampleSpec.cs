using FusionActors.Inference.Data;
using Xunit.Abstractions;

namespace FusionActors.Inference.Tests;

/// <summary>
/// The committed encoders on the committed out-of-distribution sample (samples/avdigits-ood): they must run
/// on every item and give finite, deterministic outputs. Accuracy there is measured and printed, not held to
/// a threshold: the sample exists to show how far the models fall under shift.
/// </summary>
[Collection(CommittedModelsCollection.Name)]
public sealed class OodSampleSpec(CommittedModelsFixture models, ITestOutputHelper output)
{
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
            Assert.All(outputs, o => Assert.Equal(encoder.Spec.Embedding.Size, o.Embedding.Length));
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
}
