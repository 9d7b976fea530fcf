using System.Diagnostics;
using System.Text.Json;
using FusionActors.Host.Eval;
using FusionActors.Inference.Data;
using FusionActors.Inference;
using FusionActors.Runtime.Encoders;
using FusionActors.Runtime.Hosting;

namespace FusionActors.Host.Commands;

/// <summary>
/// The evaluation harness: plays AV-Digits items through the real one-node pipeline under a
/// matrix of named, seeded fault conditions, with four policies fed the same frames, and reports accuracy,
/// macro-F1, ECE, coverage and mean weights per condition and policy, the targets, and plots.
/// </summary>
public static class EvalCommand
{
    public const string Usage = "eval [--dataset DIR] [--report PATH] [--plots DIR] [--conditions a,b,...] [--items N] [--val DIR] [--tune-fixed] [--config PATH] [--quiet]";

    public static async Task<int> RunAsync(Args args, CancellationToken cancel)
    {
        args.AllowOnly("dataset", "report", "plots", "conditions", "items", "val", "tune-fixed", "config", "quiet");
        var clock = Stopwatch.StartNew();
        var dataset = args.String("dataset") is { } dir ? AvDigitsDataset.Load(dir) : AvDigitsDataset.LoadSample();
        var items = dataset.Items.Take(args.Int("items", dataset.Items.Count, 3, dataset.Items.Count)).ToArray();
        var conditions = args.String("conditions") is { } names
            ? names.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Select(EvalCondition.Get).ToList()
            : EvalCondition.All.ToList();

        var (weights, source) = ResolveFixedWeights(args);
        System.Console.WriteLine($"FusionActors eval: {items.Length} items of {dataset.Directory}, {conditions.Count} conditions x {EvalPolicies.All.Length} policies");
        System.Console.WriteLine($"fixed weights audio={weights.Audio} image={weights.Image} ({source})");

        var options = FusionOptions.Load(args.String("config"));
        options = ForEvaluation(options);
        var poison = new PoisonSwitch();
        await using var node = await FusionNode.StartAsync(options, wrapEncoders: poison.Wrap, cancel: cancel);
        var runner = new EvalRunner(node, poison, weights.AsDictionary());

        var runs = new List<ConditionRun>();
        foreach (var condition in conditions)
        {
            var run = await runner.RunAsync(condition, items, cancel);
            runs.Add(run);
            var r = EvalReport.FromRun(run);
            if (!args.Flag("quiet")) System.Console.WriteLine($"  {condition.Name,-28} " + string.Join("  ", EvalPolicies.All.Select(p => $"{p} {r.Policies[p].Accuracy * 100:0.0}%")) +
                              $"   ({r.Seconds:0.0} s)");
        }
        var report = Build(runs, items.Length, dataset.Directory, weights, source, clock.Elapsed, CommandLine(args));
        report.Print(System.Console.Out);
        if (args.String("report") is { } path)
        {
            Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
            await File.WriteAllTextAsync(path, JsonSerializer.Serialize(report, EvalReport.Json), cancel);
            System.Console.WriteLine($"report written to {path}");
        }
        if (args.String("plots") is { } plots)
        {
            var written = EvalPlots.Write(plots, report, runs);
            System.Console.WriteLine($"plots written: {string.Join(", ", written)}");
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

    public static EvalReport Build(IReadOnlyList<ConditionRun> runs, int items, string dataset, FixedWeights weights, string source, TimeSpan elapsed, string command)
    {
        var conditions = runs.Select(EvalReport.FromRun).ToList();
        var patterns = EvalMetrics.ByPattern(runs.SelectMany(r =>
            r.Policies[EvalPolicies.Adaptive].Windows.Select((w, i) => (w, r.Labels[i]))));
        return new EvalReport
        {
            Items = items,
            Dataset = dataset,
            Command = command,
            FixedWeights = weights.AsDictionary(),
            FixedWeightsSource = source,
            Conditions = conditions,
            AdaptiveByPattern = patterns,
            Targets = EvalTargets.Check(conditions, patterns),
            Seconds = Math.Round(elapsed.TotalSeconds, 1),
        };
    }

    /// <summary>Tuned now on the val split when it is there (and saved with --tune-fixed), else the committed weights.</summary>
    private static (FixedWeights Weights, string Source) ResolveFixedWeights(Args args)
    {
        var committed = FixedWeights.FindCommitted();
        var valDir = args.String("val") ?? FindVal();
        if (valDir is not null && File.Exists(Path.Combine(valDir, "manifest.jsonl")))
        {
            var val = AvDigitsDataset.Load(valDir, "val");
            if (val.Items.Count > 0)
            {
                using var models = ModelRegistry.FromDefaultCatalog();
                var tuned = FixedWeights.Tune(val.Items, models);
                if (args.Flag("tune-fixed"))
                {
                    var target = committed ?? Path.Combine("config", FixedWeights.FileName);
                    tuned.Save(target);
                    System.Console.WriteLine($"tuned fixed weights written to {target}");
                }
                return (tuned, $"tuned now on {val.Items.Count} val items of {val.Directory}: val accuracy {tuned.ValAccuracy:P1}");
            }
        }
        if (args.Flag("tune-fixed")) throw new UsageException("--tune-fixed needs the val split (--val DIR; ./build.sh dataset builds data/avdigits)");
        if (committed is null) throw new FileNotFoundException($"no val split and no committed config/{FixedWeights.FileName}");
        return (FixedWeights.Load(committed), $"committed {committed} (val split not available)");
    }

    private static string CommandLine(Args args)
    {
        var parts = new List<string> { "eval" };
        foreach (var name in new[] { "dataset", "report", "plots", "conditions", "items", "val" })
            if (args.String(name) is { } v) parts.Add($"--{name} {v}");
        if (args.Flag("tune-fixed")) parts.Add("--tune-fixed");
        return string.Join(' ', parts);
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
