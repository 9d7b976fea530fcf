namespace FusionActors.Inference.Drift;

/// <summary>
/// A raw score made comparable: 0 up to the median of the validation split's raw scores, 1 at its 95th percentile,
/// linear in between and beyond: max(0, (raw − median) / (q95 − median)). Half of the validation inputs score 0,
/// 5 % score above 1, and an input scoring 3 is as far beyond the validation's 95th percentile as that percentile is
/// beyond its median, three times over.
/// </summary>
public sealed record DriftNormaliser(double Median, double Q95)
{
    public double Normalise(double raw)
    {
        if (double.IsNaN(raw)) return double.NaN;
        return Math.Max(0, (raw - Median) / (Q95 - Median));
    }

    /// <summary>Checks the parameters; <see cref="InvalidDataException"/> saying what is wrong.</summary>
    public void Validate(string where)
    {
        if (!double.IsFinite(Median) || !double.IsFinite(Q95) || !(Q95 > Median))
            throw new InvalidDataException($"{where}: median {Median} and q95 {Q95} must be finite with q95 above the median");
    }
}

/// <summary>One scorer with its normalisation.</summary>
public sealed record NormalisedScorer(IDriftScorer Scorer, DriftNormaliser Normaliser)
{
    public double Score(EncoderOutput output) => Normaliser.Normalise(Scorer.Raw(output));
}

/// <summary>
/// The drift of a model's inputs: the largest normalised score of its scorers (each 1 at the validation split's
/// 95th percentile), so an input is as atypical as the scorer that finds it least typical says. 0 = typical of the
/// validation split, larger = less typical, NaN when no scorer could score the output. Thread-safe.
/// </summary>
public sealed class DriftModel
{
    public DriftModel(IReadOnlyList<NormalisedScorer> scorers)
    {
        ArgumentNullException.ThrowIfNull(scorers);
        if (scorers.Count == 0) throw new ArgumentException("a drift model needs at least one scorer", nameof(scorers));
        Scorers = scorers;
    }

    public IReadOnlyList<NormalisedScorer> Scorers { get; }

    public double Score(EncoderOutput output)
    {
        var drift = double.NaN;
        foreach (var s in Scorers)
        {
            var v = s.Score(output);
            if (!double.IsNaN(v)) drift = double.IsNaN(drift) ? v : Math.Max(drift, v);
        }
        return drift;
    }

    /// <summary>Each scorer's normalised score, by name (for reports and fitting).</summary>
    public IReadOnlyDictionary<string, double> ScoreEach(EncoderOutput output) =>
        Scorers.ToDictionary(s => s.Scorer.Name, s => s.Score(output));
}
