using FusionActors.Inference;
using FusionActors.Runtime.Fusion;
using FusionActors.Scenarios;
using FusionActors.Scenarios.Sessions;

namespace FusionActors.Eval;

/// <summary>
/// The session the evaluation plays: the built-in audio + image one (<c>eval</c> without <c>--session</c>, exactly as
/// it always ran: <see cref="AvDigitsSession.Spec"/>), or a session description file (docs/models.md, "Session
/// description files") with any number of streams. Knows which modalities give a posterior (a model with logits that
/// gates no other stream): those are weighed, scored alone (<c>M-only</c>, policy <c>single:M</c>) and grouped into
/// availability patterns.
/// </summary>
public sealed record EvalSession
{
    /// <summary>The session's description; for the built-in session, what config/sessions/av-digits.json describes.</summary>
    public SessionDescription? Description { get; init; }

    /// <summary>The built-in session: <c>eval</c> without <c>--session</c>.</summary>
    public bool IsBuiltIn => Description is null;

    /// <summary>The modalities that give a posterior, in stream order.</summary>
    public required IReadOnlyList<string> Modalities { get; init; }

    /// <summary>Every modality of the session's streams, in stream order (posterior or not: a gate reports a weight of 0).</summary>
    public required IReadOnlyList<string> AllModalities { get; init; }

    /// <summary>The stream ids, in stream order.</summary>
    public required IReadOnlyList<string> StreamIds { get; init; }

    /// <summary>The node's models file the session needs (absolute); null = the node's configured one.</summary>
    public string? ModelsPath => Description?.Models;

    /// <summary>Exactly the two modalities audio and image, on the committed digit models: what the fixed weights were tuned for.</summary>
    public bool IsAudioImage { get; init; }

    /// <summary>The built-in audio + image session.</summary>
    public static EvalSession BuiltIn { get; } = new()
    {
        Modalities = EvalMetrics.Modalities,
        AllModalities = EvalMetrics.Modalities,
        StreamIds = [AvDigitsSession.AudioStream, AvDigitsSession.CameraStream],
        IsAudioImage = true,
    };

    /// <summary>A session file's session, its posterior modalities read from <paramref name="catalog"/> (the node's models).</summary>
    public static EvalSession From(SessionDescription description, ModelCatalog catalog)
    {
        var gates = description.Gates.Select(g => g.Gate).ToHashSet(StringComparer.Ordinal);
        var modalities = new List<string>();
        foreach (var s in description.Streams)
        {
            if (!catalog.TryGet(s.Model, out var spec))
                throw new UsageException($"session file {description.File}: stream '{s.Id}': model '{s.Model}' is not in the node's models file {catalog.Path}");
            if (spec.Logits is null || gates.Contains(s.Id) || modalities.Contains(s.Modality)) continue;
            modalities.Add(s.Modality);
        }
        if (modalities.Count == 0)
            throw new UsageException($"session file {description.File}: no stream gives a posterior (every model is embedding-only or a gate): nothing to evaluate");
        var models = description.Streams.ToDictionary(s => s.Modality, s => s.Model, StringComparer.Ordinal);
        return new EvalSession
        {
            Description = description,
            Modalities = modalities,
            AllModalities = description.Streams.Select(s => s.Modality).Distinct(StringComparer.Ordinal).ToArray(),
            StreamIds = description.Streams.Select(s => s.Id).ToArray(),
            IsAudioImage = modalities.Count == 2 && modalities.Contains("audio") && modalities.Contains("image")
                           && models["audio"] == "audio-digits" && models["image"] == "image-digits",
        };
    }

    /// <summary>The single-modality policy's name in the report: <c>M-only</c> (audio-only, image-only, ocr-only, ...).</summary>
    public static string OnlyOf(string modality) => $"{modality}-only";

    /// <summary>The single-modality policies, in modality order.</summary>
    public IReadOnlyList<string> SinglePolicies => Modalities.Select(OnlyOf).ToArray();

    /// <summary>The node has a learned head (models/fusion.json beside the models file, with a <c>learned</c> block).</summary>
    public static bool HasLearnedHead(string modelsJson)
    {
        try { return FusionModelsFile.LoadBeside(modelsJson).Learned is not null; }
        catch (Exception e) when (e is InvalidDataException or FileNotFoundException) { return false; }
    }

    /// <summary>
    /// The policies this session is played with, and why any of the built-in ones is left out: <c>fixed</c> needs the
    /// weights tuned for audio + image, <c>learned</c> a head fitted on audio + image features that the node has loaded.
    /// </summary>
    public (IReadOnlyList<string> Policies, IReadOnlyList<string> Skipped) PoliciesFor(string modelsJson)
    {
        if (IsBuiltIn) return (EvalPolicies.All, []);
        var policies = new List<string> { EvalPolicies.Adaptive };
        var skipped = new List<string>();
        if (IsAudioImage) policies.Add(EvalPolicies.Fixed);
        else skipped.Add($"fixed: its weights are tuned for two modalities, audio + image (audio-digits, image-digits); this session's posterior modalities are {string.Join(", ", Modalities)}");
        policies.AddRange(SinglePolicies);
        if (!IsAudioImage)
            skipped.Add($"learned: its head is fitted on the features of two modalities, audio + image; this session's posterior modalities are {string.Join(", ", Modalities)}");
        else if (HasLearnedHead(modelsJson)) policies.Add(EvalPolicies.Learned);
        else skipped.Add($"learned: the node's models file {EvalHarness.RepositoryRelative(modelsJson)} has no fusion.json with a learned head beside it");
        return (policies, skipped);
    }

    /// <summary>The streams of <paramref name="modality"/>.</summary>
    public IReadOnlyList<StreamDescription> StreamsOf(string modality) =>
        Description?.Streams.Where(s => s.Modality == modality).ToArray() ?? [];
}
