using FusionActors.Inference.Data;

namespace FusionActors.Scenarios.Faults;

/// <summary>A frame a sensor sends, and when it reaches the server (µs of session time); the session id is the player's.</summary>
public sealed record SensorFrame(long ArrivesAtUs, string StreamId, long Seq, long EventTimeUs, float[] Payload);

/// <summary>What happened to one window's sensors (for the timeline plot and per-fault slices).</summary>
public sealed record WindowFaults(bool CameraOff, bool AudioOff, bool CameraFrozen);

/// <summary>
/// What two live sensors send for AV-Digits items under <see cref="SensorFaults"/>: item i fills the window [i, i+1) s,
/// audio in 20 ms frames (each leaves the sensor when it is complete), the camera at <see cref="CameraFps"/> fps; every
/// frame delayed by the network; sorted by the time each reaches the server (ties in the order they were sent).
/// The drills (encoder crash, bad input) are the players' to schedule; here they are only described.
/// </summary>
public sealed class SensorScript
{
    public const int CameraFps = 10;
    public const long SecondUs = 1_000_000;
    public const long AudioFrameUs = 20_000;
    public const long CameraFrameUs = SecondUs / CameraFps;

    private SensorScript(IReadOnlyList<SensorFrame> frames, IReadOnlyList<WindowFaults> windows, IReadOnlySet<ulong> poison,
        int veryLateFrames, int frozenFrames)
    {
        Frames = frames;
        Windows = windows;
        PoisonHashes = poison;
        VeryLateFrames = veryLateFrames;
        FrozenFrames = frozenFrames;
    }

    /// <summary>The frames, in the order they reach the server.</summary>
    public IReadOnlyList<SensorFrame> Frames { get; }

    /// <summary>Per item: which sensor faults touched its window.</summary>
    public IReadOnlyList<WindowFaults> Windows { get; }

    /// <summary>Content hashes of the encoder inputs the encoder crashes on (<see cref="SensorFaults.PoisonFraction"/>).</summary>
    public IReadOnlySet<ulong> PoisonHashes { get; }

    /// <summary>Frames the network delayed beyond the allowed lateness.</summary>
    public int VeryLateFrames { get; }

    /// <summary>Camera frames that repeat the last one exactly (a frozen camera).</summary>
    public int FrozenFrames { get; }

    public static SensorScript Build(SensorFaults f, IReadOnlyList<AvDigitsItem> items)
    {
        var rng = new Random(f.Seed);
        var n = items.Count;
        var cameraOff = Mask(f.CameraOutages, n, rng);
        var audioOff = Mask(f.AudioDropouts, n, rng);
        var frozen = Mask(f.CameraFreezes, n, rng);
        for (var s = 0; s < cameraOff.Length; s++)
            if (f.InOutage(s * CameraFrameUs / 1e6)) cameraOff[s] = true;
        var poison = new HashSet<ulong>();
        var sends = new List<SensorFrame>();
        long audioSeq = 0, cameraSeq = 0;
        var veryLate = 0;
        var frozenFrames = 0;
        float[]? lastCamera = null;
        var audioPerItem = (int)(SecondUs / AudioFrameUs);

        long Delay()
        {
            switch (f.Network)
            {
                case LiveJitter:
                {
                    var u = rng.NextDouble();
                    if (u < 0.003)
                    {
                        veryLate++;
                        return 400_000 + rng.Next(100_000); // beyond the allowed lateness: side output
                    }
                    if (u < 0.02) return 80_000 + rng.Next(40_000); // behind the watermark, within the lateness: revisions
                    return rng.Next(30_000);                         // reordered within the out-of-orderness bound
                }
                case UniformJitter j:
                    if (j.VeryLateFraction > 0 && rng.NextDouble() < j.VeryLateFraction)
                    {
                        veryLate++;
                        return 400_000 + rng.Next(200_000);
                    }
                    return j.MaxUs > 0 ? rng.NextInt64(j.MaxUs) : 0;
                default:
                    return 0;
            }
        }

        for (var i = 0; i < n; i++)
        {
            var item = items[i];
            var baseUs = i * SecondUs;
            if (!f.AudioMissing)
            {
                var pcm = f.AudioNoise is { } noise && noise.At(i + 0.5) ? AddNoise(item.Pcm, noise.SnrDb, rng) : item.Pcm;
                if (f.PoisonFraction > 0 && rng.NextDouble() < f.PoisonFraction) poison.Add(Hash(pcm));
                for (var j = 0; j < audioPerItem; j++)
                {
                    var t = baseUs + j * AudioFrameUs;
                    if (audioOff[(int)(t / CameraFrameUs)]) continue;
                    var payload = pcm.AsSpan(j * AvDigitsSession.AudioFrameSamples, AvDigitsSession.AudioFrameSamples).ToArray();
                    // A 20 ms audio frame leaves the sensor when it is complete.
                    sends.Add(new SensorFrame(t + AudioFrameUs + Delay(), AvDigitsSession.AudioStream, audioSeq++, t, payload));
                }
            }
            if (!f.CameraMissing)
            {
                var occluder = f.OcclusionSide > 0
                    ? (X: rng.Next(9 - f.OcclusionSide), Y: rng.Next(9 - f.OcclusionSide), Value: rng.Next(2))
                    : (X: -1, Y: -1, Value: 0);
                for (var j = 0; j < CameraFps; j++)
                {
                    var slot = i * CameraFps + j;
                    var t = baseUs + j * CameraFrameUs + f.CameraClockOffsetUs;
                    if (cameraOff[slot]) continue;
                    float[] image;
                    if (frozen[slot] && lastCamera is not null)
                    {
                        image = (float[])lastCamera.Clone(); // a frozen camera repeats its last frame exactly
                        frozenFrames++;
                    }
                    else
                    {
                        image = SensorNoise(item.Image, f.CameraNoiseSigma, rng);
                        if (occluder.X >= 0) Occlude(image, occluder.X, occluder.Y, f.OcclusionSide, occluder.Value);
                    }
                    lastCamera = image;
                    if (f.PoisonFraction > 0 && rng.NextDouble() < f.PoisonFraction) poison.Add(Hash(image));
                    sends.Add(new SensorFrame(t + Delay(), AvDigitsSession.CameraStream, cameraSeq++, t, image));
                }
            }
        }

        var ordered = sends.OrderBy(s => s.ArrivesAtUs).ToArray(); // stable: ties stay in the order they were sent
        var windows = Enumerable.Range(0, n).Select(i =>
        {
            var slots = Enumerable.Range(i * CameraFps, CameraFps).ToArray();
            return new WindowFaults(f.CameraMissing || slots.Any(s => cameraOff[s]), f.AudioMissing || slots.Any(s => audioOff[s]),
                slots.Any(s => frozen[s]));
        }).ToArray();
        return new SensorScript(ordered, windows, poison, veryLate, frozenFrames);
    }

    /// <summary>Stretches as a mask over 100 ms slots (10 per item).</summary>
    private static bool[] Mask(Stretches? stretches, int items, Random rng)
    {
        var slots = items * CameraFps;
        var mask = new bool[slots];
        if (stretches is null || items < 3) return mask;
        var count = Math.Max(1, (int)Math.Round(items * stretches.PerHundredSeconds / 100));
        for (var k = 0; k < count; k++)
        {
            // Never in the first second: the sensor is seen before it fails.
            var start = CameraFps + rng.Next(slots - CameraFps);
            var length = (int)Math.Round((stretches.MinSeconds + rng.NextDouble() * (stretches.MaxSeconds - stretches.MinSeconds)) * CameraFps);
            for (var s = start; s < Math.Min(slots, start + length); s++) mask[s] = true;
        }
        return mask;
    }

    private static void Occlude(float[] image, int x0, int y0, int side, int value)
    {
        for (var y = y0; y < y0 + side; y++)
            for (var x = x0; x < x0 + side; x++) image[y * 8 + x] = value;
    }

    public static float[] AddNoise(float[] pcm, double snrDb, Random rng)
    {
        var power = 0.0;
        foreach (var v in pcm) power += v * v;
        power = Math.Max(power / pcm.Length, 1e-8);
        var sigma = Math.Sqrt(power / Math.Pow(10, snrDb / 10));
        var noisy = new float[pcm.Length];
        for (var i = 0; i < pcm.Length; i++) noisy[i] = (float)Math.Clamp(pcm[i] + sigma * Gaussian(rng), -1, 1);
        return noisy;
    }

    public static float[] SensorNoise(float[] image, double sigma, Random rng)
    {
        var noisy = new float[image.Length];
        for (var i = 0; i < image.Length; i++) noisy[i] = (float)Math.Clamp(image[i] + sigma * Gaussian(rng), 0, 1);
        return noisy;
    }

    private static double Gaussian(Random rng) =>
        Math.Sqrt(-2 * Math.Log(1 - rng.NextDouble())) * Math.Cos(2 * Math.PI * rng.NextDouble());

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
