using System.CommandLine;
using FusionActors.Eval;
using FusionActors.Inference.Data;
using FusionActors.Scenarios;

namespace FusionActors.Host.Commands;

/// <summary><c>eval</c>: <see cref="EvalHarness"/> from the command line.</summary>
public static class EvalCommand
{
    public static Command Create()
    {
        var dataset = OptionValues.Text("--dataset", "DIR", "an AV-Digits data set folder (default: the committed sample)");
        var report = OptionValues.Text("--report", "PATH", "write the JSON report to this file");
        var plots = OptionValues.Text("--plots", "DIR", "write the plots (PNG) to this folder");
        var conditions = OptionValues.Text("--conditions", "a,b,...", $"the conditions played, a,b,... (default all: {string.Join(", ", EvalCondition.All.Select(c => c.Name))}, and, on the committed sample, replay:demo, the recorded demo session of {ReplayCondition.Folder}; replay:NAME replays {ReplayCondition.Folder}/NAME.frec)");
        var items = OptionValues.Int("--items", "the first N items of the data set (default all; at least 3)");
        var val = OptionValues.Text("--val", "DIR", "the val split the fixed weights are tuned on (default data/avdigits when it is there, else the committed weights)");
        var tuneFixed = OptionValues.Flag("--tune-fixed", "save the weights tuned on the val split as config/eval-fixed-weights.json");
        var config = OptionValues.Text("--config", "PATH", "the node's configuration file, over the built-in defaults (default: $FUSION_CONFIG, else the defaults alone)");
        var quiet = OptionValues.Flag("--quiet", "no line per condition");
        var dumpFeatures = OptionValues.Text("--dump-features", "DIR",
            "instead of evaluating: play the fusion curriculum over the train/val items of --dataset (with --split) and write features.csv and fused.csv here, for tools/train/train_fusion.py");
        var split = OptionValues.Text("--split", "NAME", "with --dump-features: the split played (train or val; never test)");
        var sessionFile = OptionValues.Text("--session", "FILE",
            "a session description file (config/sessions/*.json; default the built-in audio + image session): every stream through the actors, " +
            "each modality with a posterior scored alone (M-only), the conditions of the matrix plus those aimed at its other modalities (ocr-missing, ...); " +
            "fixed and learned only for audio + image");
        var baseline = OptionValues.Text("--baseline", "REPORT,...",
            "with --session: compare with these reports of earlier --session runs on the same items (accuracy and ECE with 95 % bootstrap intervals, paired differences)");
        var command = new Command("eval", "fault matrix x policies through the real pipeline")
        {
            dataset, report, plots, conditions, items, val, tuneFixed, config, quiet, dumpFeatures, split, sessionFile, baseline,
        };
        command.SetAction((parsed, cancel) =>
        {
            if (parsed.GetValue(dumpFeatures) is { } dumpDir)
                return Dump(parsed, dumpDir, parsed.GetValue(dataset), parsed.GetValue(split), parsed.GetValue(items), parsed.GetValue(conditions), parsed.GetValue(config), cancel);
            var data = parsed.GetValue(dataset) is { } dir ? AvDigitsDataset.Load(dir) : AvDigitsDataset.LoadSample();
            var chosen = parsed.GetValue(conditions) is { } names ? OptionValues.List(names) : null;
            var session = parsed.GetValue(sessionFile) is { } file ? EvalHarness.LoadSession(file, parsed.GetValue(config)) : null;
            if (session is not null && parsed.GetValue(dumpFeatures) is not null) throw new UsageException("--dump-features records the built-in audio + image session: not with --session");
            if (session is null && parsed.GetValue(baseline) is not null) throw new UsageException("--baseline compares session-file runs: give --session FILE");
            if (session is not null) return EvalHarness.RunAsync(new EvalOptions
            {
                Dataset = data,
                Items = parsed.Get(items, data.Items.Count, 3, data.Items.Count),
                Conditions = chosen is null ? EvalCondition.For(session) : chosen.Select(n => ReplayCondition.IsReplay(n)
                    ? throw new UsageException($"{n}: a replayed recording is of the built-in audio + image session: not with --session")
                    : EvalCondition.Get(n, session)).ToList(),
                Val = parsed.GetValue(val),
                TuneFixed = parsed.GetValue(tuneFixed),
                Config = parsed.GetValue(config),
                Quiet = parsed.GetValue(quiet),
                Report = parsed.GetValue(report),
                Plots = parsed.GetValue(plots),
                Session = session,
                Baselines = parsed.GetValue(baseline) is { } baselines ? OptionValues.List(baselines) : [],
                Command = CommandLine(parsed, sessionFile, dataset, report, conditions, items, val, tuneFixed, baseline),
            }, cancel);
            var options = new EvalOptions
            {
                Dataset = data,
                Items = parsed.Get(items, data.Items.Count, 3, data.Items.Count),
                Conditions = chosen is null ? EvalCondition.All : chosen.Where(n => !ReplayCondition.IsReplay(n)).Select(EvalCondition.Get).ToList(),
                // The recorded demo plays the committed sample: replayed by default on the sample only, on another data set when named.
                Replays = chosen is not null ? chosen.Where(ReplayCondition.IsReplay).Select(ReplayCondition.Get).ToList()
                    : !IsSample(data) ? []
                    : [ReplayCondition.Demo() ?? throw new UsageException($"the default run replays {ReplayCondition.Folder}/demo.frec (with demo.truth.json), which is not found from the working directory up; choose --conditions without replay:demo")],
                Val = parsed.GetValue(val),
                TuneFixed = parsed.GetValue(tuneFixed),
                Config = parsed.GetValue(config),
                Quiet = parsed.GetValue(quiet),
                Report = parsed.GetValue(report),
                Plots = parsed.GetValue(plots),
                Command = CommandLine(parsed, dataset, report, plots, conditions, items, val, tuneFixed),
            };
            return EvalHarness.RunAsync(options, cancel);
        });
        return command;
    }

    private static Task<int> Dump(ParseResult parsed, string output, string? dir, string? split, int? items, string? conditions, string? config, CancellationToken cancel)
    {
        if (dir is null || split is null) throw new UsageException("--dump-features needs --dataset DIR and --split train|val");
        if (split is not ("train" or "val")) throw new UsageException($"--split {split}: the fusion is fitted on train or val only, never on '{split}'");
        var data = AvDigitsDataset.Load(dir, split);
        var chosen = data.Items.Where(i => i.Split == split).ToList();
        if (chosen.Count < 3) throw new UsageException($"{dir} has {chosen.Count} items of split '{split}' (at least 3 needed)");
        var n = items is { } k ? Math.Clamp(k, 3, chosen.Count) : chosen.Count;
        // The fixed weights as eval tunes them: on the val split of the same folder.
        var val = split == "val" ? data : AvDigitsDataset.Load(dir, "val");
        using var models = FusionActors.Inference.ModelRegistry.FromDefaultCatalog();
        var weights = FixedWeights.Tune(val.Items.Where(i => i.Split == "val").ToList(), models);
        return FeatureDump.RunAsync(new FeatureDumpOptions
        {
            Items = chosen.Take(n).ToList(),
            Source = $"{data.Directory} split {split}",
            Output = output,
            FixedWeights = weights.AsDictionary(),
            Conditions = conditions is { } names ? OptionValues.List(names).Select(name => FeatureDump.Curriculum.FirstOrDefault(c => c.Name == name)
                ?? throw new UsageException($"unknown curriculum condition '{name}'")).ToList() : FeatureDump.Curriculum,
            Config = config,
        }, cancel);
    }

    /// <summary>Whether <paramref name="data"/> is the committed sample (the default, or named with --dataset).</summary>
    private static bool IsSample(AvDigitsDataset data)
    {
        try
        {
            return string.Equals(Path.TrimEndingDirectorySeparator(Path.GetFullPath(data.Directory)),
                Path.TrimEndingDirectorySeparator(Path.GetFullPath(AvDigitsDataset.FindSample())), StringComparison.Ordinal);
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException) { return false; }
    }

    /// <summary>The command line as the report records it: the options that change what is measured or written, in a fixed order.</summary>
    private static string CommandLine(ParseResult parsed, params Option[] recorded)
    {
        var parts = new List<string> { "eval" };
        foreach (var option in recorded)
            if (option is Option<bool> flag) { if (parsed.GetValue(flag)) parts.Add(flag.Name); }
            else if (parsed.Raw(option) is { } v) parts.Add($"{option.Name} {v}");
        return string.Join(' ', parts);
    }
}
