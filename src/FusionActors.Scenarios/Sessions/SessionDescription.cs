using System.Text.Json;
using FusionActors.Core.Specs;
using FusionActors.Protocol.Specs;

namespace FusionActors.Scenarios.Sessions;

/// <summary>Which sensor of an AV-Digits item feeds a stream.</summary>
public enum StreamSource
{
    /// <summary>The item's 1 s of 16 kHz PCM, as the microphone's 20 ms frames (re-cut to the stream's frame length).</summary>
    Audio,

    /// <summary>The item's 8×8 image, as the camera's frames (every k-th of its 10 fps for a lower rate).</summary>
    Image,
}

/// <summary>One stream of a session description: its spec fields and the AV-Digits sensor that feeds it.</summary>
public sealed record StreamDescription
{
    public required string Id { get; init; }
    public required string Modality { get; init; }
    public required string Model { get; init; }
    public required StreamSource Source { get; init; }

    /// <summary>Values per frame: audio samples (a divisor of the microphone's 320) or the 64 pixels of an image.</summary>
    public required int FrameLength { get; init; }

    /// <summary>Audio: 16000, the data set's rate. Image: 0.</summary>
    public double SampleRateHz { get; init; }

    /// <summary>Image streams: frames per second, a divisor of the camera's 10. Audio: 0.</summary>
    public int Fps { get; init; }

    /// <summary>Windowed framing (length, hop in µs); null = one encoder input per frame.</summary>
    public (long LengthUs, long HopUs)? Window { get; init; }

    public int Priority { get; init; }
    public double PriorWeight { get; init; } = 1.0;
}

/// <summary>A malformed session description: <see cref="Field"/> is the JSON path of the offending field.</summary>
public sealed class SessionFileException(string file, string field, string message)
    : UsageException($"session file {file}: {field}: {message}")
{
    public string File { get; } = file;
    public string Field { get; } = field;
}

/// <summary>
/// A session over AV-Digits described by a JSON file (docs/models.md, "Session description files"): its streams,
/// their models and framing, and which sensor of each item feeds each stream. Parsed strictly: unknown fields,
/// wrong types and out-of-range values are refused naming the field.
/// </summary>
public sealed record SessionDescription
{
    /// <summary>The microphone's frame: 20 ms at 16 kHz.</summary>
    public const int MicrophoneFrameSamples = AvDigitsSession.AudioFrameSamples;

    /// <summary>The camera's rate.</summary>
    public const int CameraFps = 10;

    public const int MaxStreams = 16;
    public const long MaxFileBytes = 64 * 1024;

    /// <summary>Where it was read from (for messages).</summary>
    public required string File { get; init; }

    /// <summary>The node's models file this session needs (absolute), or null for the node's configured one.</summary>
    public string? Models { get; init; }

    public IReadOnlyList<string> Labels { get; init; } = AvDigitsSession.Labels;
    public long AllowedLatenessUs { get; init; } = 150_000;
    public required IReadOnlyList<StreamDescription> Streams { get; init; }

    /// <summary>Streams that gate other streams' reliability (<see cref="StreamGate"/>); none by default.</summary>
    public IReadOnlyList<StreamGate> Gates { get; init; } = [];

    /// <summary>config/sessions/av-digits.json as copied next to the program (sessions/av-digits.json).</summary>
    public static string DefaultPath => Path.Combine(AppContext.BaseDirectory, "sessions", "av-digits.json");

    /// <summary>The built-in audio + image session (<see cref="DefaultPath"/>).</summary>
    public static SessionDescription LoadDefault() => Load(DefaultPath);

    public static SessionDescription Load(string path)
    {
        var info = new FileInfo(path);
        if (!info.Exists) throw new UsageException($"session file {path} does not exist");
        if (info.Length > MaxFileBytes) throw new SessionFileException(path, "$", $"{info.Length} bytes, more than {MaxFileBytes}");
        return Parse(System.IO.File.ReadAllText(path), path, Path.GetDirectoryName(Path.GetFullPath(path))!);
    }

    /// <param name="baseDirectory">What a relative <c>models</c> path is relative to.</param>
    public static SessionDescription Parse(string json, string file, string baseDirectory)
    {
        JsonDocument doc;
        try
        {
            doc = JsonDocument.Parse(json, new JsonDocumentOptions { MaxDepth = 8, CommentHandling = JsonCommentHandling.Disallow });
        }
        catch (JsonException e)
        {
            throw new SessionFileException(file, "$", $"not JSON: {e.Message}");
        }
        using (doc)
        {
            var root = Object(file, doc.RootElement, "$", ["about", "models", "labels", "allowedLatenessUs", "streams", "gates"]);
            string? models = null;
            if (root.TryGetProperty("models", out var m))
            {
                var text = Text(file, m, "$.models", 1024);
                models = Path.GetFullPath(Path.Combine(baseDirectory, text));
            }
            if (root.TryGetProperty("about", out var about)) Text(file, about, "$.about", 4096);
            var labels = AvDigitsSession.Labels;
            if (root.TryGetProperty("labels", out var l))
            {
                if (l.ValueKind != JsonValueKind.Array) throw new SessionFileException(file, "$.labels", $"must be an array of strings, not {l.ValueKind}");
                labels = l.EnumerateArray().Select((x, i) => Text(file, x, $"$.labels[{i}]", 64)).ToArray();
                if (!labels.Order().SequenceEqual(AvDigitsSession.Labels.Order()))
                    throw new SessionFileException(file, "$.labels", "must be the ten digits 0-9 (in any order): AV-Digits items are labelled by digit");
            }
            var lateness = root.TryGetProperty("allowedLatenessUs", out var al) ? Long(file, al, "$.allowedLatenessUs", 0, 10_000_000) : 150_000;
            if (!root.TryGetProperty("streams", out var s)) throw new SessionFileException(file, "$.streams", "is required");
            if (s.ValueKind != JsonValueKind.Array) throw new SessionFileException(file, "$.streams", $"must be an array, not {s.ValueKind}");
            var n = s.GetArrayLength();
            if (n is 0 or > MaxStreams) throw new SessionFileException(file, "$.streams", $"must hold 1-{MaxStreams} streams, holds {n}");
            var streams = s.EnumerateArray().Select((x, i) => Stream(file, x, $"$.streams[{i}]")).ToArray();
            for (var i = 0; i < streams.Length; i++)
                if (streams.Take(i).Any(o => o.Id == streams[i].Id))
                    throw new SessionFileException(file, $"$.streams[{i}].id", $"'{streams[i].Id}' is the id of an earlier stream");
            StreamGate[] gates = [];
            if (root.TryGetProperty("gates", out var g))
            {
                if (g.ValueKind != JsonValueKind.Array) throw new SessionFileException(file, "$.gates", $"must be an array, not {g.ValueKind}");
                if (g.GetArrayLength() > MaxStreams) throw new SessionFileException(file, "$.gates", $"must hold at most {MaxStreams} gates, holds {g.GetArrayLength()}");
                gates = g.EnumerateArray().Select((x, i) => Gate(file, x, $"$.gates[{i}]", streams)).ToArray();
                for (var i = 0; i < gates.Length; i++)
                    if (gates.Take(i).Any(o => o.Gated == gates[i].Gated))
                        throw new SessionFileException(file, $"$.gates[{i}].gated", $"'{gates[i].Gated}' is gated by an earlier gate");
            }
            var description = new SessionDescription { File = file, Models = models, Labels = labels, AllowedLatenessUs = lateness, Streams = streams, Gates = gates };
            // What the node would refuse at open (a gate's modality shared with other streams, chains): refused here, by field.
            var problems = SpecValidator.Problems(description.Spec("check"));
            if (gates.Length > 0 && problems.FirstOrDefault(x => x.Contains("gate", StringComparison.Ordinal)) is { } problem)
                throw new SessionFileException(file, "$.gates", problem);
            return description;
        }
    }

    private static StreamDescription Stream(string file, JsonElement e, string at)
    {
        var o = Object(file, e, at, ["id", "modality", "model", "source", "frameLength", "sampleRateHz", "fps", "window", "priority", "priorWeight"]);
        string Required(string name, int max) =>
            o.TryGetProperty(name, out var v) ? Name(file, v, $"{at}.{name}", max) : throw new SessionFileException(file, $"{at}.{name}", "is required");
        var id = Required("id", 64);
        var modality = Required("modality", 64);
        var model = Required("model", 128);
        var sourceText = Required("source", 16);
        var source = sourceText switch
        {
            "audio" => StreamSource.Audio,
            "image" => StreamSource.Image,
            _ => throw new SessionFileException(file, $"{at}.source", $"'{sourceText}' is not a source: audio or image"),
        };
        if (!o.TryGetProperty("frameLength", out var fl)) throw new SessionFileException(file, $"{at}.frameLength", "is required");
        var frameLength = (int)Long(file, fl, $"{at}.frameLength", 1, MicrophoneFrameSamples);
        double rate = 0;
        var fps = 0;
        (long, long)? window = null;
        if (source == StreamSource.Audio)
        {
            if (MicrophoneFrameSamples % frameLength != 0)
                throw new SessionFileException(file, $"{at}.frameLength", $"{frameLength} does not divide the microphone's {MicrophoneFrameSamples}-sample frames");
            if (!o.TryGetProperty("sampleRateHz", out var sr)) throw new SessionFileException(file, $"{at}.sampleRateHz", "is required for an audio stream");
            rate = Long(file, sr, $"{at}.sampleRateHz", 1, 1_000_000);
            if (rate != AvDigitsSession.SampleRate)
                throw new SessionFileException(file, $"{at}.sampleRateHz", $"must be {AvDigitsSession.SampleRate}, the rate of AV-Digits audio");
            if (o.TryGetProperty("fps", out _)) throw new SessionFileException(file, $"{at}.fps", "is for image streams");
        }
        else
        {
            if (frameLength != AvDigitsSession.ImagePixels)
                throw new SessionFileException(file, $"{at}.frameLength", $"must be {AvDigitsSession.ImagePixels}, the pixels of an 8×8 image");
            if (o.TryGetProperty("sampleRateHz", out _)) throw new SessionFileException(file, $"{at}.sampleRateHz", "is for audio streams");
            fps = o.TryGetProperty("fps", out var f) ? (int)Long(file, f, $"{at}.fps", 1, CameraFps) : CameraFps;
            if (CameraFps % fps != 0) throw new SessionFileException(file, $"{at}.fps", $"{fps} does not divide the camera's {CameraFps} fps");
        }
        if (o.TryGetProperty("window", out var w))
        {
            if (source != StreamSource.Audio) throw new SessionFileException(file, $"{at}.window", "windowed framing needs a sample rate: audio streams only");
            var wo = Object(file, w, $"{at}.window", ["lengthUs", "hopUs"]);
            if (!wo.TryGetProperty("lengthUs", out var len)) throw new SessionFileException(file, $"{at}.window.lengthUs", "is required");
            if (!wo.TryGetProperty("hopUs", out var hop)) throw new SessionFileException(file, $"{at}.window.hopUs", "is required");
            window = (Long(file, len, $"{at}.window.lengthUs", 1_000, 10_000_000), Long(file, hop, $"{at}.window.hopUs", 1_000, 10_000_000));
        }
        var priority = o.TryGetProperty("priority", out var p) ? (int)Long(file, p, $"{at}.priority", -100, 100) : 0;
        var prior = 1.0;
        if (o.TryGetProperty("priorWeight", out var pw))
        {
            if (pw.ValueKind != JsonValueKind.Number || !pw.TryGetDouble(out prior) || !double.IsFinite(prior) || prior is <= 0 or > 100)
                throw new SessionFileException(file, $"{at}.priorWeight", $"must be a number in (0, 100], got {pw.GetRawText()}");
        }
        return new StreamDescription
        {
            Id = id, Modality = modality, Model = model, Source = source, FrameLength = frameLength, SampleRateHz = rate, Fps = fps,
            Window = window, Priority = priority, PriorWeight = prior,
        };
    }

    private static StreamGate Gate(string file, JsonElement e, string at, StreamDescription[] streams)
    {
        var o = Object(file, e, at, ["gate", "gated", "floor", "pool"]);
        string Stream(string name)
        {
            if (!o.TryGetProperty(name, out var v)) throw new SessionFileException(file, $"{at}.{name}", "is required");
            var id = Name(file, v, $"{at}.{name}", 64);
            if (!streams.Any(s => s.Id == id)) throw new SessionFileException(file, $"{at}.{name}", $"'{id}' is not the id of a stream");
            return id;
        }
        var gate = Stream("gate");
        var gated = Stream("gated");
        if (gate == gated) throw new SessionFileException(file, $"{at}.gated", "a stream cannot gate itself");
        var floor = StreamGate.DefaultFloor;
        if (o.TryGetProperty("floor", out var f))
        {
            if (f.ValueKind != JsonValueKind.Number || !f.TryGetDouble(out floor) || !double.IsFinite(floor) || floor is < 0 or > 1)
                throw new SessionFileException(file, $"{at}.floor", $"must be a number in [0, 1], got {f.GetRawText()}");
        }
        var pooling = GatePooling.Max;
        if (o.TryGetProperty("pool", out var pl))
        {
            var text = Text(file, pl, $"{at}.pool", 16);
            pooling = text switch
            {
                "max" => GatePooling.Max,
                "mean" => GatePooling.Mean,
                _ => throw new SessionFileException(file, $"{at}.pool", $"'{text}' is not a pooling: max or mean"),
            };
        }
        return new StreamGate { Gate = gate, Gated = gated, Floor = floor, Pooling = pooling };
    }

    private static JsonElement Object(string file, JsonElement e, string at, string[] allowed)
    {
        if (e.ValueKind != JsonValueKind.Object) throw new SessionFileException(file, at, $"must be an object, not {e.ValueKind}");
        var seen = new HashSet<string>();
        foreach (var p in e.EnumerateObject())
        {
            if (!allowed.Contains(p.Name)) throw new SessionFileException(file, $"{at}.{p.Name}", $"is not a field here (fields: {string.Join(", ", allowed)})");
            if (!seen.Add(p.Name)) throw new SessionFileException(file, $"{at}.{p.Name}", "is given twice");
        }
        return e;
    }

    private static string Text(string file, JsonElement e, string at, int max)
    {
        if (e.ValueKind != JsonValueKind.String) throw new SessionFileException(file, at, $"must be a string, not {e.ValueKind}");
        var s = e.GetString()!;
        if (s.Length == 0 || s.Length > max) throw new SessionFileException(file, at, $"must be 1-{max} characters, is {s.Length}");
        return s;
    }

    /// <summary>An id or a name: letters, digits, '-', '_', '.'.</summary>
    private static string Name(string file, JsonElement e, string at, int max)
    {
        var s = Text(file, e, at, max);
        if (!s.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.'))
            throw new SessionFileException(file, at, $"'{s}' may hold only letters, digits, '-', '_' and '.'");
        return s;
    }

    private static long Long(string file, JsonElement e, string at, long min, long max)
    {
        if (e.ValueKind != JsonValueKind.Number || !e.TryGetInt64(out var v))
            throw new SessionFileException(file, at, $"must be an integer, got {e.GetRawText()}");
        if (v < min || v > max) throw new SessionFileException(file, at, $"must be in [{min}, {max}], got {v}");
        return v;
    }

    /// <summary>The stream of the first stream fed by <paramref name="source"/>, or null.</summary>
    public string? FirstOf(StreamSource source) => Streams.FirstOrDefault(s => s.Source == source)?.Id;

    /// <summary>The session spec a client opens for this description.</summary>
    public SessionSpec Spec(string sessionId, FusionPolicy? policy = null) => new()
    {
        SessionId = sessionId,
        Labels = Labels.ToArray(),
        Window = WindowSpec.Tumbling(1_000_000),
        Policy = policy ?? FusionPolicy.Adaptive,
        AllowedLatenessUs = AllowedLatenessUs,
        Streams = Streams.Select(s => new StreamSpec
        {
            StreamId = s.Id, Modality = s.Modality, Model = s.Model, FrameLength = s.FrameLength, SampleRateHz = s.SampleRateHz,
            Framing = s.Window is { } w ? Framing.Windowed(w.LengthUs, w.HopUs) : Framing.PerFrame,
            Priority = s.Priority, PriorWeight = s.PriorWeight,
        }).ToArray(),
        Gates = Gates.ToArray(),
    };

    /// <summary>One line per stream, for the programs' headers.</summary>
    public string Describe() => string.Join("; ", Streams.Select(s => s.Source == StreamSource.Audio
        ? $"{s.Id} ({s.Modality}, {s.Model}): audio 16 kHz in {s.FrameLength * 1000.0 / AvDigitsSession.SampleRate:0.##} ms frames" +
          (s.Window is { } w ? $", {w.LengthUs / 1000.0:0.##} ms windows every {w.HopUs / 1000.0:0.##} ms" : "")
        : $"{s.Id} ({s.Modality}, {s.Model}): camera at {s.Fps} fps")
        .Concat(Gates.Select(g => $"{g.Gate} gates {g.Gated} ({g.Pooling.ToString().ToLowerInvariant()}, floor {g.Floor:0.##})")));
}
