using FusionActors.Protocol.Specs;

namespace FusionActors.Core.Fusion;

/// <summary>
/// Temperature scaling of the fused posterior per policy and availability pattern: the fused log-posterior of a
/// window decided by <c>policy</c> with evidence from the modalities <c>pattern</c> becomes log softmax(log p / T).
/// A pattern is the present modalities' names, ordinal-sorted and joined by '+' ("audio+image", "audio"), so it is
/// written for any number of modalities; a pattern with no entry uses the policy's "*" entry, else T = 1. Policies
/// without an entry (e.g. <c>single</c>, the encoders alone) are left as they are.
/// </summary>
public sealed class FusionCalibration
{
    /// <summary>Temperatures are refused outside this range: anything beyond is a broken fit, not a calibration.</summary>
    public const double MinTemperature = 0.05, MaxTemperature = 20;

    /// <summary>Bounds of a hostile file: policies × patterns.</summary>
    public const int MaxEntries = 256;

    public const string AnyPattern = "*";

    private readonly Dictionary<string, Dictionary<string, double>> _byPolicy;

    public static FusionCalibration Identity { get; } = new(new Dictionary<string, IReadOnlyDictionary<string, double>>());

    /// <param name="temperatures">Policy kind name ("adaptive", "fixed", "learned") → pattern → T.</param>
    /// <exception cref="ArgumentException">An unknown policy, a malformed pattern, a temperature out of range, too many entries.</exception>
    public FusionCalibration(IReadOnlyDictionary<string, IReadOnlyDictionary<string, double>> temperatures)
    {
        ArgumentNullException.ThrowIfNull(temperatures);
        _byPolicy = new Dictionary<string, Dictionary<string, double>>(StringComparer.Ordinal);
        var entries = 0;
        foreach (var (policy, patterns) in temperatures)
        {
            if (!Enum.GetValues<FusionPolicyKind>().Any(k => FusionPolicy.NameOf(k) == policy))
                throw new ArgumentException($"calibration for unknown policy '{policy}'", nameof(temperatures));
            var map = new Dictionary<string, double>(StringComparer.Ordinal);
            foreach (var (pattern, t) in patterns ?? throw new ArgumentException($"policy '{policy}' has no patterns", nameof(temperatures)))
            {
                if (++entries > MaxEntries) throw new ArgumentException($"more than {MaxEntries} calibration entries", nameof(temperatures));
                if (pattern != AnyPattern && !IsPattern(pattern))
                    throw new ArgumentException($"'{pattern}' is not a pattern (modality names, sorted, joined by '+')", nameof(temperatures));
                if (!double.IsFinite(t) || t < MinTemperature || t > MaxTemperature)
                    throw new ArgumentException($"temperature {t} of {policy}/{pattern} is outside [{MinTemperature}, {MaxTemperature}]", nameof(temperatures));
                map[pattern] = t;
            }
            _byPolicy[policy] = map;
        }
    }

    /// <summary>No temperature at all: every posterior stays as pooled.</summary>
    public bool IsIdentity => _byPolicy.Count == 0;

    /// <summary>Policy → pattern → T, as loaded.</summary>
    public IReadOnlyDictionary<string, IReadOnlyDictionary<string, double>> Temperatures =>
        _byPolicy.ToDictionary(kv => kv.Key, kv => (IReadOnlyDictionary<string, double>)kv.Value);

    /// <summary>The pattern of a set of present modalities (any order).</summary>
    public static string PatternOf(IEnumerable<string> present) => string.Join('+', present.Order(StringComparer.Ordinal));

    /// <summary>The temperature for <paramref name="policy"/>'s kind and <paramref name="pattern"/>: 1 when none applies.</summary>
    public double TemperatureFor(FusionPolicy policy, string pattern)
    {
        if (!_byPolicy.TryGetValue(FusionPolicy.NameOf(policy.Kind), out var map)) return 1.0;
        return map.TryGetValue(pattern, out var t) ? t : map.GetValueOrDefault(AnyPattern, 1.0);
    }

    /// <summary>Divides the log-posterior by T and renormalises it, in place (nothing when T = 1).</summary>
    public static void Apply(double[] logp, double temperature)
    {
        if (temperature == 1.0) return;
        for (var k = 0; k < logp.Length; k++) logp[k] /= temperature;
        Probabilities.NormaliseLog(logp);
    }

    private static bool IsPattern(string pattern)
    {
        if (pattern.Length is 0 or > 1024) return false;
        var parts = pattern.Split('+');
        for (var i = 0; i < parts.Length; i++)
        {
            if (parts[i].Length == 0 || parts[i].Any(char.IsWhiteSpace)) return false;
            if (i > 0 && string.CompareOrdinal(parts[i - 1], parts[i]) >= 0) return false;
        }
        return true;
    }
}
