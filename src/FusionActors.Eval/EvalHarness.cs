using System.Diagnostics;
using System.Text.Json;
using FusionActors.Scenarios;
using FusionActors.Inference.Data;
using FusionActors.Inference;
using FusionActors.Runtime.Encoders;
using FusionActors.Runtime.Hosting;

namespace FusionActors.Eval;

/// <summary>What the evaluation plays, and where its report and plots go.</summary>
public sealed record EvalOptions
{
    public required AvDigitsDataset Dataset { get; init; }

    /// <summary>The first items of the data set that are played, one 1 s window each.</summary>
    public required int Items { get; init; }

    /// <summary>The conditions played, in order; default: all of <see cref="EvalCondition.All"/>.</summary>
    public IReadOnlyList<EvalCondition> Conditions { get; init; } = EvalCondition.All;

    /// <summary>The recorded sessions replayed after the conditions (the <c>eval</c> command's default run on the committed sample: <c>replay:demo</c>).</summary>
    public IReadOnlyList<ReplayCondition> Replays { get; init; } = [];

    /// <summary>The val split the fixed weights are tuned on; null = data/avdigits when it is there.</summary>
    public string? Val { get; init; }

    /// <summary>Save the weights tuned on the val split as the committed ones.</summary>
    public bool TuneFixed { get; init; }

    /// <summary>The node's configuration file; null = the default lookup of <see cref="FusionOptions.Load"/>.</summary>
    public string? Config { get; init; }

    /// <summary>Where the JSON report is written; none when null.</summary>
    public string? Report { get; init; }

    /// <summary>The folder the plots are written to; none when null.</summary>
    public string? Plots { get; init; }

    /// <summary>No line per condition.</summary>
    public bool Quiet { get; init; }

    /// <summary>The command line that ran it, recorded in the report.</summary>
    public string Command { get; init; } = "eval";

    /// <summary>The session played; null = the built-in audio + image session (<see cref="EvalSession.BuiltIn"/>).</summary>
    public EvalSession? Session { get; init; }

    /// <summary>Reports of earlier session-file runs on the same items to compare this one with (<see cref="EvalReport.Comparisons"/>).</summary>
    public IReadOnlyList<string> Baselines { get; init; } = [];
}

/// <summary>
/// The evaluation harness: plays AV-Digits items through the real one-node pipeline under a
/// matrix of named, seeded fault conditions, with four policies fed the same frames, and reports accuracy,
/// macro-F1, ECE, coverage and mean weights per condition and policy, the targets, and plots.
/// </summary>
public static class EvalHarness
{
    public static async Task<int> RunAsync(EvalOptions o, CancellationToken cancel)
    {
        var clock = Stopwatch.StartNew();
        var dataset = o.Dataset;
        var items = dataset.Items.Take(o.Items).ToArray();
        var conditions = o.Conditions;

        var session = o.Session ?? EvalSession.BuiltIn;
        var options = FusionOptions.Load(o.Config);
        if (session.ModelsPath is { } modelsFile) options = options with { ModelsPath = modelsFile };
        var (policies, skipped) = session.PoliciesFor(ModelsJson(options.ModelsPath));
        var playsFixed = policies.Contains(EvalPolicies.Fixed);
        if (!session.IsBuiltIn && o.Replays.Count > 0)
            throw new UsageException("a replayed recording is of the built-in audio + image session: not with --session");
        if (!playsFixed && o.TuneFixed) throw new UsageException("--tune-fixed tunes the fixed policy's audio + image weights, which this session does not play: " + skipped[0]);
        var (weights, source) = playsFixed ? ResolveFixedWeights(o) : (null, "not played: " + skipped[0]);
        var datasetPath = RepositoryRelative(dataset.Directory);
        Console.WriteLine($"FusionActors eval: {items.Length} items of {datasetPath}, {conditions.Count} conditions x {policies.Count} policies" +
                          (o.Replays.Count > 0 ? $", then {string.Join(", ", o.Replays.Select(r => r.Name))} replayed" : ""));
        if (session.Description is { } description)
        {
            Console.WriteLine($"session {RepositoryRelative(description.File)}: {description.Describe()}");
            Console.WriteLine($"policies {string.Join(", ", policies)}" + string.Concat(skipped.Select(x => $"; skipped {x}")));
        }
        if (weights is not null) Console.WriteLine($"fixed weights audio={weights.Audio} image={weights.Image} ({source})");

        options = ForEvaluation(options);
        var poison = new PoisonSwitch();
        await using var node = await FusionNode.StartAsync(options, wrapEncoders: poison.Wrap, cancel: cancel);
        var runner = new EvalRunner(node, poison, weights?.AsDictionary() ?? new Dictionary<string, double>()) { Session = session, Policies = policies };

        var runs = new List<ConditionRun>();
        foreach (var condition in conditions)
        {
            var run = await runner.RunAsync(condition, items, cancel);
            runs.Add(run);
            var r = EvalReport.FromRun(run, session);
            if (!o.Quiet) Console.WriteLine($"  {condition.Name,-28} " + string.Join("  ", policies.Select(p => $"{p} {r.Policies[p].Accuracy * 100:0.0}%")) +
                              $"   ({r.Seconds:0.0} s)");
        }
        if (o.Replays.Count > 0)
        {
            await using var replays = new ReplayRunner(options, weights!.AsDictionary()) { Policies = runner.Policies };
            foreach (var replay in o.Replays)
            {
                var run = await replays.RunAsync(replay, cancel);
                runs.Add(run);
                var r = EvalReport.FromRun(run);
                if (!o.Quiet) Console.WriteLine($"  {replay.Name,-28} " + string.Join("  ", run.Policies.Keys.Select(p => $"{p} {r.Policies[p].Accuracy * 100:0.0}%")) +
                                  $"   ({r.Seconds:0.0} s, {run.Labels.Length} windows replayed)");
            }
        }
        var report = Build(runs, items.Length, datasetPath, weights, source, clock.Elapsed, o.Command, session, skipped);
        if (o.Baselines.Count > 0) report = report with { Comparisons = EvalComparison.Compare(o.Baselines, report) };
        report.Print(Console.Out);
        if (o.Report is { } path)
        {
            Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
            await File.WriteAllTextAsync(path, JsonSerializer.Serialize(report, EvalReport.Json), cancel);
            Console.WriteLine($"report written to {path}");
        }
        if (o.Plots is { } plots)
        {
            var written = EvalPlots.Write(plots, report, runs);
            Console.WriteLine($"plots written: {string.Join(", ", written)}");
        }
        return 0;
    }

    /// <summary>
    /// The evaluation plays ~10x faster than real time, while encoder restart backoff and budget are
    /// processing-time quantities: scale them so the encoder-crashes condition measures fusion through
    /// crashes and quarantine rather than the restart budget running out (the Runtime tests cover that).
    /// </summary>
    public static FusionOptions ForEvaluation(FusionOptions options) => options with
    {
        // Crashes and quarantines are the expected events of encoder-crashes: counted in the report, not logged line by line.
        Hocon = options.Hocon + "\nakka.loglevel = ERROR\n",
        Backoff = options.Backoff with { Min = TimeSpan.FromMilliseconds(10), Max = TimeSpan.FromMilliseconds(200), MaxRestarts = 10_000 },
    };

    /// <param name="weights">The fixed policy's weights; null when it was not played (a session file of other modalities).</param>
    /// <param name="session">The session played; null = the built-in one (the report as it always was).</param>
    /// <param name="skipped">The policies not played, and why (session files).</param>
    public static EvalReport Build(IReadOnlyList<ConditionRun> runs, int items, string dataset, FixedWeights? weights, string source, TimeSpan elapsed, string command,
        EvalSession? session = null, IReadOnlyList<string>? skipped = null)
    {
        var file = session is { IsBuiltIn: false } ? session : null;
        var modalities = file?.Modalities;
        var conditions = runs.Select(r => EvalReport.FromRun(r, file)).ToList();
        // The targets and the pooled per-pattern scores are the fault matrix's: a replayed recording is reported beside it.
        var scripted = runs.Where(r => !r.IsReplay).ToList();
        var matrix = conditions.Where((_, i) => !runs[i].IsReplay).ToList();
        var patterns = EvalMetrics.ByPattern(scripted.SelectMany(r =>
            r.Policies[EvalPolicies.Adaptive].Windows.Select((w, i) => (w, r.Labels[i]))), modalities);
        var fused = new[] { EvalPolicies.Adaptive, EvalPolicies.Fixed, EvalPolicies.Learned }.Where(p => scripted.Count > 0 && scripted.All(r => r.Policies.ContainsKey(p))).ToList();
        var byPolicy = fused.ToDictionary(p => p, p => EvalMetrics.ByPattern(scripted.SelectMany(r => r.Policies[p].Windows.Select((w, i) => (w, r.Labels[i]))), modalities));
        // The policy targets compare with fixed: only when it was played.
        var policyTargets = fused.Contains(EvalPolicies.Fixed)
            ? fused.Where(p => p != EvalPolicies.Fixed).ToDictionary(p => p, p => PolicyTargets.Check(matrix, byPolicy[p], p, file?.SinglePolicies))
            : new Dictionary<string, IReadOnlyList<EvalReport.TargetCheck>>();
        return new EvalReport
        {
            Items = items,
            Dataset = dataset,
            Command = command,
            FixedWeights = weights?.AsDictionary() ?? new Dictionary<string, double>(),
            FixedWeightsSource = source,
            Conditions = conditions,
            AdaptiveByPattern = patterns,
            Targets = EvalTargets.Check(matrix, patterns, file?.SinglePolicies),
            ByPolicyPattern = byPolicy,
            PolicyTargets = policyTargets,
            Seconds = Math.Round(elapsed.TotalSeconds, 1),
            Session = file?.Description is { } d ? RepositoryRelative(d.File) : null,
            Modalities = modalities,
            Skipped = file is null ? null : skipped ?? [],
        };
    }

    /// <summary>The models.json a node with this <see cref="FusionOptions.ModelsPath"/> loads (a folder means its models.json).</summary>
    public static string ModelsJson(string? modelsPath)
    {
        if (modelsPath is null) return ModelCatalog.FindDefaultPath();
        var full = Path.GetFullPath(modelsPath);
        return Directory.Exists(full) ? Path.Combine(full, "models.json") : full;
    }

    /// <summary>A session description file as the evaluation plays it: its posterior modalities read from the node's models.</summary>
    public static EvalSession LoadSession(string file, string? config)
    {
        var description = Scenarios.Sessions.SessionDescription.Load(file);
        var models = ModelsJson(description.Models ?? FusionOptions.Load(config).ModelsPath);
        return EvalSession.From(description, ModelCatalog.Load(models));
    }

    /// <summary>Tuned now on the val split when it is there (and saved with --tune-fixed), else the committed weights.</summary>
    private static (FixedWeights Weights, string Source) ResolveFixedWeights(EvalOptions o)
    {
        var committed = FixedWeights.FindCommitted();
        var valDir = o.Val ?? FindVal();
        if (valDir is not null && File.Exists(Path.Combine(valDir, "manifest.jsonl")))
        {
            var val = AvDigitsDataset.Load(valDir, "val");
            if (val.Items.Count > 0)
            {
                using var models = ModelRegistry.FromDefaultCatalog();
                var tuned = FixedWeights.Tune(val.Items, models);
                if (o.TuneFixed)
                {
                    var target = committed ?? Path.Combine("config", FixedWeights.FileName);
                    tuned.Save(target);
                    Console.WriteLine($"tuned fixed weights written to {target}");
                }
                return (tuned, $"tuned now on {val.Items.Count} val items of {RepositoryRelative(val.Directory)}: val accuracy {tuned.ValAccuracy:P1}");
            }
        }
        if (o.TuneFixed) throw new UsageException("--tune-fixed needs the val split (--val DIR; ./build.sh dataset builds data/avdigits)");
        if (committed is null) throw new FileNotFoundException($"no val split and no committed config/{FixedWeights.FileName}");
        return (FixedWeights.Load(committed), $"committed {RepositoryRelative(committed)} (val split not available)");
    }

    /// <summary>
    /// A path as the reports write it: relative to the repository (the nearest directory up from the working directory,
    /// then from the application's, that holds FusionActors.sln) when it is inside it, with '/' separators; otherwise as
    /// given. Reports are committed, so they must not carry the path of one machine's checkout.
    /// </summary>
    public static string RepositoryRelative(string path, string? repositoryRoot = null)
    {
        var root = repositoryRoot ?? FindRepositoryRoot();
        if (root is null) return path;
        var full = Path.TrimEndingDirectorySeparator(Path.GetFullPath(path));
        var relative = Path.GetRelativePath(Path.GetFullPath(root), full);
        if (relative == "." || relative.StartsWith("..", StringComparison.Ordinal) || Path.IsPathRooted(relative)) return relative == "." ? "." : path;
        return relative.Replace(Path.DirectorySeparatorChar, '/');
    }

    private static string? FindRepositoryRoot()
    {
        foreach (var start in new[] { Directory.GetCurrentDirectory(), AppContext.BaseDirectory })
            for (var d = new DirectoryInfo(start); d is not null; d = d.Parent)
                if (File.Exists(Path.Combine(d.FullName, "FusionActors.sln"))) return d.FullName;
        return null;
    }

    private static string? FindVal()
    {
        foreach (var start in new[] { Directory.GetCurrentDirectory(), AppContext.BaseDirectory })
            for (var d = new DirectoryInfo(start); d is not null; d = d.Parent)
            {
                var candidate = Path.Combine(d.FullName, "data", "avdigits");
                if (File.Exists(Path.Combine(candidate, "manifest.jsonl"))) return candidate;
            }
        return null;
    }
}
