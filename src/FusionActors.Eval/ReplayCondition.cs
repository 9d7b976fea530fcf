using System.Diagnostics;
using Akka.Actor;
using FusionActors.Core.Fusion;
using FusionActors.Protocol;
using FusionActors.Runtime.Encoders;
using FusionActors.Runtime.Hosting;
using FusionActors.Runtime.Recording;
using FusionActors.Scenarios;
using FusionActors.Scenarios.Demo;
using FusionActors.Scenarios.Faults;

namespace FusionActors.Eval;

/// <summary>
/// A condition that replays a recorded demo session (<c>demo --record</c>) through the session's real actors
/// (<see cref="Replay"/>), once per compared policy, and scores it against the demo's truth file (each window's label
/// and scheduled faults, <see cref="DemoTruth"/>). The recording's frames are the same on every run and the replay is
/// deterministic, so the condition's numbers are too.
/// </summary>
public sealed record ReplayCondition
{
    public const string Prefix = "replay:";

    /// <summary>The committed recording, relative to the repository: <c>samples/recordings/NAME.frec</c>.</summary>
    public const string Folder = "samples/recordings";

    public required string Name { get; init; }

    /// <summary>The .frec file replayed.</summary>
    public required string Recording { get; init; }

    /// <summary>The demo truth file the windows are scored against.</summary>
    public required string Truth { get; init; }

    public string Description =>
        $"the recorded demo session {EvalHarness.RepositoryRelative(Recording)} replayed through the session's actors (its own frames, faults and operator commands, on recorded time), scored against {EvalHarness.RepositoryRelative(Truth)}";

    /// <summary>Whether <paramref name="name"/> names a replay condition.</summary>
    public static bool IsReplay(string name) => name.StartsWith(Prefix, StringComparison.Ordinal);

    /// <summary>
    /// <c>replay:NAME</c>: <c>samples/recordings/NAME.frec</c> with its truth <c>samples/recordings/NAME.truth.json</c>, found from
    /// the working directory up, then from the application's.
    /// </summary>
    /// <exception cref="UsageException">a name that is not a replay condition's, or no such recording.</exception>
    public static ReplayCondition Get(string name) =>
        TryGet(name) ?? throw new UsageException($"condition '{name}': no {Folder}/{name[Math.Min(name.Length, Prefix.Length)..]}.frec with its .truth.json found from the working directory up");

    /// <summary>The committed demo recording (<c>replay:demo</c>), or null when it is not found.</summary>
    public static ReplayCondition? Demo() => TryGet(Prefix + "demo");

    private static ReplayCondition? TryGet(string name)
    {
        if (!IsReplay(name)) throw new UsageException($"'{name}' is not a replay condition ({Prefix}NAME)");
        var stem = name[Prefix.Length..];
        if (stem.Length == 0 || stem.Length > 64 || !stem.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_'))
            throw new UsageException($"condition '{name}': a recording name is letters, digits, '-' and '_'");
        foreach (var start in new[] { Directory.GetCurrentDirectory(), AppContext.BaseDirectory })
            for (var d = new DirectoryInfo(start); d is not null; d = d.Parent)
            {
                var folder = Path.Combine(d.FullName, Folder);
                var recording = Path.Combine(folder, stem + ".frec");
                var truth = Path.Combine(folder, stem + ".truth.json");
                if (File.Exists(recording) && File.Exists(truth)) return new ReplayCondition { Name = name, Recording = recording, Truth = truth };
            }
        return null;
    }
}

/// <summary>
/// Plays <see cref="ReplayCondition"/>s: reads the recording (<see cref="RecordingReader"/>) and replays it once per policy
/// with <see cref="Replay.RunAsync"/> in an actor system of its own, with the evaluation's fixed weights in the spec (so
/// <c>fixed</c> is the same static fusion as in every other condition). A window's result is its last revision.
/// </summary>
public sealed class ReplayRunner(FusionOptions options, IReadOnlyDictionary<string, double> fixedWeights) : IAsyncDisposable
{
    private readonly ActorSystem _system = ActorSystem.Create("eval-replay",
        FusionConfig.DefaultsText + "\nakka.actor.provider = local\nakka.loglevel = ERROR\n");

    /// <summary>The models and drift watching of the evaluation node: the encoders every other condition runs on.</summary>
    private readonly NodeModels _models = NodeModels.Load(options.ModelsPath);

    /// <summary>The policies replayed (names of <see cref="EvalPolicies.All"/>).</summary>
    public IReadOnlyList<string> Policies { get; init; } = EvalPolicies.All;

    public async Task<ConditionRun> RunAsync(ReplayCondition condition, CancellationToken cancel)
    {
        var clock = Stopwatch.StartNew();
        var truth = DemoTruth.Load(condition.Truth);
        RecordingContents contents;
        try { contents = RecordingReader.Read(condition.Recording, RecordingKeys.None); }
        catch (RecordingFormatException e) { throw new InvalidDataException($"{condition.Recording}: {e.Message}"); }
        if (!contents.Complete) throw new InvalidDataException($"{condition.Recording}: reading stopped ({contents.StoppedBecause}); the committed recording must read whole");
        if (contents.Records.Count == 0 || contents.Records[0] is not RecordedSpec first)
            throw new InvalidDataException($"{condition.Recording}: the recording does not begin with the session's spec");
        // The evaluation's static weights, as every other condition's sessions have them.
        var records = contents.Records.ToArray();
        records[0] = first with { Spec = first.Spec with { FixedWeights = fixedWeights } };
        contents = contents with { Records = records };

        var labels = truth.Windows.Select(w => w.Label).ToArray();
        var encoders = new RegistryEncoderProvider(_models.Registry, options.Drift);
        var policies = new Dictionary<string, PolicyRun>();
        foreach (var policy in Policies)
        {
            var run = await Replay.RunAsync(_system, contents, encoders, EvalPolicies.Of(policy), cancel: cancel);
            var windows = new FusedResult?[labels.Length];
            foreach (var r in run.Results)
            {
                var k = r.WindowStartUs / EvalScript.SecondUs;
                if (r.WindowStartUs % EvalScript.SecondUs != 0 || k < 0 || k >= windows.Length) continue;
                if (windows[k] is not { } prev || prev.Revision < r.Revision) windows[k] = ToFused(run.SessionId, r);
            }
            policies[policy] = new PolicyRun(policy, windows, null, 0);
        }
        var faults = SensorFaults.Demo(truth.Seconds) with { Seed = truth.Seed };
        var eval = new EvalCondition { Name = condition.Name, Description = condition.Description, Faults = faults, Extra = true };
        var phases = truth.Windows.Select(w => w.Faults.Count == 0 ? ReplayPhases.NoFault : string.Join('+', w.Faults)).ToArray();
        return new ConditionRun(eval, null, labels, policies, clock.Elapsed)
        {
            Phases = phases,
            Replay = new ReplayCounters(contents.Records.Count, contents.Records.OfType<RecordedFrame>().Count(), contents.BytesRead),
        };
    }

    /// <summary>A replayed result as the metrics read it: what the replay keeps of a <see cref="FusedResult"/> (no embedding, no states).</summary>
    private static FusedResult ToFused(string sessionId, ReplayedResult r) => new(sessionId, r.WindowStartUs, r.WindowEndUs, r.Revision, r.Status,
        r.Posterior, r.TopClass, r.TopLabel, r.Confidence, r.Posterior.Length > 0 ? Probabilities.Entropy(r.Posterior) : 0,
        r.Weights, r.Missing, [], [], new Dictionary<string, StreamState>(), 0, r.Policy);

    public async ValueTask DisposeAsync()
    {
        await _system.Terminate();
        _models.Dispose();
    }
}

/// <summary>The phases of a replayed demo: which scheduled faults were on in a window.</summary>
public static class ReplayPhases
{
    public const string NoFault = "no fault";
}

/// <summary>What a replay condition read from its recording.</summary>
public sealed record ReplayCounters(int Records, int Frames, long Bytes);
