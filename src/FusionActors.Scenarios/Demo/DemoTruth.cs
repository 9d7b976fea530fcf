using System.Text.Json;
using System.Text.Json.Serialization;
using FusionActors.Inference.Data;
using FusionActors.Scenarios.Faults;

namespace FusionActors.Scenarios.Demo;

/// <summary>
/// What the demo knows about each window and a recording does not carry: the item played in it (its id and label)
/// and the faults scheduled over it. <c>demo --record DIR</c> writes it beside the recordings as <see cref="FileName"/>
/// (every demo session is fed the same frames, so one file holds for all of them); the evaluation scores a replayed
/// recording against it.
/// </summary>
public sealed record DemoTruth
{
    public const string FileName = "demo.truth.json";

    /// <summary>The largest file <see cref="Load"/> reads.</summary>
    public const long MaxBytes = 1 << 20;

    /// <summary>The most windows a truth file may hold.</summary>
    public const int MaxWindows = 100_000;

    public const string CameraOutage = "camera-outage";
    public const string AudioNoise = "audio-noise";

    private static readonly JsonSerializerOptions Json = new()
    {
        WriteIndented = true,
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow,
    };

    /// <summary>The seed of the demo's faults.</summary>
    public required int Seed { get; init; }

    /// <summary>The demo's length: one window per second.</summary>
    public required int Seconds { get; init; }

    /// <summary>Window k (event time [k, k+1) s) in order from 0.</summary>
    public required IReadOnlyList<WindowTruth> Windows { get; init; }

    /// <param name="Faults">The faults scheduled in the window's middle: <see cref="CameraOutage"/>, <see cref="AudioNoise"/>, both or none.</param>
    public sealed record WindowTruth(int Window, string Item, int Label, IReadOnlyList<string> Faults);

    public static DemoTruth Of(IReadOnlyList<AvDigitsItem> items, SensorFaults plan, int seed) => new()
    {
        Seed = seed,
        Seconds = items.Count,
        Windows = items.Select((item, k) => new WindowTruth(k, item.Id, item.Label,
            new[] { plan.InOutage(k + 0.5) ? CameraOutage : null, plan.InNoise(k + 0.5) ? AudioNoise : null }.OfType<string>().ToArray())).ToList(),
    };

    /// <summary>Writes the file; its folder, when it must be made, is the node's user's alone (as the recording writer makes it).</summary>
    public void Save(string path)
    {
        var folder = Path.GetDirectoryName(Path.GetFullPath(path))!;
        if (OperatingSystem.IsWindows()) Directory.CreateDirectory(folder);
        else Directory.CreateDirectory(folder, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        File.WriteAllText(path, JsonSerializer.Serialize(this, Json));
    }

    /// <summary>Reads a truth file strictly: no unknown fields, windows numbered 0, 1, ... in order, labels 0-9, known faults.</summary>
    /// <exception cref="InvalidDataException">a file that is too large or not a demo truth file.</exception>
    public static DemoTruth Load(string path)
    {
        var info = new FileInfo(path);
        if (!info.Exists) throw new FileNotFoundException($"no demo truth file at {path}");
        if (info.Length > MaxBytes) throw new InvalidDataException($"{path}: {info.Length} bytes, more than a demo truth file may have ({MaxBytes})");
        DemoTruth? truth;
        try { truth = JsonSerializer.Deserialize<DemoTruth>(File.ReadAllText(path), Json); }
        catch (JsonException e) { throw new InvalidDataException($"{path}: not a demo truth file: {e.Message}"); }
        if (truth is null || truth.Windows is null) throw new InvalidDataException($"{path}: not a demo truth file");
        if (truth.Windows.Count > MaxWindows || truth.Windows.Count != truth.Seconds)
            throw new InvalidDataException($"{path}: {truth.Windows.Count} windows for {truth.Seconds} s");
        for (var k = 0; k < truth.Windows.Count; k++)
        {
            var w = truth.Windows[k];
            if (w is null || w.Window != k || w.Label is < 0 or > 9 || w.Item is null || w.Item.Length > 256 || w.Faults is null ||
                w.Faults.Count > 2 || w.Faults.Any(f => f is not (CameraOutage or AudioNoise)))
                throw new InvalidDataException($"{path}: window {k} is malformed");
        }
        return truth;
    }
}
