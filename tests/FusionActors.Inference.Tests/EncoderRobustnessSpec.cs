using Xunit.Abstractions;

namespace FusionActors.Inference.Tests;

/// <summary>The encoders must degrade gently under sensor noise (seeded, so every run sees the same noise).</summary>
[Collection(CommittedModelsCollection.Name)]
public sealed class EncoderRobustnessSpec(CommittedModelsFixture models, ITestOutputHelper output)
{
    [Fact]
    public void Audio_encoder_must_keep_90_percent_under_white_noise_at_10_dB()
    {
        var random = new Random(10);
        var noisy = models.Sample.Items.Select(i => (ReadOnlyMemory<float>)WithWhiteNoise(i.Pcm, 10, random)).ToArray();
        var accuracy = Accuracy(models.Audio, noisy);
        output.WriteLine($"audio accuracy at 10 dB white noise: {accuracy:F4}");
        Assert.True(accuracy >= 0.90, $"audio accuracy {accuracy:P2} at 10 dB");
    }

    [Fact]
    public void Audio_encoder_must_stay_well_above_chance_under_white_noise_at_0_dB()
    {
        var random = new Random(0);
        var noisy = models.Sample.Items.Select(i => (ReadOnlyMemory<float>)WithWhiteNoise(i.Pcm, 0, random)).ToArray();
        var accuracy = Accuracy(models.Audio, noisy);
        output.WriteLine($"audio accuracy at 0 dB white noise: {accuracy:F4}");
        Assert.True(accuracy >= 0.75, $"audio accuracy {accuracy:P2} at 0 dB");
    }

    [Fact]
    public void Image_encoder_must_keep_95_percent_under_pixel_noise_of_sigma_0_1()
    {
        var random = new Random(1);
        var noisy = models.Sample.Items.Select(i => (ReadOnlyMemory<float>)WithPixelNoise(i.Image, 0.1, random)).ToArray();
        var accuracy = Accuracy(models.Image, noisy);
        output.WriteLine($"image accuracy at pixel noise sigma 0.1: {accuracy:F4}");
        Assert.True(accuracy >= 0.95, $"image accuracy {accuracy:P2} at sigma 0.1");
    }

    [Fact]
    public void Noise_must_lower_the_calibrated_confidence_of_the_audio_encoder()
    {
        var random = new Random(5);
        var clean = MeanConfidence(models.Audio, models.SamplePcm);
        var noisy = MeanConfidence(models.Audio,
            models.Sample.Items.Select(i => (ReadOnlyMemory<float>)WithWhiteNoise(i.Pcm, 0, random)).ToArray());
        output.WriteLine($"audio mean confidence clean {clean:F4}, at 0 dB {noisy:F4}");
        Assert.True(noisy < clean, $"confidence at 0 dB {noisy:F4} is not below clean {clean:F4}");
    }

    /// <summary>Adds Gaussian noise at <paramref name="snrDb"/> relative to the power of the whole window, clipped to [-1, 1].</summary>
    private static float[] WithWhiteNoise(float[] pcm, double snrDb, Random random)
    {
        var power = pcm.Average(v => (double)v * v);
        var sigma = Math.Sqrt(power / Math.Pow(10, snrDb / 10));
        return pcm.Select(v => (float)Math.Clamp(v + sigma * Gaussian(random), -1.0, 1.0)).ToArray();
    }

    private static float[] WithPixelNoise(float[] image, double sigma, Random random) =>
        image.Select(v => (float)Math.Clamp(v + sigma * Gaussian(random), 0.0, 1.0)).ToArray();

    private static double Gaussian(Random random) =>
        Math.Sqrt(-2 * Math.Log(1 - random.NextDouble())) * Math.Cos(2 * Math.PI * random.NextDouble());

    private double Accuracy(OnnxEncoder encoder, IReadOnlyList<ReadOnlyMemory<float>> inputs) =>
        encoder.Encode(inputs).Zip(models.Sample.Items)
            .Count(p => Calibration.Predict(p.First.Logits).label == p.Second.Label) / (double)inputs.Count;

    private static double MeanConfidence(OnnxEncoder encoder, IReadOnlyList<ReadOnlyMemory<float>> inputs) =>
        encoder.Encode(inputs).Average(o => Calibration.Predict(o.Logits, encoder.Spec.Temperature).confidence);
}
