namespace FusionActors.Core.Fusion.Policies;

/// <summary>
/// How much an input's drift lowers the reliability of its evidence: 1 up to <see cref="Onset"/>, then
/// exp(−(drift − onset) / scale). A drift of NaN (not scored) changes nothing. Drift is normalised per model (1 = the
/// validation split's 95th percentile, see <see cref="FusionActors.Core.Streams.Evidence.Drift"/>), so one mapping serves every modality.
/// </summary>
/// <param name="Onset">The drift from which the discount starts (≥ 0).</param>
/// <param name="Scale">How fast the factor falls beyond <paramref name="Onset"/> (&gt; 0; +∞ = no discount).</param>
public readonly record struct DriftDiscount(double Onset, double Scale)
{
    /// <summary>
    /// The adaptive policy's mapping, chosen on the val split under in-distribution faults only (never on test or
    /// the out-of-distribution splits): <c>fit-drift --discount</c>, the grid and the rule in docs/evaluation.md,
    /// "Drift scores and the adaptive policy". A drift of 3 keeps 73 % of the weight, 6 keeps 50 %.
    /// </summary>
    public static readonly DriftDiscount Adaptive = new(Onset: 0.5, Scale: 8.0);

    /// <summary>No discount at all.</summary>
    public static readonly DriftDiscount None = new(0, double.PositiveInfinity);

    public double Factor(double drift)
    {
        if (!(drift > Onset) || double.IsPositiveInfinity(Scale)) return 1.0; // NaN, or typical enough
        return double.IsPositiveInfinity(drift) ? 0.0 : Math.Exp(-(drift - Onset) / Scale);
    }
}
