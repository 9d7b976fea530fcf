namespace FusionActors.Runtime.Encoders.Batching;

/// <summary>
/// The node's encoder batcher (Fusion:Batching; HOCON aliases fusion.encoder.batching.*). docs/configuration.md
/// lists the keys; the defaults are the ones measured best on the AV-Digits models (docs/benchmarks.md, (e)).
/// </summary>
public sealed record BatchingOptions
{
    /// <summary>Coalesce inputs of every session's streams into shared model calls (Fusion:Batching:Enabled).</summary>
    public bool Enabled { get; init; } = true;

    /// <summary>Inputs in one model call at most (Fusion:Batching:MaxBatch). Default 32.</summary>
    public int MaxBatch { get; init; } = 32;

    /// <summary>
    /// Input values in one model call at most (Fusion:Batching:MaxCallValues): a call of a model with long inputs holds
    /// fewer of them (at least one), so its tensor and its time on a thread stay bounded. Default 65,536 (256 KB): 32
    /// camera inputs of 64 values, 4 one-second 16 kHz audio inputs.
    /// </summary>
    public int MaxCallValues { get; init; } = 65_536;

    /// <summary>The most inputs of <paramref name="inputLength"/> values one call takes.</summary>
    public int CallSize(int inputLength) => inputLength <= 0 ? MaxBatch : Math.Clamp(MaxCallValues / inputLength, 1, MaxBatch);

    /// <summary>
    /// How long the oldest waiting input may wait for a fuller call (Fusion:Batching:MaxQueueDelay); a call goes at
    /// once when <see cref="MaxBatch"/> inputs wait. Zero: a free thread takes whatever waits. Default 2 ms.
    /// </summary>
    public TimeSpan MaxQueueDelay { get; init; } = TimeSpan.FromMilliseconds(2);

    /// <summary>Inputs of one session in model calls at once, per model (Fusion:Batching:MaxInFlightPerSession). Default 32.</summary>
    public int MaxInFlightPerSession { get; init; } = 32;

    /// <summary>Threads that run the model calls (Fusion:Batching:Threads). Default 2.</summary>
    public int Threads { get; init; } = 2;

    /// <summary>
    /// Extra threads at once (Fusion:Batching:MaxStalledThreads): replacements of threads left in calls stalled past half
    /// the encode deadline, and threads running a stalled shared call's requests again alone. Default 8.
    /// </summary>
    public int MaxStalledThreads { get; init; } = 8;

    public static BatchingOptions Off { get; } = new() { Enabled = false };

    /// <summary>What is wrong with these options, each naming its key; empty when valid.</summary>
    public IEnumerable<string> Problems()
    {
        if (MaxBatch is < 1 or > 4096) yield return $"Fusion:Batching:MaxBatch (fusion.encoder.batching.max-batch) must be 1..4096, not {MaxBatch}";
        if (MaxCallValues < 1) yield return $"Fusion:Batching:MaxCallValues (fusion.encoder.batching.max-call-values) must be positive, not {MaxCallValues}";
        if (MaxQueueDelay < TimeSpan.Zero || MaxQueueDelay > TimeSpan.FromSeconds(1))
            yield return $"Fusion:Batching:MaxQueueDelay (fusion.encoder.batching.max-queue-delay) must be 0..1 s, not {MaxQueueDelay}";
        if (MaxInFlightPerSession < 1)
            yield return $"Fusion:Batching:MaxInFlightPerSession (fusion.encoder.batching.max-in-flight-per-session) must be positive, not {MaxInFlightPerSession}";
        if (Threads is < 1 or > 256) yield return $"Fusion:Batching:Threads (fusion.encoder.batching.threads) must be 1..256, not {Threads}";
        if (MaxStalledThreads is < 0 or > 256)
            yield return $"Fusion:Batching:MaxStalledThreads (fusion.encoder.batching.max-stalled-threads) must be 0..256, not {MaxStalledThreads}";
    }
}
