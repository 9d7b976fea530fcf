namespace FusionActors.Core.Fusion;

/// <summary>Numerically careful helpers for log-probabilities.</summary>
public static class Probabilities
{
    /// <summary>log softmax(logits / temperature).</summary>
    public static double[] LogSoftmax(ReadOnlySpan<float> logits, double temperature = 1.0)
    {
        if (temperature <= 0 || double.IsNaN(temperature)) throw new ArgumentOutOfRangeException(nameof(temperature));
        var result = new double[logits.Length];
        var max = double.NegativeInfinity;
        for (var i = 0; i < logits.Length; i++)
        {
            result[i] = logits[i] / temperature;
            if (result[i] > max) max = result[i];
        }
        Normalise(result, max);
        return result;
    }

    /// <summary>Shifts log-weights in place so they exponentiate to a distribution.</summary>
    public static void NormaliseLog(double[] logp)
    {
        var max = double.NegativeInfinity;
        foreach (var v in logp) if (v > max) max = v;
        Normalise(logp, max);
    }

    public static double[] Exp(double[] logp)
    {
        var p = new double[logp.Length];
        for (var i = 0; i < p.Length; i++) p[i] = Math.Exp(logp[i]);
        return p;
    }

    /// <summary>Shannon entropy in nats.</summary>
    public static double Entropy(double[] p)
    {
        var h = 0.0;
        foreach (var v in p) if (v > 0) h -= v * Math.Log(v);
        return h;
    }

    /// <summary>1 − H(p)/log K: 1 for a certain distribution, 0 for a uniform one.</summary>
    public static double Confidence(double[] p) => p.Length < 2 ? 1.0 : Math.Clamp(1 - Entropy(p) / Math.Log(p.Length), 0, 1);

    /// <summary><see cref="Confidence"/> of the distribution <paramref name="logp"/> exponentiates to, without making it.</summary>
    public static double ConfidenceOfLog(double[] logp)
    {
        if (logp.Length < 2) return 1.0;
        var h = 0.0;
        foreach (var lp in logp)
        {
            var v = Math.Exp(lp);
            if (v > 0) h -= v * Math.Log(v);
        }
        return Math.Clamp(1 - h / Math.Log(logp.Length), 0, 1);
    }

    public static int ArgMax(double[] values)
    {
        var best = 0;
        for (var i = 1; i < values.Length; i++) if (values[i] > values[best]) best = i;
        return best;
    }

    private static void Normalise(double[] x, double max)
    {
        if (double.IsNegativeInfinity(max)) throw new ArgumentException("no finite value to normalise");
        var sum = 0.0;
        for (var i = 0; i < x.Length; i++) sum += Math.Exp(x[i] - max);
        var logZ = max + Math.Log(sum);
        for (var i = 0; i < x.Length; i++) x[i] -= logZ;
    }
}
