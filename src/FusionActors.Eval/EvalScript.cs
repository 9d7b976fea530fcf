using FusionActors.Scenarios;
using FusionActors.Scenarios.Faults;
using FusionActors.Inference.Data;
using FusionActors.Scenarios.Sessions;

namespace FusionActors.Eval;

/// <summary>Something the evaluation client sends on one stream.</summary>
public abstract record ClientAction(string StreamId);

/// <summary>A frame; the session id is filled in per policy session, so every session gets the very same frames.</summary>
public sealed record FrameAction(string StreamId, long Seq, long EventTimeUs, float[] Payload) : ClientAction(StreamId);

/// <summary>A silent sensor's heartbeat: no more frames with event time &lt;= <see cref="WatermarkUs"/>.</summary>
public sealed record HeartbeatAction(string StreamId, long WatermarkUs) : ClientAction(StreamId);

/// <summary>
/// The frames of one condition, in the order they reach the server, cut into chunks: chunk c holds what
/// arrives during [c, c+1) s of the session. The client sends chunk c once the results of window c - K are
/// in, so the session runs as fast as the pipeline allows, never in real time. A stream that has nothing
/// in a chunk is heartbeated (a silent but connected sensor), which advances its watermark so it does not
/// hold back the session.
/// </summary>
public sealed class EvalScript
{
    public const long SecondUs = SensorScript.SecondUs;

    private EvalScript(int items, IReadOnlyList<IReadOnlyList<ClientAction>> chunks, IReadOnlyList<WindowFaults> faults,
        IReadOnlySet<ulong> poison, int veryLateFrames, int frozenFrames)
    {
        Items = items;
        Chunks = chunks;
        Faults = faults;
        PoisonHashes = poison;
        VeryLateFrames = veryLateFrames;
        FrozenFrames = frozenFrames;
    }

    public int Items { get; }
    public IReadOnlyList<IReadOnlyList<ClientAction>> Chunks { get; }
    public IReadOnlyList<WindowFaults> Faults { get; }

    /// <summary>Content hashes of the encoder inputs the encoder crashes on (encoder-crashes).</summary>
    public IReadOnlySet<ulong> PoisonHashes { get; }

    public int VeryLateFrames { get; }
    public int FrozenFrames { get; }

    /// <param name="session">The session played; null or the built-in one: the two sensors' streams as they are.</param>
    public static EvalScript Build(EvalCondition c, IReadOnlyList<AvDigitsItem> items, EvalSession? session = null)
    {
        var script = SensorScript.Build(c.Faults, items);
        IReadOnlyList<SensorFrame> frames = script.Frames;
        IReadOnlyList<string> streams = [AvDigitsSession.AudioStream, AvDigitsSession.CameraStream];
        if (session is { Description: { } d })
        {
            streams = session.StreamIds;
            if (c.Target is { } target)
            {
                // The target modality's streams get the faulted sensors, the others the clean ones (same seed).
                var clean = SensorScript.Build(new SensorFaults { Seed = c.Seed }, items);
                var aimed = SessionFrames.Of(d with { Streams = d.Streams.Where(s => s.Modality == target).ToArray(), Gates = [] }, script.Frames);
                var rest = SessionFrames.Of(d with { Streams = d.Streams.Where(s => s.Modality != target).ToArray(), Gates = [] }, clean.Frames);
                frames = rest.Concat(aimed).OrderBy(f => f.ArrivesAtUs).ToList(); // stable: each stream keeps its order
            }
            else frames = SessionFrames.Of(d, script.Frames);
        }
        else if (c.Target is not null)
            throw new ArgumentException($"condition '{c.Name}' aims at modality '{c.Target}' of a session file; the built-in session has none", nameof(c));
        var n = items.Count;
        var chunkCount = n + 2;
        var chunks = new List<ClientAction>[chunkCount];
        for (var k = 0; k < chunkCount; k++) chunks[k] = [];
        foreach (var f in frames)
            chunks[(int)Math.Clamp(f.ArrivesAtUs / SecondUs, 0, chunkCount - 1)].Add(new FrameAction(f.StreamId, f.Seq, f.EventTimeUs, f.Payload));
        foreach (var stream in streams) AddHeartbeats(chunks, stream);
        return new EvalScript(n, chunks, script.Windows, script.PoisonHashes, script.VeryLateFrames, script.FrozenFrames) { Streams = streams };
    }

    /// <summary>The streams the script plays (and heartbeats), in the session's order.</summary>
    public IReadOnlyList<string> Streams { get; private init; } = [AvDigitsSession.AudioStream, AvDigitsSession.CameraStream];

    /// <summary>
    /// A stream with nothing in a chunk is a connected sensor that is silent: it sends a heartbeat promising
    /// no frames up to the end of the chunk (or up to its next frame, whichever is earlier).
    /// </summary>
    private static void AddHeartbeats(List<ClientAction>[] chunks, string streamId)
    {
        var nextEvent = new long[chunks.Length + 1];
        nextEvent[chunks.Length] = long.MaxValue;
        for (var k = chunks.Length - 1; k >= 0; k--)
        {
            var min = nextEvent[k + 1];
            foreach (var a in chunks[k])
                if (a is FrameAction f && f.StreamId == streamId) min = Math.Min(min, f.EventTimeUs);
            nextEvent[k] = min;
        }
        var last = long.MinValue;
        for (var k = 0; k < chunks.Length; k++)
        {
            if (chunks[k].Any(a => a.StreamId == streamId)) continue;
            var w = Math.Min((k + 1) * SecondUs, nextEvent[k + 1]) - 1;
            if (w <= last) continue;
            chunks[k].Add(new HeartbeatAction(streamId, w));
            last = w;
        }
    }

    /// <summary>FNV-1a over the float bits: identifies an encoder input by content.</summary>
    public static ulong Hash(ReadOnlySpan<float> values) => SensorScript.Hash(values);
}
