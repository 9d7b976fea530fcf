namespace FusionActors.Inference;

/// <summary>
/// Maps a model's classes onto a session's labels by name. A session label the model lacks gets no evidence from it:
/// the mean of the log-probabilities the model gives the labels it has (after renormalisation), so it neither favours
/// nor refutes that label. Classes of the model no session label names are ignored (the model's posterior is
/// renormalised over the labels it shares with the session). Immutable and thread-safe.
/// </summary>
public sealed class LabelMap
{
    private readonly int[] _classOf;

    private LabelMap(int[] classOf, bool identity)
    {
        _classOf = classOf;
        IsIdentity = identity;
        Matched = classOf.Count(c => c >= 0);
    }

    /// <summary>The same classes in the same order: the model's log-softmax is the session's posterior as it is.</summary>
    public bool IsIdentity { get; }

    /// <summary>Number of session labels the model has.</summary>
    public int Matched { get; }

    /// <summary>The model's class index of each session label; -1 where the model has none.</summary>
    public IReadOnlyList<int> ClassOf => _classOf;

    /// <summary>
    /// The map of <paramref name="model"/>'s classes (<see cref="ModelSpec.Labels"/>, or positions when it names none)
    /// onto <paramref name="sessionLabels"/>; <see cref="ArgumentException"/> naming the model when no label matches,
    /// when a model without names has another number of classes, or when the model names a label twice.
    /// </summary>
    public static LabelMap Create(ModelSpec model, IReadOnlyList<string> sessionLabels)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(sessionLabels);
        var classes = model.ClassCount;
        if (model.Labels.Count == 0)
        {
            // A model that names no classes can only be taken positionally, and only for as many labels.
            if (classes != sessionLabels.Count)
                throw new ArgumentException($"model '{model.Name}' has {classes} unnamed classes, the session has {sessionLabels.Count} labels");
            return new LabelMap(Enumerable.Range(0, classes).ToArray(), identity: true);
        }

        var index = new Dictionary<string, int>(StringComparer.Ordinal);
        for (var i = 0; i < model.Labels.Count; i++)
        {
            var name = model.Labels[i];
            if (name.Length == 0) continue; // a blank (e.g. the CTC blank) names nothing
            index.TryAdd(name, i);
        }
        var classOf = new int[sessionLabels.Count];
        for (var i = 0; i < classOf.Length; i++) classOf[i] = index.TryGetValue(sessionLabels[i], out var c) ? c : -1;
        if (classOf.All(c => c < 0))
            throw new ArgumentException(
                $"model '{model.Name}' has none of the session's labels ({string.Join(", ", sessionLabels.Take(10))}{(sessionLabels.Count > 10 ? ", ..." : "")})");
        var identity = classOf.Length == classes && classOf.Select((c, i) => c == i).All(x => x);
        return new LabelMap(classOf, identity);
    }

    /// <summary>The session's log-posterior from the model's <paramref name="logits"/> at <paramref name="temperature"/>.</summary>
    public double[] LogProbs(ReadOnlySpan<float> logits, double temperature)
    {
        var result = new double[_classOf.Length];
        var max = double.NegativeInfinity;
        for (var i = 0; i < _classOf.Length; i++)
            if (_classOf[i] >= 0) max = Math.Max(max, logits[_classOf[i]] / temperature);
        var sum = 0.0;
        for (var i = 0; i < _classOf.Length; i++)
            if (_classOf[i] >= 0) sum += Math.Exp(logits[_classOf[i]] / temperature - max);
        var log = max + Math.Log(sum);
        var mean = 0.0;
        for (var i = 0; i < _classOf.Length; i++)
        {
            if (_classOf[i] < 0) continue;
            result[i] = logits[_classOf[i]] / temperature - log;
            mean += result[i];
        }
        if (Matched == _classOf.Length) return result;
        mean /= Matched;
        for (var i = 0; i < _classOf.Length; i++)
            if (_classOf[i] < 0) result[i] = mean;
        // Renormalise over all the session's labels.
        var m2 = result.Max();
        var s2 = result.Sum(v => Math.Exp(v - m2));
        var l2 = m2 + Math.Log(s2);
        for (var i = 0; i < result.Length; i++) result[i] -= l2;
        return result;
    }
}
