using FusionActors.Host.Playback;
using FusionActors.Inference.Data;

namespace FusionActors.Host.Eval;

/// <summary>Something the evaluation client sends on one stream.</summary>
public abstract record ClientAction(string StreamId);

/// <summary>A frame; the session id is filled in per policy session, so every session gets the very same frames.</summary>
public sealed record FrameAction(string StreamId, long Seq, long EventTimeUs, float[] Payload) : ClientAction(StreamId);

/// <summary>A silent sensor's heartbeat: no more frames with event time &lt;= <see cref="WatermarkUs"/>.</summary>
public sealed record HeartbeatAction(string StreamId, long WatermarkUs) : ClientAction(StreamId);

/// <summary>What happened to one window's sensors in a condition (for the timeline plot and per-fault slices).</summary>
public sealed record WindowFaults(bool CameraOff, bool AudioOff, bool CameraFrozen);

/// <summary>
/// The frames of one condition, in the order they reach the server, cut into chunks: chunk c holds what
/// arrives during [c, c+1) s of the session. The client sends chunk c once the results of window c - K are
/// in, so the session runs as fast as the pipeline allows, never in real time. A stream that has nothing
/// in a chunk is heartbeated (a silent but connected sensor), which advances its watermark so it does not
/// hold back the session.
/// </summary>
public sealed class EvalScript
{
    public const long SecondUs = 1_000_000;
    private const long AudioFrameUs = 20_000;
    private const long CameraFrameUs = SecondUs / Timeline.CameraFps;

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

    public static EvalScript Build(EvalCondition c, IReadOnlyList<AvDigitsItem> items)
    {
        var rng = new Random(c.Seed);
        var n = items.Count;
        var cameraOff = Mask(c.CameraOutages, n, rng);
        var audioOff = Mask(c.AudioDropouts, n, rng);
        var frozen = Mask(c.CameraFreezes, n, rng);
        var poison = new HashSet<ulong>();
        var sends = new List<(long SendAt, int Order, FrameAction Frame)>();
        long audioSeq = 0, cameraSeq = 0;
        var order = 0;
        var veryLate = 0;
        var frozenFrames = 0;
        float[]? lastCamera = null;
        var audioPerItem = (int)(SecondUs / AudioFrameUs);

        long Delay()
        {
            if (c.VeryLateFraction > 0 && rng.NextDouble() < c.VeryLateFraction)
            {
                veryLate++;
                return 400_000 + rng.Next(200_000);
            }
            return c.JitterMaxUs > 0 ? rng.NextInt64(c.JitterMaxUs) : 0;
        }

        for (var i = 0; i < n; i++)
        {
            var item = items[i];
            var baseUs = i * SecondUs;
            if (!c.AudioMissing)
            {
                var pcm = c.AudioSnrDb is { } snr ? Timeline.AddNoise(item.Pcm, snr, rng) : item.Pcm;
                if (c.PoisonFraction > 0 && rng.NextDouble() < c.PoisonFraction) poison.Add(Hash(pcm));
                for (var j = 0; j < audioPerItem; j++)
                {
                    var t = baseUs + j * AudioFrameUs;
                    if (audioOff[(int)(t / CameraFrameUs)]) continue;
                    var payload = pcm.AsSpan(j * AvDigitsSession.AudioFrameSamples, AvDigitsSession.AudioFrameSamples).ToArray();
                    // A 20 ms audio frame leaves the sensor when it is complete.
                    sends.Add((t + AudioFrameUs + Delay(), order++, new FrameAction(AvDigitsSession.AudioStream, audioSeq++, t, payload)));
                }
            }
            if (!c.CameraMissing)
            {
                var occluder = c.OcclusionSide > 0
                    ? (X: rng.Next(9 - c.OcclusionSide), Y: rng.Next(9 - c.OcclusionSide), Value: rng.Next(2))
                    : (X: -1, Y: -1, Value: 0);
                for (var j = 0; j < Timeline.CameraFps; j++)
                {
                    var slot = i * Timeline.CameraFps + j;
                    var t = baseUs + j * CameraFrameUs + c.CameraClockOffsetUs;
                    if (cameraOff[slot]) continue;
                    float[] image;
                    if (frozen[slot] && lastCamera is not null)
                    {
                        image = (float[])lastCamera.Clone(); // a frozen camera repeats its last frame exactly
                        frozenFrames++;
                    }
                    else
                    {
                        image = Timeline.SensorNoise(item.Image, c.CameraNoiseSigma, rng);
                        if (occluder.X >= 0) Occlude(image, occluder.X, occluder.Y, c.OcclusionSide, occluder.Value);
                    }
                    lastCamera = image;
                    if (c.PoisonFraction > 0 && rng.NextDouble() < c.PoisonFraction) poison.Add(Hash(image));
                    sends.Add((t + Delay(), order++, new FrameAction(AvDigitsSession.CameraStream, cameraSeq++, t, image)));
                }
            }
        }

        sends.Sort((a, b) => a.SendAt != b.SendAt ? a.SendAt.CompareTo(b.SendAt) : a.Order.CompareTo(b.Order));
        var chunkCount = n + 2;
        var chunks = new List<ClientAction>[chunkCount];
        for (var k = 0; k < chunkCount; k++) chunks[k] = [];
        foreach (var s in sends) chunks[(int)Math.Clamp(s.SendAt / SecondUs, 0, chunkCount - 1)].Add(s.Frame);
        AddHeartbeats(chunks, AvDigitsSession.AudioStream);
        AddHeartbeats(chunks, AvDigitsSession.CameraStream);

        var faults = Enumerable.Range(0, n).Select(i =>
        {
            var slots = Enumerable.Range(i * Timeline.CameraFps, Timeline.CameraFps).ToArray();
            return new WindowFaults(c.CameraMissing || slots.Any(s => cameraOff[s]), c.AudioMissing || slots.Any(s => audioOff[s]),
                slots.Any(s => frozen[s]));
        }).ToArray();
        return new EvalScript(n, chunks, faults, poison, veryLate, frozenFrames);
    }

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

    /// <summary>Stretches as a mask over 100 ms slots (10 per item).</summary>
    private static bool[] Mask(EvalCondition.Stretches? stretches, int items, Random rng)
    {
        var slots = items * Timeline.CameraFps;
        var mask = new bool[slots];
        if (stretches is null || items < 3) return mask;
        var count = Math.Max(1, (int)Math.Round(items * stretches.PerHundredSeconds / 100));
        for (var k = 0; k < count; k++)
        {
            // Never in the first second: the sensor is seen before it fails.
            var start = Timeline.CameraFps + rng.Next(slots - Timeline.CameraFps);
            var length = (int)Math.Round((stretches.MinSeconds + rng.NextDouble() * (stretches.MaxSeconds - stretches.MinSeconds)) * Timeline.CameraFps);
            for (var s = start; s < Math.Min(slots, start + length); s++) mask[s] = true;
        }
        return mask;
    }

    private static void Occlude(float[] image, int x0, int y0, int side, int value)
    {
        for (var y = y0; y < y0 + side; y++)
            for (var x = x0; x < x0 + side; x++) image[y * 8 + x] = value;
    }

    /// <summary>FNV-1a over the float bits: identifies an encoder input by content.</summary>
    public static ulong Hash(ReadOnlySpan<float> values)
    {
        var h = 14695981039346656037UL;
        foreach (var v in values)
        {
            h ^= (uint)BitConverter.SingleToInt32Bits(v);
            h *= 1099511628211UL;
        }
        return h;
    }
}
