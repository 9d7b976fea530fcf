namespace FusionActors.Inference.Drift;

/// <summary>
/// Fits a model's drift parameters from its own outputs: the Mahalanobis class means and tied covariance on one set
/// of labelled inputs (the training split), the normalisation of every scorer on another (the validation split), so
/// that the normalisation is measured on inputs the means were not fitted on.
/// </summary>
public static class DriftFitter
{
    /// <summary>Ridge added to the covariance's diagonal, as a fraction of its mean variance: dead ReLU units have none.</summary>
    public const double Shrinkage = 1e-3;

    /// <summary>The temperature of the energy score (the usual 1: raw logits).</summary>
    public const double EnergyTemperature = 1.0;

    public sealed record Fit(
        double[][] Means,
        double[][] Precision,
        DriftNormaliser Energy,
        DriftNormaliser Mahalanobis,
        int FitItems,
        int NormalisationItems,
        double ValMeanDrift,
        double ValFractionAboveOne)
    {
        public DriftModel Model() => new([
            new NormalisedScorer(new EnergyScorer(EnergyTemperature), Energy),
            new NormalisedScorer(new MahalanobisScorer(Means, Precision), Mahalanobis),
        ]);
    }

    /// <param name="fit">Outputs of the training inputs, with their labels (0..classes-1).</param>
    /// <param name="normalisation">Outputs of the validation inputs.</param>
    public static Fit Run(IReadOnlyList<(EncoderOutput Output, int Label)> fit, IReadOnlyList<EncoderOutput> normalisation, int classes)
    {
        ArgumentNullException.ThrowIfNull(fit);
        ArgumentNullException.ThrowIfNull(normalisation);
        if (classes < 1) throw new ArgumentOutOfRangeException(nameof(classes), classes, "need at least one class");
        if (fit.Count < 2 || normalisation.Count < 20) throw new ArgumentException("too few inputs to fit drift parameters (2 to fit, 20 to normalise)");
        var d = fit[0].Output.Embedding.Length;
        if (d == 0 || fit.Any(f => f.Output.Embedding.Length != d)) throw new ArgumentException("embeddings must all have the same, positive length");
        var sums = new double[classes][];
        var counts = new int[classes];
        for (var k = 0; k < classes; k++) sums[k] = new double[d];
        foreach (var (o, label) in fit)
        {
            if ((uint)label >= (uint)classes) throw new ArgumentException($"label {label} outside 0..{classes - 1}");
            counts[label]++;
            for (var i = 0; i < d; i++) sums[label][i] += o.Embedding[i];
        }
        if (counts.Any(c => c == 0)) throw new ArgumentException("every class needs at least one fitting input");
        var means = new double[classes][];
        for (var k = 0; k < classes; k++) means[k] = sums[k].Select(s => s / counts[k]).ToArray();
        var cov = new double[d, d];
        foreach (var (o, label) in fit)
        {
            var m = means[label];
            for (var i = 0; i < d; i++)
            {
                var di = o.Embedding[i] - m[i];
                for (var j = 0; j <= i; j++) cov[i, j] += di * (o.Embedding[j] - m[j]);
            }
        }
        var trace = 0.0;
        for (var i = 0; i < d; i++)
        for (var j = 0; j <= i; j++)
        {
            cov[i, j] /= fit.Count;
            cov[j, i] = cov[i, j];
            if (i == j) trace += cov[i, i];
        }
        var ridge = Math.Max(Shrinkage * trace / d, 1e-9);
        for (var i = 0; i < d; i++) cov[i, i] += ridge;
        var precision = InvertSpd(cov);

        var energy = new NormalisedScorer(new EnergyScorer(EnergyTemperature), new DriftNormaliser(0, 1));
        var maha = new MahalanobisScorer(means, precision);
        var rawEnergy = normalisation.Select(o => energy.Scorer.Raw(o)).Where(double.IsFinite).ToArray();
        var rawMaha = normalisation.Select(maha.Raw).Where(double.IsFinite).ToArray();
        var nEnergy = Normaliser(rawEnergy, "energy");
        var nMaha = Normaliser(rawMaha, "mahalanobis");
        var result = new Fit(means, precision, nEnergy, nMaha, fit.Count, normalisation.Count, 0, 0);
        var model = result.Model();
        var drifts = normalisation.Select(model.Score).ToArray();
        return result with { ValMeanDrift = drifts.Average(), ValFractionAboveOne = drifts.Count(x => x > 1) / (double)drifts.Length };
    }

    private static DriftNormaliser Normaliser(double[] raw, string name)
    {
        if (raw.Length < 20) throw new ArgumentException($"too few finite {name} scores to normalise");
        Array.Sort(raw);
        var median = Quantile(raw, 0.5);
        var q95 = Quantile(raw, 0.95);
        if (!(q95 > median)) q95 = median + Math.Max(1e-9, Math.Abs(median) * 1e-6);
        return new DriftNormaliser(median, q95);
    }

    /// <summary>Linear interpolation between the order statistics of a sorted array.</summary>
    public static double Quantile(double[] sorted, double q)
    {
        var pos = q * (sorted.Length - 1);
        var lo = (int)Math.Floor(pos);
        var hi = Math.Min(lo + 1, sorted.Length - 1);
        return sorted[lo] + (pos - lo) * (sorted[hi] - sorted[lo]);
    }

    /// <summary>The inverse of a symmetric positive definite matrix, through its Cholesky factor.</summary>
    public static double[][] InvertSpd(double[,] a)
    {
        var n = a.GetLength(0);
        var l = new double[n, n];
        for (var i = 0; i < n; i++)
        for (var j = 0; j <= i; j++)
        {
            var s = a[i, j];
            for (var k = 0; k < j; k++) s -= l[i, k] * l[j, k];
            if (i == j)
            {
                if (!(s > 0)) throw new ArgumentException("the covariance is not positive definite");
                l[i, i] = Math.Sqrt(s);
            }
            else l[i, j] = s / l[j, j];
        }
        // L⁻¹ by forward substitution, then A⁻¹ = L⁻ᵀ L⁻¹.
        var li = new double[n, n];
        for (var c = 0; c < n; c++)
        {
            li[c, c] = 1 / l[c, c];
            for (var i = c + 1; i < n; i++)
            {
                var s = 0.0;
                for (var k = c; k < i; k++) s -= l[i, k] * li[k, c];
                li[i, c] = s / l[i, i];
            }
        }
        var inv = new double[n][];
        for (var i = 0; i < n; i++)
        {
            inv[i] = new double[n];
            for (var j = 0; j < n; j++)
            {
                var s = 0.0;
                for (var k = Math.Max(i, j); k < n; k++) s += li[k, i] * li[k, j];
                inv[i][j] = s;
            }
        }
        return inv;
    }
}
