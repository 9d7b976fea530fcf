using System.CommandLine;
using System.Diagnostics;
using Akka.Actor;
using FusionActors.Inference;
using FusionActors.Protocol.Specs;
using FusionActors.Runtime.Encoders;
using FusionActors.Runtime.Hosting;
using FusionActors.Runtime.Recording;
using FusionActors.Scenarios;
using Microsoft.Extensions.Configuration;

namespace FusionActors.Host.Commands;

/// <summary><c>replay FILE</c>: <see cref="Replay"/> from the command line (docs/recording.md, "Replay").</summary>
public static class ReplayCommand
{
    public static Command Create()
    {
        var file = new Argument<string>("FILE") { Description = "a session recording (.frec)" };
        var policy = OptionValues.Text("--policy", "POLICY", "fuse with this policy instead of the recorded one (adaptive, fixed, learned, single:MODALITY)");
        var models = OptionValues.Text("--models", "DIR", "the models folder (its models.json; default: models/ found from the working directory up)");
        var report = OptionValues.Text("--report", "PATH", "write the JSON report (every fused result) to this file");
        var compare = new Option<string[]>("--compare")
        {
            Description = "replay twice, with A and with B (each a policy or a models folder), and report where the decisions differ",
            HelpName = "A B", Arity = new ArgumentArity(2, 2), AllowMultipleArgumentsPerToken = true,
        };
        var config = OptionValues.Text("--config", "PATH", "the configuration file whose Fusion:Recording keys read an encrypted recording (keys also from Fusion__Recording__Keys__ID)");
        var command = new Command("replay", "run a session recording through the session's actors on recorded time: the same results on every run")
        {
            file, policy, models, report, compare, config,
        };
        command.SetAction((parsed, cancel) => RunAsync(parsed.GetValue(file)!, parsed.GetValue(policy), parsed.GetValue(models), parsed.GetValue(report),
            parsed.GetValue(compare), parsed.GetValue(config), cancel));
        return command;
    }

    private static async Task<int> RunAsync(string path, string? policyText, string? modelsDir, string? reportPath, string[]? compare, string? config,
        CancellationToken cancel)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"no recording at {path}");
        if (compare is not null && policyText is not null) throw new UsageException("--compare A B replaces --policy");
        var keys = Keys(config);
        RecordingContents contents;
        try { contents = RecordingReader.Read(path, keys); }
        catch (RecordingFormatException e) { throw new InvalidDataException($"{path}: {e.Message}"); }
        Console.WriteLine($"{path}: session {contents.Header.SessionId}, {contents.Records.Count} records, {contents.BytesRead} of {contents.FileBytes} bytes" +
                          (contents.Header.Encrypted ? $", key '{contents.Header.KeyId}'" : "") +
                          (contents.StoppedBecause is { } why ? $"; read stopped: {why}" : ""));
        using var system = ActorSystem.Create("replay", FusionConfig.DefaultsText + "\nakka.actor.provider = local\nakka.loglevel = WARNING\n");
        try
        {
            if (compare is [var a, var b])
            {
                var (runA, runB) = (await Run(system, contents, a, modelsDir, cancel), await Run(system, contents, b, modelsDir, cancel));
                var different = ReplayReport.Compare(runA, runB);
                Console.WriteLine($"A = {a} ({runA.Policy}): {runA.Results.Count} results; B = {b} ({runB.Policy}): {runB.Results.Count} results; " +
                                  $"{different.Count} decisions differ");
                foreach (var d in different.Take(50))
                    Console.WriteLine($"  window {d.WindowStartUs / 1e6:0.000}s rev {d.Revision}: A {d.A ?? "-"} ({d.ConfidenceA:0.000})  B {d.B ?? "-"} ({d.ConfidenceB:0.000})");
                if (different.Count > 50) Console.WriteLine($"  ... and {different.Count - 50} more");
                Write(reportPath, ReplayReport.BuildComparison(path, (a, runA), (b, runB)));
                return 0;
            }
            var clock = Stopwatch.StartNew();
            var run = await Run(system, contents, policyText, modelsDir, cancel);
            var (recorded, same, diff) = ReplayReport.AgainstRecording(contents, run);
            Console.WriteLine($"replayed {run.FramesReplayed} frames and {run.ClockSteps} clock steps in {clock.Elapsed.TotalSeconds:0.00} s: " +
                              $"{run.Results.Count} results with policy {run.Policy}; of the {recorded} recorded results {same} are the same bit for bit" +
                              (diff.Count > 0 ? $", {diff.Count} differ" : ""));
            foreach (var d in diff.Take(20))
                Console.WriteLine($"  window {d.WindowStartUs / 1e6:0.000}s rev {d.Revision}: recorded {d.A} ({d.ConfidenceA:0.000}), replayed {d.B ?? "-"} ({d.ConfidenceB:0.000}); " +
                                  $"largest difference of a probability {d.PosteriorDelta:G3}, of a weight {d.WeightDelta:G3}");
            Write(reportPath, ReplayReport.Build(path, modelsDir ?? "(default)", contents, run));
            return 0;
        }
        finally
        {
            await system.Terminate();
        }
    }

    /// <summary>One replay with <paramref name="variant"/>: a policy, a models folder, or null for the recorded policy.</summary>
    private static async Task<ReplayResult> Run(ActorSystem system, RecordingContents contents, string? variant, string? modelsDir, CancellationToken cancel)
    {
        FusionPolicy? policy = null;
        if (variant is not null && (Directory.Exists(variant) || variant.EndsWith(".json", StringComparison.Ordinal))) modelsDir = variant;
        else if (variant is not null)
        {
            try { policy = FusionPolicy.Parse(variant); }
            catch (FormatException e) { throw new UsageException($"'{variant}' is neither a models folder nor a policy: {e.Message}"); }
        }
        var catalog = modelsDir is null ? ModelCatalog.FindDefaultPath()
            : Directory.Exists(modelsDir) ? Path.Combine(modelsDir, "models.json") : modelsDir;
        using var registry = new ModelRegistry(ModelCatalog.Load(catalog));
        return await Replay.RunAsync(system, contents, new RegistryEncoderProvider(registry), policy, cancel: cancel);
    }

    private static RecordingKeys Keys(string? config)
    {
        var builder = new ConfigurationBuilder();
        if (config is not null) builder.AddInMemoryCollection(new Dictionary<string, string?> { [FusionConfiguration.ConfigFileKey] = config });
        var options = FusionOptions.FromConfiguration(builder.AddEnvironmentVariables().Build());
        return options.Recording.LoadKeys();
    }

    private static void Write(string? path, string json)
    {
        if (path is null) return;
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
        File.WriteAllText(path, json);
        Console.WriteLine($"report written to {path}");
    }
}
