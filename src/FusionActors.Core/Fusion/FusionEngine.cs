using FusionActors.Core.Alignment;
using FusionActors.Core.Fusion.Policies;
using FusionActors.Core.Specs;
using FusionActors.Core.Streams;
using FusionActors.Protocol;
using FusionActors.Protocol.Specs;

namespace FusionActors.Core.Fusion;

/// <summary>
/// Decides each aligned window. Per modality: pooled calibrated log-posterior (mean of the
/// evidence's log-probabilities, renormalised), confidence c = 1 − H/log K, freshness f = exp(−age/τ) with
/// age = window end − the newest evidence's information time (a frozen sensor's repeats keep their first time), reliability r from the stream's health, prior s.
/// The session's <see cref="IWeightingPolicy"/> weighs each modality with evidence (adaptive: w = s·r·c·f); the fused log-posterior is Σ w log p / Σ w over present modalities;
/// Σ w = 0 gives NoEvidence with the prior. The fused log-posterior is then divided by the policy's window temperature
/// (an <see cref="IWindowTemperaturePolicy"/>, i.e. <c>learned</c>) and by the node's <see cref="FusionCalibration"/>
/// temperature for the policy and the window's availability pattern, and renormalised. The fused embedding is the weight-scaled concatenation of the
/// modalities' mean embeddings (zeros where missing). Stateful only for imputation (last evidence per modality).
/// <para>
/// Reported weights (<see cref="FusedResult.Weights"/>) are each modality's share of the posterior: in a session with
/// labels a modality without a posterior (an embedding-only model, a gate) reports 0 and the others sum to 1. Without
/// labels every modality but a gate shares the weight. The embedding is scaled by the shares of every present modality.
/// </para>
/// <para>
/// Gates (<see cref="SessionSpec.Gates"/>): a gated stream's weight is multiplied by its gate's factor
/// <see cref="StreamGate.Factor"/> of the gate's outputs in the window, pooled; a modality's weight by the mean of its
/// streams' factors (1 for an ungated stream or one whose gate has no evidence in the window). A gate's modality
/// takes no part in the posterior. Late gate evidence revises the window like any other evidence.
/// </para>
/// </summary>
/// <remarks>
/// It runs once per window on every session, so it works on arrays indexed by modality and allocates little
/// more than the result: no LINQ, no per-window dictionaries besides the result's weights.
/// </remarks>
public sealed class FusionEngine
{
    private readonly SessionSpec _spec;
    private readonly string[] _modalities;
    private readonly StreamSpec[][] _streams; // per modality, in spec order
    private readonly double[] _priors; // mean prior weight per modality
    private readonly double[] _taus; // mean freshness τ per modality
    private readonly int[] _embeddingSizes;
    private readonly (long EndUs, double[] LogP, float[] Embedding)?[] _last;
    private readonly int _classes;
    private readonly bool _imputes;
    private readonly FusionModels _models;
    private readonly Dictionary<ulong, string> _patterns = [];
    private readonly StreamGate?[][] _gatesOf; // per modality, per stream (in _streams order): the stream's gate, if gated
    private readonly bool[] _isGate; // per modality: its streams are gates
    private readonly bool _gated;
    private readonly double[] _gateFactors; // per modality: the factor applied in this window, NaN when no gate had evidence
    private static readonly IReadOnlyDictionary<string, double> NoGates = new Dictionary<string, double>();

    // Model versions per window: each stream's version (from its newest evidence), and the last list a result named.
    private string?[]? _streamModels;
    private long[]? _streamModelAt;
    private readonly List<string> _modelScratch = [];
    private IReadOnlyList<string>? _lastModels;

    // Scratch of one Fuse call, per modality.
    private readonly double[] _weights;
    private readonly double[] _logTemperatures; // per modality, from an IWindowTemperaturePolicy (else 0)
    private readonly double[]?[] _logP;
    private readonly float[]?[] _embeddings;
    private readonly Kind[] _kinds;
    private readonly double[]?[] _pooledScratch;
    private readonly float[]?[] _embeddingScratch;

    private FusionPolicy _policy;
    private IWeightingPolicy _weighting;
    private string _policyName;
    private string[] _stateIds = [];
    private StreamState[] _stateValues = [];
    private IReadOnlyDictionary<string, StreamState>? _states;

    /// <param name="embeddingSizes">
    /// Embedding length of each stream's encoder, by stream id, when known up front (the node knows its models):
    /// the fused embedding then has the same layout from the first window on, zeros where a modality is missing.
    /// Without it a modality's slot appears once its first evidence has been seen.
    /// </param>
    /// <param name="models">
    /// The node's fusion calibration (per policy and availability pattern) and learned head; none = uncalibrated
    /// fused posteriors and no <c>learned</c> policy.
    /// </param>
    public FusionEngine(SessionSpec spec, IReadOnlyDictionary<string, int>? embeddingSizes = null, FusionModels? models = null)
    {
        _spec = spec;
        _models = models ?? FusionModels.None;
        _policy = spec.Policy;
        _weighting = Runnable(_policy);
        _policyName = _policy.ToString();
        var groups = new List<(string Modality, List<StreamSpec> Streams)>();
        foreach (var s in spec.Streams)
        {
            var i = groups.FindIndex(g => g.Modality == s.Modality);
            if (i < 0) groups.Add((s.Modality, [s]));
            else groups[i].Streams.Add(s);
        }
        var n = groups.Count;
        _modalities = new string[n];
        _streams = new StreamSpec[n][];
        _priors = new double[n];
        _taus = new double[n];
        for (var m = 0; m < n; m++)
        {
            _modalities[m] = groups[m].Modality;
            _streams[m] = [.. groups[m].Streams];
            _priors[m] = Mean(_streams[m], s => s.PriorWeight);
            _taus[m] = Mean(_streams[m], s => s.FreshnessTauUs);
        }
        _embeddingSizes = new int[n];
        _last = new (long, double[], float[])?[n];
        _weights = new double[n];
        _logTemperatures = new double[n];
        _logP = new double[n][];
        _embeddings = new float[n][];
        _kinds = new Kind[n];
        _pooledScratch = new double[n][];
        _embeddingScratch = new float[n][];
        _gatesOf = new StreamGate?[n][];
        _isGate = new bool[n];
        _gateFactors = new double[n];
        for (var m = 0; m < n; m++)
        {
            _gatesOf[m] = new StreamGate?[_streams[m].Length];
            for (var j = 0; j < _streams[m].Length; j++)
                foreach (var g in spec.Gates)
                {
                    if (g.Gated == _streams[m][j].StreamId) _gatesOf[m][j] = g;
                    if (g.Gate == _streams[m][j].StreamId) _isGate[m] = true;
                }
            _gated |= Array.Exists(_gatesOf[m], g => g is not null);
        }
        _classes = spec.Labels.Count;
        _imputes = spec.ImputeHorizonUs > 0;
        if (embeddingSizes is not null)
            for (var m = 0; m < n; m++)
            {
                // A modality's streams share one slot; declared only when all of them agree on its length.
                var sizes = _streams[m].Select(st => embeddingSizes.TryGetValue(st.StreamId, out var len) ? len : -1).Distinct().ToArray();
                if (sizes is [var size] && size > 0) _embeddingSizes[m] = size;
            }
    }

    public FusionPolicy Policy
    {
        get => _policy;
        set
        {
            _weighting = Runnable(value);
            _policy = value;
            _policyName = value.ToString();
        }
    }

    public IReadOnlyList<string> Modalities => _modalities;

    /// <summary>Whether a node with <paramref name="models"/> can run <paramref name="policy"/> (the learned one needs its head).</summary>
    public static bool CanRun(FusionPolicy policy, FusionModels? models) =>
        WeightingPolicies.IsKnown(policy) && (policy.Kind != FusionPolicyKind.Learned || models?.Learned is not null);

    private IWeightingPolicy Runnable(FusionPolicy policy) =>
        CanRun(policy, _models) ? WeightingPolicies.For(policy)
            : throw new ArgumentException($"policy '{policy}' needs the node's learned head (models/fusion.json), which this node has not loaded", nameof(policy));

    public FusedResult Fuse(string sessionId, AlignedWindow window, IReadOnlyDictionary<string, StreamSnapshot> streams)
    {
        var n = _modalities.Length;
        var missingCount = 0;
        var imputedCount = 0;
        for (var m = 0; m < n; m++)
        {
            var pooled = Pool(m, window, out var newestEnd, out var embedding, out var drift);
            var isImputed = false;
            if (pooled is null && embedding is null && TryImpute(m, window, out var last))
            {
                (newestEnd, pooled, embedding) = last;
                drift = double.NaN;
                isImputed = true;
            }
            if (pooled is null && embedding is null)
            {
                _kinds[m] = Kind.Missing;
                missingCount++;
                _weights[m] = 0;
                _gateFactors[m] = double.NaN;
                continue;
            }
            // A late revision of an earlier window must not replace newer evidence kept for imputation.
            if (_imputes && !isImputed && (_last[m] is not { } kept || kept.EndUs <= newestEnd))
                _last[m] = (newestEnd, pooled ?? [], embedding ?? []);
            _kinds[m] = isImputed ? Kind.Imputed : Kind.Present;
            if (isImputed) imputedCount++;
            _weights[m] = Weight(m, window, pooled, newestEnd, streams, drift);
            if (_gated)
            {
                _gateFactors[m] = GateFactor(m, window, out var gatedHere);
                _weights[m] *= _gateFactors[m];
                if (!gatedHere) _gateFactors[m] = double.NaN;
            }
            _logP[m] = pooled ?? [];
            _embeddings[m] = embedding ?? [];
        }

        var total = 0.0;
        var totalWeighed = 0.0; // without labels: every present modality but the gates
        for (var m = 0; m < n; m++)
            if (_kinds[m] != Kind.Missing)
            {
                total += _weights[m];
                if (!_isGate[m]) totalWeighed += _weights[m];
            }
        var fusedEmbedding = FuseEmbeddings(total);

        double[] posterior;
        FusedStatus status;
        var sumW = 0.0;
        var withLogits = 0;
        for (var m = 0; m < n; m++)
            if (HasLogits(m))
            {
                sumW += _weights[m];
                withLogits++;
            }
        // Each modality's share of the posterior: a modality that has none to give (embedding-only, a gate) reports 0.
        var normalised = new Dictionary<string, double>(n);
        for (var m = 0; m < n; m++)
            normalised[_modalities[m]] = _classes > 0
                ? (withLogits > 0 && HasLogits(m) ? _weights[m] / sumW : 0.0)
                : (totalWeighed > 0 && _kinds[m] != Kind.Missing && !_isGate[m] ? _weights[m] / totalWeighed : 0.0);
        if (_classes > 0 && withLogits > 0)
        {
            var logp = new double[_classes];
            var logT = 0.0;
            for (var m = 0; m < n; m++)
            {
                if (!HasLogits(m)) continue;
                var (w, lp) = (_weights[m], _logP[m]!);
                for (var k = 0; k < _classes; k++) logp[k] += w / sumW * lp[k];
                logT += w / sumW * _logTemperatures[m];
            }
            Probabilities.NormaliseLog(logp);
            if (logT != 0) FusionCalibration.Apply(logp, Math.Exp(logT));
            if (!_models.Calibration.IsIdentity) FusionCalibration.Apply(logp, _models.Calibration.TemperatureFor(_policy, Pattern()));
            for (var k = 0; k < logp.Length; k++) logp[k] = Math.Exp(logp[k]);
            posterior = logp;
            status = FusedStatus.Fused;
        }
        else if (_classes == 0 && total > 0)
        {
            posterior = [];
            status = FusedStatus.Fused;
        }
        else
        {
            posterior = Prior();
            status = FusedStatus.NoEvidence;
        }

        var missing = Names(Kind.Missing, missingCount);
        var imputed = Names(Kind.Imputed, imputedCount);
        Array.Clear(_logP);
        Array.Clear(_embeddings);

        var top = status == FusedStatus.Fused && posterior.Length > 0 ? Probabilities.ArgMax(posterior) : -1;
        var confidence = top >= 0 ? posterior[top] : 0;
        return new FusedResult(
            sessionId, window.StartUs, window.EndUs, window.Revision, status, posterior, top,
            top >= 0 ? _spec.Labels[top] : null,
            confidence,
            posterior.Length > 0 ? Probabilities.Entropy(posterior) : 0,
            normalised, missing, imputed, fusedEmbedding, States(streams), window.WatermarkLagUs, _policyName)
        {
            // Selective prediction; only a decision with a posterior can be unsure of it.
            Uncertain = top >= 0 && confidence < _spec.UncertainBelow,
            Models = WindowModels(window),
            Gates = _gated ? GateFactors() : NoGates,
        };
    }

    /// <summary>The gate factors applied in this window, by gated modality (those whose gate had evidence).</summary>
    private Dictionary<string, double> GateFactors()
    {
        var gates = new Dictionary<string, double>(2);
        for (var m = 0; m < _modalities.Length; m++)
            if (!double.IsNaN(_gateFactors[m])) gates[_modalities[m]] = _gateFactors[m];
        return gates;
    }

    /// <summary>
    /// The versions behind the window, in the order of the session's streams: each stream's evidence versions in the
    /// window (a switch of model version can put two in one window), or the version it last ran when it has none here.
    /// The list of the previous result is reused while it is the same, so a steady session allocates nothing for it.
    /// </summary>
    private IReadOnlyList<string> WindowModels(AlignedWindow window)
    {
        var streams = _spec.Streams;
        if (_streamModels is null)
        {
            // Until a stream's evidence names its version, the one it opened with (ModelVersions, by model name).
            _streamModels = new string?[streams.Count];
            _streamModelAt = new long[streams.Count];
            for (var i = 0; i < streams.Count; i++)
            {
                _streamModelAt[i] = long.MinValue;
                foreach (var tag in ModelVersions)
                    if (tag == streams[i].Model || (tag.Length > streams[i].Model.Length && tag[streams[i].Model.Length] == '@' && tag.StartsWith(streams[i].Model, StringComparison.Ordinal)))
                    {
                        _streamModels[i] = tag;
                        break;
                    }
            }
            _lastModels = ModelVersions;
        }
        var list = _modelScratch;
        list.Clear();
        for (var i = 0; i < streams.Count; i++)
        {
            var named = false;
            if (window.Evidence.TryGetValue(streams[i].StreamId, out var evidence))
                for (var j = 0; j < evidence.Count; j++)
                {
                    if (evidence[j].Model is not { } tag) continue;
                    named = true;
                    AddOnce(list, tag);
                    if (evidence[j].StartUs >= _streamModelAt![i])
                    {
                        _streamModels[i] = tag;
                        _streamModelAt[i] = evidence[j].StartUs;
                    }
                }
            if (!named && _streamModels[i] is { } current) AddOnce(list, current);
        }
        var last = _lastModels!;
        if (last.Count == list.Count)
        {
            var same = true;
            for (var i = 0; i < list.Count && same; i++) same = string.Equals(last[i], list[i], StringComparison.Ordinal);
            if (same) return last;
        }
        return _lastModels = list.ToArray();
    }

    private static void AddOnce(List<string> list, string tag)
    {
        for (var i = 0; i < list.Count; i++)
            if (string.Equals(list[i], tag, StringComparison.Ordinal)) return;
        list.Add(tag);
    }

    /// <summary>
    /// The <c>name@version</c> of the models the session's streams opened with: results name them until the evidence
    /// names others (a stream moved to a new version after a reload; <see cref="FusedResult.Models"/>). Default none.
    /// </summary>
    public IReadOnlyList<string> ModelVersions { get; init; } = [];

    /// <summary>The availability pattern of the window: the modalities with evidence, sorted, joined by '+' (cached per set).</summary>
    private string Pattern()
    {
        var n = _modalities.Length;
        ulong mask = 0;
        if (n <= 64)
        {
            for (var m = 0; m < n; m++)
                if (_kinds[m] != Kind.Missing) mask |= 1UL << m;
            if (_patterns.TryGetValue(mask, out var cached)) return cached;
        }
        var names = new List<string>(n);
        for (var m = 0; m < n; m++)
            if (_kinds[m] != Kind.Missing) names.Add(_modalities[m]);
        var pattern = FusionCalibration.PatternOf(names);
        if (n <= 64) _patterns[mask] = pattern;
        return pattern;
    }

    private bool HasLogits(int m) =>
        _kinds[m] != Kind.Missing && !_isGate[m] && _logP[m]!.Length == _classes && _classes > 0 && _weights[m] > 0;

    /// <summary>
    /// The mean over modality <paramref name="m"/>'s streams of their gates' factors in the window: 1 for a stream
    /// without a gate or whose gate has no usable output in the window.
    /// </summary>
    private double GateFactor(int m, AlignedWindow window, out bool gated)
    {
        var gates = _gatesOf[m];
        var sum = 0.0;
        gated = false;
        for (var j = 0; j < gates.Length; j++)
        {
            if (gates[j] is { } g && PooledGate(g, window) is var p && !double.IsNaN(p))
            {
                sum += g.Factor(p);
                gated = true;
            }
            else sum += 1.0;
        }
        return sum / gates.Length;
    }

    /// <summary>The gate's outputs in the window (the first embedding value of each evidence, clamped to [0, 1]), pooled; NaN when it has none.</summary>
    public static double PooledGate(StreamGate gate, AlignedWindow window)
    {
        if (!window.Evidence.TryGetValue(gate.Gate, out var list)) return double.NaN;
        var n = 0;
        var max = 0.0;
        var sum = 0.0;
        for (var i = 0; i < list.Count; i++)
        {
            var e = list[i];
            if (e.Embedding.Length == 0 || !float.IsFinite(e.Embedding[0])) continue;
            var p = Math.Clamp((double)e.Embedding[0], 0, 1);
            max = Math.Max(max, p);
            sum += p;
            n++;
        }
        if (n == 0) return double.NaN;
        return gate.Pooling == GatePooling.Mean ? sum / n : max;
    }

    private string[] Names(Kind kind, int count)
    {
        if (count == 0) return [];
        var names = new string[count];
        var i = 0;
        for (var m = 0; m < _modalities.Length; m++)
            if (_kinds[m] == kind) names[i++] = _modalities[m];
        return names;
    }

    /// <summary>
    /// The streams' states for the result. Results are immutable and states change rarely, so consecutive
    /// results share one dictionary until a state (or the set of streams) changes.
    /// </summary>
    private IReadOnlyDictionary<string, StreamState> States(IReadOnlyDictionary<string, StreamSnapshot> streams)
    {
        if (_states is not null && streams.Count == _stateIds.Length
            // Dictionary's own enumerator is a struct; through the interface it would be boxed once per window.
            && (streams is Dictionary<string, StreamSnapshot> d ? SameStates(d.GetEnumerator()) : SameStates(streams.GetEnumerator())))
            return _states;
        var states = new Dictionary<string, StreamState>(streams.Count);
        foreach (var (id, snap) in streams) states[id] = snap.State;
        _stateIds = [.. states.Keys];
        _stateValues = [.. states.Values];
        return _states = states;
    }

    private bool SameStates<TEnumerator>(TEnumerator streams) where TEnumerator : IEnumerator<KeyValuePair<string, StreamSnapshot>>
    {
        using (streams)
        {
            for (var i = 0; streams.MoveNext(); i++)
            {
                var (id, snap) = streams.Current;
                if (id != _stateIds[i] || snap.State != _stateValues[i]) return false;
            }
        }
        return true;
    }

    private double Weight(int m, AlignedWindow window, double[]? logp, long newestEnd, IReadOnlyDictionary<string, StreamSnapshot> streams, double drift)
    {
        var evidence = new ModalityEvidence(_policy, _modalities[m], _streams[m], _priors[m], _taus[m], logp, newestEnd, window, streams, _spec.FixedWeights, _models.Learned)
        {
            Drift = drift,
        };
        _logTemperatures[m] = 0;
        return _weighting is IWindowTemperaturePolicy scaling ? scaling.Weigh(evidence, out _logTemperatures[m]) : _weighting.Weight(evidence);
    }

    /// <summary>Pools a modality's evidence in the window: mean log-probabilities, mean embedding and mean drift (of the scored evidence; NaN if none).</summary>
    private double[]? Pool(int m, AlignedWindow window, out long newestEnd, out float[]? embedding, out double drift)
    {
        newestEnd = long.MinValue;
        embedding = null;
        double[]? sum = null;
        var n = 0;
        var nEmb = 0;
        var driftSum = 0.0;
        var nDrift = 0;
        foreach (var stream in _streams[m])
        {
            if (!window.Evidence.TryGetValue(stream.StreamId, out var list)) continue;
            for (var j = 0; j < list.Count; j++)
            {
                var e = list[j];
                newestEnd = Math.Max(newestEnd, e.FreshAsOfUs);
                if (double.IsFinite(e.Drift) && e.Drift >= 0)
                {
                    driftSum += e.Drift;
                    nDrift++;
                }
                if (e.Embedding.Length > 0)
                {
                    embedding ??= Scratch(ref _embeddingScratch[m], e.Embedding.Length);
                    if (embedding.Length == e.Embedding.Length)
                    {
                        for (var i = 0; i < embedding.Length; i++) embedding[i] += e.Embedding[i];
                        nEmb++;
                    }
                }
                if (e.LogProbs.Length == 0 || (_classes > 0 && e.LogProbs.Length != _classes)) continue;
                sum ??= Scratch(ref _pooledScratch[m], e.LogProbs.Length);
                for (var k = 0; k < sum.Length; k++) sum[k] += e.LogProbs[k];
                n++;
            }
        }
        if (embedding is not null && nEmb > 0)
            for (var i = 0; i < embedding.Length; i++) embedding[i] /= nEmb;
        if (embedding is not null) _embeddingSizes[m] = embedding.Length;
        drift = nDrift > 0 ? driftSum / nDrift : double.NaN;
        if (sum is null) return null;
        for (var k = 0; k < sum.Length; k++) sum[k] /= n;
        Probabilities.NormaliseLog(sum);
        return sum;
    }

    /// <summary>
    /// A zeroed array for pooling. Kept pools must stay intact for imputation; without it nothing outlives
    /// the window, so each modality reuses one array.
    /// </summary>
    private T[] Scratch<T>(ref T[]? kept, int length)
    {
        if (_imputes) return new T[length];
        if (kept is null || kept.Length != length) kept = new T[length];
        else Array.Clear(kept);
        return kept;
    }

    private bool TryImpute(int m, AlignedWindow window, out (long, double[]?, float[]?) last)
    {
        last = default;
        if (!_imputes || _last[m] is not { } l) return false;
        if (window.EndUs - l.EndUs > _spec.ImputeHorizonUs || l.EndUs > window.EndUs) return false;
        last = (l.EndUs, l.LogP.Length > 0 ? l.LogP : null, l.Embedding.Length > 0 ? l.Embedding : null);
        return true;
    }

    private float[] FuseEmbeddings(double total)
    {
        var size = 0;
        foreach (var len in _embeddingSizes) size += len;
        if (size == 0) return [];
        var result = new float[size];
        var offset = 0;
        for (var m = 0; m < _modalities.Length; m++)
        {
            var len = _embeddingSizes[m];
            var emb = _embeddings[m];
            if (_kinds[m] != Kind.Missing && emb!.Length == len && total > 0)
            {
                var scale = (float)(_weights[m] / total);
                for (var i = 0; i < len; i++) result[offset + i] = emb[i] * scale;
            }
            offset += len;
        }
        return result;
    }

    private double[] Prior()
    {
        if (_classes == 0) return [];
        var p = new double[_classes];
        Array.Fill(p, 1.0 / _classes);
        return p;
    }

    private static double Mean(StreamSpec[] specs, Func<StreamSpec, double> value)
    {
        var sum = 0.0;
        foreach (var s in specs) sum += value(s);
        return sum / specs.Length;
    }

    private enum Kind : byte
    {
        Missing,
        Present,
        Imputed,
    }
}
