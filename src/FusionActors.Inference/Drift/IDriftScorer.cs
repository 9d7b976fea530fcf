namespace FusionActors.Inference.Drift;

/// <summary>
/// A raw score of how unlike the model's training data one input is, from what the model made of it
/// (larger = less typical). Raw scores are on each scorer's own scale; <see cref="DriftModel"/> normalises them
/// against the validation split so that they compare across scorers and models. Implementations are immutable and
/// thread-safe.
/// </summary>
public interface IDriftScorer
{
    /// <summary>The scorer's name in models.json (<c>energy</c>, <c>mahalanobis</c>).</summary>
    string Name { get; }

    /// <summary>The raw score of one encoder output; NaN when the output lacks what the scorer reads.</summary>
    double Raw(EncoderOutput output);
}

/// <summary>
/// The energy score of the logits, E = −T·log Σ exp(logit/T): low for inputs the model answers with large logits
/// (typical ones), high for inputs no class fits.
/// </summary>
public sealed class EnergyScorer : IDriftScorer
{
    public const string ScorerName = "energy";

    public EnergyScorer(double temperature)
    {
        if (!(temperature > 0) || double.IsInfinity(temperature))
            throw new ArgumentOutOfRangeException(nameof(temperature), temperature, "the energy temperature must be positive and finite");
        Temperature = temperature;
    }

    public double Temperature { get; }

    public string Name => ScorerName;

    public double Raw(EncoderOutput output)
    {
        var logits = output.Logits;
        if (logits.Length == 0) return double.NaN;
        var max = double.NegativeInfinity;
        foreach (var l in logits) max = Math.Max(max, l / Temperature);
        if (!double.IsFinite(max)) return double.NaN;
        var sum = 0.0;
        foreach (var l in logits) sum += Math.Exp(l / Temperature - max);
        return -Temperature * (max + Math.Log(sum));
    }
}

/// <summary>
/// The squared Mahalanobis distance of the embedding to the nearest class mean under one covariance shared by all
/// classes (tied): min over k of (z − μ_k)ᵀ Σ⁻¹ (z − μ_k).
/// </summary>
public sealed class MahalanobisScorer : IDriftScorer
{
    public const string ScorerName = "mahalanobis";

    // (z − μ)ᵀP(z − μ) = zᵀPz − 2 (Pμ)ᵀz + μᵀPμ: one D×D product per input instead of one per class.
    private readonly double[] _precision; // D×D, row-major
    private readonly double[][] _precisionMeans; // Pμ_k
    private readonly double[] _meanTerms; // μ_kᵀPμ_k

    /// <param name="means">Class means, K rows of D values.</param>
    /// <param name="precision">The inverse of the tied covariance, D rows of D values, symmetric positive definite.</param>
    public MahalanobisScorer(double[][] means, double[][] precision)
    {
        ArgumentNullException.ThrowIfNull(means);
        ArgumentNullException.ThrowIfNull(precision);
        if (means.Length == 0) throw new ArgumentException("no class means", nameof(means));
        var d = means[0].Length;
        if (d == 0 || means.Any(m => m.Length != d)) throw new ArgumentException("every class mean must have the same, positive length", nameof(means));
        if (precision.Length != d || precision.Any(r => r.Length != d))
            throw new ArgumentException($"the precision matrix must be {d}×{d}", nameof(precision));
        if (means.Any(m => m.Any(v => !double.IsFinite(v))) || precision.Any(r => r.Any(v => !double.IsFinite(v))))
            throw new ArgumentException("drift parameters must be finite");
        _precision = new double[d * d];
        for (var i = 0; i < d; i++)
        for (var j = 0; j < d; j++)
            _precision[i * d + j] = precision[i][j];
        _precisionMeans = new double[means.Length][];
        _meanTerms = new double[means.Length];
        for (var k = 0; k < means.Length; k++)
        {
            var pm = new double[d];
            for (var i = 0; i < d; i++)
            {
                var row = 0.0;
                for (var j = 0; j < d; j++) row += _precision[i * d + j] * means[k][j];
                pm[i] = row;
                _meanTerms[k] += means[k][i] * row;
            }
            _precisionMeans[k] = pm;
        }
        Dimension = d;
    }

    public int Dimension { get; }

    public int Classes => _meanTerms.Length;

    public string Name => ScorerName;

    public double Raw(EncoderOutput output)
    {
        var z = output.Embedding;
        if (z.Length != Dimension) return double.NaN;
        var d = Dimension;
        var zPz = 0.0;
        for (var i = 0; i < d; i++)
        {
            var row = 0.0;
            var offset = i * d;
            for (var j = 0; j < d; j++) row += _precision[offset + j] * z[j];
            zPz += z[i] * row;
        }
        var best = double.PositiveInfinity;
        for (var k = 0; k < _meanTerms.Length; k++)
        {
            var pm = _precisionMeans[k];
            var cross = 0.0;
            for (var i = 0; i < d; i++) cross += pm[i] * z[i];
            best = Math.Min(best, zPz - 2 * cross + _meanTerms[k]);
        }
        // Rounding can take a distance of ~0 slightly below it.
        return double.IsFinite(best) ? Math.Max(0, best) : double.NaN;
    }
}
