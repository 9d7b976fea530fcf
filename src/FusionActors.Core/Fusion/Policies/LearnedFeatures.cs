namespace FusionActors.Core.Fusion.Policies;

/// <summary>
/// The per-modality features the <c>learned</c> policy's head weighs a modality by: the one place they are defined,
/// in C# for the node and (by name and order) in <c>tools/train/train_fusion.py</c>, which reads them from the
/// evaluation's feature dump. Every feature is finite and in [0, 1], whatever the evidence; none names a modality,
/// so one head serves any number of modalities (what a modality's peers say enters pooled over all of them).
/// </summary>
/// <remarks>
/// Adding a feature: append its name to <see cref="Names"/>, compute it in
/// <see cref="Compute"/>, dump features again and retrain (docs/models.md, "Fusion calibration and the learned head"); a head is
/// refused at load when its feature count differs from <see cref="Count"/>.
/// </remarks>
public static class LearnedFeatures
{
    /// <summary>The features, in the order of the head's input.</summary>
    public static readonly string[] Names =
    [
        "confidence",      // 1 − H/log K of the modality's pooled posterior
        "top1",            // its largest probability
        "margin",          // largest − second largest probability
        "freshness",       // exp(−age/τ)
        "reliability",     // the streams' reliability when they produced the evidence
        "coverage",        // mean fraction of the evidence's span covered by frames
        "evidenceCount",   // log(1 + evidence items) / log(1 + 32), capped at 1
        "peersPresent",    // fraction of the session's other streams with evidence in the window (0 with no other stream)
        "peerAgreement",   // Σ_k p(k)·q(k), q = the other streams' pooled posterior (0 without one)
        "peerConfidence",  // 1 − H/log K of q (0 without one)
        "drift",           // 1 − exp(−d), d = the modality's mean drift as the adaptive discount sees it (0 = not scored)
        "peerDrift",       // the same of the other streams' evidence, pooled (0 without any scored)
    ];

    public static int Count => Names.Length;

    private const int EvidenceCountCap = 32;

    /// <summary>Writes the features of <paramref name="e"/>'s modality into <paramref name="features"/> (length ≥ <see cref="Count"/>).</summary>
    public static void Compute(in ModalityEvidence e, Span<float> features)
    {
        if (features.Length < Count) throw new ArgumentException($"needs {Count} features", nameof(features));
        var logp = e.LogP;
        double top1 = 0, top2 = 0;
        if (logp is { Length: > 0 })
            foreach (var lp in logp)
            {
                var p = Math.Exp(lp);
                if (p > top1) (top1, top2) = (p, top1);
                else if (p > top2) top2 = p;
            }
        else top1 = 1;

        double coverage = 0;
        var count = 0;
        var ownStreams = 0;
        foreach (var s in e.Streams)
        {
            if (!e.Window.Evidence.TryGetValue(s.StreamId, out var list)) continue;
            ownStreams++;
            foreach (var ev in list)
            {
                coverage += ev.Coverage;
                count++;
            }
        }
        // Imputed evidence is not in the window: it covers nothing of it.
        coverage = count > 0 ? coverage / count : 0;

        // The other streams: the session's streams (by their health snapshots) not of this modality.
        var others = 0;
        var othersWithEvidence = 0;
        double[]? q = null;
        var qn = 0;
        double peerDriftSum = 0;
        var peerDriftN = 0;
        foreach (var (id, _) in e.Snapshots)
        {
            if (IsOwn(e.Streams, id)) continue;
            others++;
            if (!e.Window.Evidence.TryGetValue(id, out var list) || list.Count == 0) continue;
            othersWithEvidence++;
            foreach (var ev in list)
            {
                if (double.IsFinite(ev.Drift) && ev.Drift >= 0)
                {
                    peerDriftSum += ev.Drift;
                    peerDriftN++;
                }
                if (logp is null || ev.LogProbs.Length != logp.Length) continue;
                q ??= new double[logp.Length];
                for (var k = 0; k < q.Length; k++) q[k] += ev.LogProbs[k];
                qn++;
            }
        }
        double agreement = 0, peerConfidence = 0;
        if (q is not null && qn > 0 && logp is not null)
        {
            for (var k = 0; k < q.Length; k++) q[k] /= qn;
            Probabilities.NormaliseLog(q);
            for (var k = 0; k < q.Length; k++) agreement += Math.Exp(logp[k]) * Math.Exp(q[k]);
            peerConfidence = Probabilities.ConfidenceOfLog(q);
        }

        features[0] = Unit(e.Confidence);
        features[1] = Unit(top1);
        features[2] = Unit(top1 - top2);
        features[3] = Unit(e.Freshness);
        features[4] = Unit(e.Reliability);
        features[5] = Unit(coverage);
        features[6] = Unit(Math.Log(1 + count) / Math.Log(1 + EvidenceCountCap));
        features[7] = others > 0 ? Unit((double)othersWithEvidence / others) : 0f;
        features[8] = Unit(agreement);
        features[9] = Unit(peerConfidence);
        features[10] = DriftUnit(e.Drift);
        features[11] = peerDriftN > 0 ? DriftUnit(peerDriftSum / peerDriftN) : 0f;
    }

    /// <summary>
    /// A drift score (<see cref="FusionActors.Core.Streams.Evidence.Drift"/>: normalised per model, 0 = the val split's median,
    /// 1 = its 95th percentile) mapped to [0, 1) as 1 − exp(−d): 0.63 at the val 95th percentile, 0.95 at three times it.
    /// NaN (not scored) and negative are 0.
    /// </summary>
    public static float DriftUnit(double drift) => double.IsFinite(drift) && drift > 0 ? (float)(1 - Math.Exp(-drift)) : double.IsPositiveInfinity(drift) ? 1f : 0f;

    private static bool IsOwn(Protocol.Specs.StreamSpec[] streams, string id)
    {
        foreach (var s in streams)
            if (s.StreamId == id) return true;
        return false;
    }

    /// <summary>Clamped to [0, 1]; NaN (no information) is 0.</summary>
    private static float Unit(double x) => double.IsNaN(x) ? 0f : (float)Math.Clamp(x, 0, 1);
}
