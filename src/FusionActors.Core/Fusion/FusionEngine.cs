using FusionActors.Alignment;
using FusionActors.Protocol;
using FusionActors.Specs;

namespace FusionActors.Fusion;

/// <summary>
/// Decides each aligned window (DESIGN §6). Per modality: pooled calibrated log-posterior (mean of the
/// evidence's log-probabilities, renormalised), confidence c = 1 − H/log K, freshness f = exp(−age/τ) with
/// age = window end − the newest evidence's information time (a frozen sensor's repeats keep their first time), reliability r from the stream's health, prior s.
/// Adaptive weight w = s·r·c·f; the fused log-posterior is Σ w log p / Σ w over present modalities;
/// Σ w = 0 gives NoEvidence with the prior. The fused embedding is the weight-scaled concatenation of the
/// modalities' mean embeddings (zeros where missing). Stateful only for imputation (last evidence per modality).
/// </summary>
public sealed class FusionEngine
{
    private readonly SessionSpec _spec;
    private readonly string[] _modalities;
    private readonly Dictionary<string, StreamSpec[]> _streamsByModality;
    private readonly Dictionary<string, int> _embeddingSizes = new();
    private readonly Dictionary<string, (long EndUs, double[] LogP, float[] Embedding)> _last = new();
    private readonly int _classes;

    public FusionEngine(SessionSpec spec)
    {
        _spec = spec;
        Policy = spec.Policy;
        _streamsByModality = spec.Streams.GroupBy(s => s.Modality).ToDictionary(g => g.Key, g => g.ToArray());
        _modalities = _streamsByModality.Keys.ToArray();
        _classes = spec.Labels.Count;
    }

    public FusionPolicy Policy { get; set; }

    public IReadOnlyList<string> Modalities => _modalities;

    public FusedResult Fuse(string sessionId, AlignedWindow window, IReadOnlyDictionary<string, StreamSnapshot> streams)
    {
        var weights = new Dictionary<string, double>(_modalities.Length);
        var missing = new List<string>();
        var imputed = new List<string>();
        var present = new List<(string Modality, double W, double[] LogP, float[] Emb)>();
        var states = new Dictionary<string, StreamState>(streams.Count);
        foreach (var (id, snap) in streams) states[id] = snap.State;

        foreach (var modality in _modalities)
        {
            var pooled = Pool(modality, window, out var newestEnd, out var embedding);
            var isImputed = false;
            if (pooled is null && embedding is null && TryImpute(modality, window, out var last))
            {
                (newestEnd, pooled, embedding) = last;
                isImputed = true;
            }
            if (pooled is null && embedding is null)
            {
                missing.Add(modality);
                weights[modality] = 0;
                continue;
            }
            // A late revision of an earlier window must not replace newer evidence kept for imputation.
            if (!isImputed && (!_last.TryGetValue(modality, out var kept) || kept.EndUs <= newestEnd))
                _last[modality] = (newestEnd, pooled ?? [], embedding ?? []);
            if (isImputed) imputed.Add(modality);

            var w = Weight(modality, window, pooled, newestEnd, streams);
            weights[modality] = w;
            present.Add((modality, w, pooled ?? [], embedding ?? []));
        }

        var total = present.Sum(p => p.W);
        var normalised = weights.ToDictionary(kv => kv.Key, kv => total > 0 ? kv.Value / total : 0.0);
        var fusedEmbedding = FuseEmbeddings(present, total);

        double[] posterior;
        FusedStatus status;
        var withLogits = present.Where(p => p.LogP.Length == _classes && _classes > 0 && p.W > 0).ToList();
        if (_classes > 0 && withLogits.Count > 0)
        {
            var sumW = withLogits.Sum(p => p.W);
            var logp = new double[_classes];
            foreach (var (_, w, lp, _) in withLogits)
                for (var k = 0; k < _classes; k++) logp[k] += w / sumW * lp[k];
            Probabilities.NormaliseLog(logp);
            posterior = Probabilities.Exp(logp);
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

        var top = status == FusedStatus.Fused && posterior.Length > 0 ? Probabilities.ArgMax(posterior) : -1;
        return new FusedResult(
            sessionId, window.StartUs, window.EndUs, window.Revision, status, posterior, top,
            top >= 0 ? _spec.Labels[top] : null,
            top >= 0 ? posterior[top] : 0,
            posterior.Length > 0 ? Probabilities.Entropy(posterior) : 0,
            normalised, missing, imputed, fusedEmbedding, states, window.WatermarkLagUs, Policy.ToString());
    }

    private double Weight(string modality, AlignedWindow window, double[]? logp, long newestEnd, IReadOnlyDictionary<string, StreamSnapshot> streams)
    {
        var specs = _streamsByModality[modality];
        switch (Policy.Kind)
        {
            case FusionPolicyKind.Single:
                return modality == Policy.Modality ? 1.0 : 0.0;
            case FusionPolicyKind.Fixed:
                return _spec.FixedWeights.TryGetValue(modality, out var fixedW) ? fixedW : specs.Average(s => s.PriorWeight);
        }
        var s = specs.Average(x => x.PriorWeight);
        // Only modalities with evidence get here: weigh it with the reliability it was produced at.
        var r = specs.Average(x => streams.TryGetValue(x.StreamId, out var snap) ? snap.ReliabilityOfEvidence : 0.0);
        var c = logp is { Length: > 0 } ? Probabilities.Confidence(Probabilities.Exp(logp)) : 1.0;
        var tau = specs.Average(x => (double)x.FreshnessTauUs);
        var age = Math.Max(0, window.EndUs - newestEnd);
        var f = Math.Exp(-age / tau);
        return s * r * c * f;
    }

    /// <summary>Pools a modality's evidence in the window: mean log-probabilities and mean embedding.</summary>
    private double[]? Pool(string modality, AlignedWindow window, out long newestEnd, out float[]? embedding)
    {
        newestEnd = long.MinValue;
        embedding = null;
        double[]? sum = null;
        var n = 0;
        var nEmb = 0;
        foreach (var stream in _streamsByModality[modality])
        {
            if (!window.Evidence.TryGetValue(stream.StreamId, out var list)) continue;
            foreach (var e in list)
            {
                newestEnd = Math.Max(newestEnd, e.FreshAsOfUs);
                if (e.Embedding.Length > 0)
                {
                    embedding ??= new float[e.Embedding.Length];
                    if (embedding.Length == e.Embedding.Length)
                    {
                        for (var i = 0; i < embedding.Length; i++) embedding[i] += e.Embedding[i];
                        nEmb++;
                    }
                }
                if (e.LogProbs.Length == 0 || (_classes > 0 && e.LogProbs.Length != _classes)) continue;
                sum ??= new double[e.LogProbs.Length];
                for (var k = 0; k < sum.Length; k++) sum[k] += e.LogProbs[k];
                n++;
            }
        }
        if (embedding is not null && nEmb > 0)
            for (var i = 0; i < embedding.Length; i++) embedding[i] /= nEmb;
        if (embedding is not null) _embeddingSizes[modality] = embedding.Length;
        if (sum is null) return null;
        for (var k = 0; k < sum.Length; k++) sum[k] /= n;
        Probabilities.NormaliseLog(sum);
        return sum;
    }

    private bool TryImpute(string modality, AlignedWindow window, out (long, double[]?, float[]?) last)
    {
        last = default;
        if (_spec.ImputeHorizonUs <= 0 || !_last.TryGetValue(modality, out var l)) return false;
        if (window.EndUs - l.EndUs > _spec.ImputeHorizonUs || l.EndUs > window.EndUs) return false;
        last = (l.EndUs, l.LogP.Length > 0 ? l.LogP : null, l.Embedding.Length > 0 ? l.Embedding : null);
        return true;
    }

    private float[] FuseEmbeddings(List<(string Modality, double W, double[] LogP, float[] Emb)> present, double total)
    {
        var size = 0;
        foreach (var m in _modalities) size += _embeddingSizes.GetValueOrDefault(m);
        var result = new float[size];
        var offset = 0;
        foreach (var m in _modalities)
        {
            var len = _embeddingSizes.GetValueOrDefault(m);
            foreach (var p in present)
            {
                if (p.Modality != m || p.Emb.Length != len || total <= 0) continue;
                var scale = (float)(p.W / total);
                for (var i = 0; i < len; i++) result[offset + i] = p.Emb[i] * scale;
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
}
