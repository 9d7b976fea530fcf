using System.Diagnostics;
using System.Text.Json;
using Akka.Actor;
using FusionActors.Scenarios;
using FusionActors.Scenarios.Faults;
using FusionActors.Scenarios.Playback;
using FusionActors.Scenarios.Sessions;
using FusionActors.Inference.Data;
using FusionActors.Core.Specs;
using FusionActors.Core.Streams;
using FusionActors.Protocol;
using FusionActors.Protocol.Specs;
using FusionActors.Runtime.Alignment;
using FusionActors.Runtime.Fusion;
using FusionActors.Runtime.Gateway;
using FusionActors.Runtime.Hosting;
using FusionActors.Runtime.Sessions;
using FusionActors.Runtime.Streams;

namespace FusionActors.Scenarios.Demo;

/// <summary>What the demo plays and where its report goes.</summary>
public sealed record DemoOptions
{
    public required AvDigitsDataset Dataset { get; init; }

    /// <summary>Items played, one 1 s window each.</summary>
    public required int Seconds { get; init; }

    /// <summary>The seed of the faults' randomness.</summary>
    public int Seed { get; init; } = 7;

    /// <summary>The node's configuration file; null = the default lookup of <see cref="FusionOptions.Load"/>.</summary>
    public string? Config { get; init; }

    /// <summary>Where the JSON report is written; none when null.</summary>
    public string? Report { get; init; }

    /// <summary>Record the demo's sessions into this folder (docs/recording.md); none when null.</summary>
    public string? Record { get; init; }

    /// <summary>No line per fused result.</summary>
    public bool Quiet { get; init; }

    /// <summary>Akka's info logs too.</summary>
    public bool Verbose { get; init; }

    /// <summary>The session's streams; null = the built-in audio + image session (config/sessions/av-digits.json).</summary>
    public SessionDescription? Session { get; init; }
}

/// <summary>
/// The main job: a one-node server plays the committed AV-Digits sample as two live sensors with faults
/// on a schedule, prints fused results live, then a summary and (optionally) a JSON report. Two more
/// sessions receive the same frames with the single-modality policies, as the yardstick.
/// </summary>
public static class DemoScenario
{
    public static async Task<int> RunAsync(DemoOptions run, CancellationToken cancel)
    {
        var dataset = run.Dataset;
        var seconds = run.Seconds;
        var quiet = run.Quiet;
        var plan = SensorFaults.Demo(seconds) with { Seed = run.Seed };
        var items = dataset.Items.Take(seconds).ToArray();

        var description = run.Session ?? SessionDescription.LoadDefault();
        foreach (var modality in new[] { "audio", "image" })
            if (description.Streams.All(s => s.Modality != modality))
                throw new UsageException($"session file {description.File}: the demo compares with a {modality}-only session and needs a stream of modality '{modality}'");
        Console.WriteLine($"FusionActors demo: {seconds} s of AV-Digits ({dataset.Directory}); {description.Describe()}");
        Console.WriteLine($"faults: camera outage {plan.CameraOutage!.Value.Start}-{plan.CameraOutage.Value.End} s, audio noise {plan.AudioNoise!.During!.Value.Start}-{plan.AudioNoise.During.Value.End} s at {plan.AudioNoise.SnrDb} dB SNR, " +
                          $"network jitter with reordering, camera encoder crash at {plan.CrashCameraEncoderAt} s, bad input at {plan.BadInputAt} s");

        var options = FusionOptions.Load(run.Config);
        // A session of other models names the node's models file.
        if (description.Models is { } models) options = options with { ModelsPath = models };
        // The demo's own lines tell the story; Akka's info logs only when verbose.
        if (!run.Verbose) options = options with { Hocon = options.Hocon + "\nakka.loglevel = WARNING\n" };
        if (run.Record is { } recordTo)
        {
            options = options with { Recording = options.Recording with { Directory = recordTo, Sessions = ["*"] } };
            Console.WriteLine($"recording every session to {Path.GetFullPath(recordTo)}");
        }
        await using var node = await FusionNode.StartAsync(options, cancel: cancel);
        // What the recordings do not carry: each window's item and label, and the faults over it (the evaluation scores a
        // replay against it). Beside them, in the folder the node's recording writer made.
        if (run.Record is { } truthTo) DemoTruth.Of(items, plan, run.Seed).Save(Path.Combine(truthTo, DemoTruth.FileName));
        var system = node.System;

        var sessions = new[]
        {
            (Id: "demo", Policy: FusionPolicy.Adaptive),
            (Id: "demo-audio-only", Policy: FusionPolicy.Single("audio")),
            (Id: "demo-image-only", Policy: FusionPolicy.Single("image")),
        };
        var observers = new Dictionary<string, SessionObserver>();
        foreach (var (id, policy) in sessions)
        {
            var (actor, reader) = ChannelSubscriber.Create(system);
            var opened = await node.Sessions.Ask<object>(new OpenSession(description.Spec(id, policy), 0), TimeSpan.FromSeconds(10), cancel);
            if (opened is not SessionOpened) throw new InvalidOperationException($"session {id} did not open: {opened}");
            await node.Sessions.Ask<Subscribed>(new Subscribe(id, actor), TimeSpan.FromSeconds(10), cancel);
            observers[id] = new SessionObserver(id, actor, reader, items, plan, print: id == "demo" && !quiet);
        }
        var watching = observers.Values.Select(o => o.RunAsync(cancel)).ToArray();

        var clock = Stopwatch.StartNew();
        var players = sessions.Select(s =>
            new LivePlayer(node.Sessions, observers[s.Id].Actor).PlayAsync(s.Id, Timeline.Build(s.Id, items, plan, description), clock, cancel));
        await Task.WhenAll(players);

        foreach (var o in observers.Values) await o.WaitForWindowsAsync(seconds, TimeSpan.FromSeconds(20));
        var statuses = new Dictionary<string, SessionStatus>();
        foreach (var (id, _) in sessions)
            statuses[id] = await node.Sessions.Ask<SessionStatus>(new GetSessionStatus(id), TimeSpan.FromSeconds(10), cancel);

        var report = DemoReport.Build(seconds, plan, observers["demo"], statuses["demo"],
            observers["demo-audio-only"], observers["demo-image-only"]);
        DemoReport.Print(report);
        if (run.Report is { } path)
        {
            Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
            await File.WriteAllTextAsync(path, JsonSerializer.Serialize(report, DemoReport.Json), cancel);
            Console.WriteLine($"report written to {path}");
        }
        foreach (var o in observers.Values) o.Complete();
        await Task.WhenAll(watching);
        return 0;
    }
}
