using System.CommandLine;
using FusionActors.Inference.Data;
using FusionActors.Scenarios.Demo;
using FusionActors.Scenarios.Sessions;

namespace FusionActors.Host.Commands;

/// <summary><c>demo</c>: <see cref="DemoScenario"/> from the command line.</summary>
public static class DemoCommand
{
    public static Command Create()
    {
        var seconds = OptionValues.Int("--seconds", "items played, one 1 s window each (default min(30, items of the data set); at least 5)");
        var report = OptionValues.Text("--report", "PATH", "write the JSON report to this file");
        var config = OptionValues.Text("--config", "PATH", "the node's configuration file, over the built-in defaults (default: $FUSION_CONFIG, else the defaults alone)");
        var dataset = OptionValues.Text("--dataset", "DIR", "an AV-Digits data set folder (default: the committed sample)");
        var seed = OptionValues.Int("--seed", "the seed of the faults' randomness (default 7)");
        var quiet = OptionValues.Flag("--quiet", "no line per fused result");
        var verbose = OptionValues.Flag("--verbose", "Akka's info logs too");
        var record = OptionValues.Text("--record", "DIR", "record the demo's sessions into this folder (replay them with 'replay FILE')");
        var sessionFile = OptionValues.Text("--session", "FILE", "a session description file (config/sessions/*.json; default the built-in audio + image one)");
        sessionFile.Aliases.Add("--session-file");
        var command = new Command("demo", "run a one-node server and play the AV-Digits sample as live sensors with faults")
        {
            seconds, report, config, dataset, seed, quiet, verbose, record, sessionFile,
        };
        command.SetAction((parsed, cancel) =>
        {
            var data = parsed.GetValue(dataset) is { } dir ? AvDigitsDataset.Load(dir) : AvDigitsDataset.LoadSample();
            return DemoScenario.RunAsync(new DemoOptions
            {
                Dataset = data,
                Seconds = parsed.Get(seconds, Math.Min(30, data.Items.Count), 5, data.Items.Count),
                Quiet = parsed.GetValue(quiet),
                Seed = parsed.Get(seed, 7),
                Config = parsed.GetValue(config),
                Verbose = parsed.GetValue(verbose),
                Report = parsed.GetValue(report),
                Record = parsed.GetValue(record),
                Session = parsed.GetValue(sessionFile) is { } file ? SessionDescription.Load(file) : null,
            }, cancel);
        });
        return command;
    }
}
