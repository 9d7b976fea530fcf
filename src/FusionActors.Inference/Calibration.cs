namespace FusionActors.Inference;

/// <summary>Turning logits into calibrated probabilities and measuring how well calibrated they are.</summary>
public static class Calibration
{
    /// <summary>softmax(logits / temperature), computed stably in double precision.</summary>
    public static double[] Softmax(ReadOnlySpan<float> logits, double temperature = 1.0)
    {
        if (!(temperature > 0) || double.IsInfinity(temperature))
            throw new ArgumentOutOfRangeException(nameof(temperature), temperature, "temperature must be positive and finite");
        if (logits.IsEmpty)
            throw new ArgumentException("no logits", nameof(logits));
        var max = double.NegativeInfinity;
        foreach (var l in logits)
            max = Math.Max(max, l / temperature);
        var p = new double[logits.Length];
        var sum = 0.0;
        for (var i = 0; i < p.Length; i++)
        {
            p[i] = Math.Exp(logits[i] / temperature - max);
            sum += p[i];
        }

        for (var i = 0; i < p.Length; i++)
            p[i] /= sum;
        return p;
    }

    /// <summary>softmax(logits / temperature) for an array (convenience for <see cref="Softmax(ReadOnlySpan{float}, double)"/>).</summary>
    public static double[] Softmax(float[] logits, double temperature = 1.0) => Softmax(logits.AsSpan(), temperature);

    /// <summary>
    /// Expected calibration error: the share-weighted mean over <paramref name="bins"/> equal-width confidence bins of
    /// |mean confidence - accuracy|. Bins are (lo, hi], the first also holds 0 (the same binning as tools/train/train.py).
    /// </summary>
    public static double ExpectedCalibrationError(IEnumerable<(double confidence, bool correct)> predictions, int bins = 15)
    {
        ArgumentNullException.ThrowIfNull(predictions);
        ArgumentOutOfRangeException.ThrowIfLessThan(bins, 1);
        var count = new int[bins];
        var confidence = new double[bins];
        var correct = new int[bins];
        var total = 0;
        foreach (var (c, ok) in predictions)
        {
            if (!(c >= 0 && c <= 1))
                throw new ArgumentOutOfRangeException(nameof(predictions), c, "confidence must lie in [0, 1]");
            var b = Math.Clamp((int)Math.Ceiling(c * bins) - 1, 0, bins - 1);
            count[b]++;
            confidence[b] += c;
            correct[b] += ok ? 1 : 0;
            total++;
        }

        if (total == 0)
            throw new ArgumentException("no predictions", nameof(predictions));
        var ece = 0.0;
        for (var b = 0; b < bins; b++)
        {
            if (count[b] > 0)
                ece += (double)count[b] / total * Math.Abs(confidence[b] / count[b] - (double)correct[b] / count[b]);
        }

        return ece;
    }

    /// <summary>Index of the most probable class and its probability under softmax(logits / temperature).</summary>
    public static (int label, double confidence) Predict(ReadOnlySpan<float> logits, double temperature = 1.0)
    {
        var p = Softmax(logits, temperature);
        var best = 0;
        for (var i = 1; i < p.Length; i++)
        {
            if (p[i] > p[best])
                best = i;
        }

        return (best, p[best]);
    }
}
