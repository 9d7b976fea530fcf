using System.CommandLine;
using System.Globalization;
using FusionActors.Client;
using FusionActors.Inference.Data;
using FusionActors.Scenarios;
using FusionActors.Scenarios.Faults;
using FusionActors.Scenarios.Push;
using FusionActors.Scenarios.Sessions;

namespace FusionActors.Host.Commands;

/// <summary><c>push</c>: <see cref="PushScenario"/>, a sensor client, from the command line.</summary>
public static class PushCommand
{
    public static Command Create()
    {
        var to = OptionValues.Text("--to", "HOST:PORT[,HOST:PORT...]", "required: HOST:PORT[,HOST:PORT...], the remoting addresses of nodes to contact");
        var session = OptionValues.Text("--session", "ID", "the session id, or the prefix of the ids of several (default push-MACHINE-PID)");
        var sessions = OptionValues.Int("--sessions", "sessions, each fed the same frames (default 1; 1-10000)");
        var dataset = OptionValues.Text("--dataset", "DIR", "an AV-Digits data set folder (default: the committed sample)");
        var seconds = OptionValues.Int("--seconds", "items played, one 1 s window each (default min(30, items of the data set))");
        var rate = OptionValues.Text("--rate", "X", "times real time, in (0, 1000] (default 1)");
        var faults = OptionValues.Text("--faults", "FAULTS", $"{SensorFaults.ClientFaultNames} (default none)");
        var token = OptionValues.Text("--token", "T", "the session token (default $FUSION_SESSION_TOKEN)");
        var hostname = OptionValues.Text("--hostname", "H", "the address nodes send results to (default $FUSION_CLIENT_HOSTNAME or 127.0.0.1)");
        var tlsCert = OptionValues.Text("--tls-cert", "PFX", "the client's certificate (PFX): remoting over TLS");
        var tlsPassword = OptionValues.Text("--tls-password", "P", "the password of --tls-cert");
        var tlsCa = OptionValues.Text("--tls-ca", "PEM", "PEM of the cluster's CA, to validate the nodes' certificates");
        var tlsInsecure = OptionValues.Flag("--tls-insecure", "development only: do not validate the nodes' certificates");
        var report = OptionValues.Text("--report", "PATH", "write the JSON report to this file");
        var quiet = OptionValues.Flag("--quiet", "no progress lines");
        var sessionFile = OptionValues.Text("--session-file", "FILE", "a session description file (config/sessions/*.json; default the built-in audio + image one); the nodes need its models");
        var command = new Command("push", "a sensor client: plays a data set as live sensors into sessions on a cluster, through the client library")
        {
            to, session, sessions, dataset, seconds, rate, faults, token, hostname, tlsCert, tlsPassword, tlsCa, tlsInsecure, report, quiet, sessionFile,
        };
        command.SetAction((parsed, cancel) =>
        {
            var contacts = parsed.GetValue(to) ?? throw new UsageException("--to HOST:PORT is required (a node's remoting address)");
            var description = parsed.GetValue(sessionFile) is { } file ? SessionDescription.Load(file) : null;
            var data = parsed.GetValue(dataset) is { } dir ? AvDigitsDataset.Load(dir) : AvDigitsDataset.LoadSample();
            var s = parsed.Get(seconds, Math.Min(30, data.Items.Count), 1, data.Items.Count);
            var count = parsed.Get(sessions, 1, 1, 10_000);
            var times = Rate(parsed.GetValue(rate));
            var faultNames = parsed.GetValue(faults) ?? "none";
            SensorFaults.Parse(faultNames, s); // a bad --faults is a usage error before anything connects
            var baseId = parsed.GetValue(session) ?? $"push-{Environment.MachineName.ToLowerInvariant()}-{Environment.ProcessId}";
            if (parsed.GetValue(tlsCert) is not null && parsed.GetValue(tlsCa) is null && !parsed.GetValue(tlsInsecure))
                throw new UsageException("--tls-cert needs --tls-ca PEM, the cluster's CA (or --tls-insecure, for development only)");
            var client = new FusionClientOptions
            {
                Contacts = OptionValues.List(contacts),
                Token = parsed.GetValue(token) ?? Environment.GetEnvironmentVariable("FUSION_SESSION_TOKEN"),
                // The address nodes send results to: loopback unless the client runs on another machine or container.
                Hostname = parsed.GetValue(hostname) ?? Environment.GetEnvironmentVariable("FUSION_CLIENT_HOSTNAME") ?? "127.0.0.1",
                Tls = parsed.GetValue(tlsCert) is { } cert
                    ? new ClientTls(cert, parsed.GetValue(tlsPassword), parsed.GetValue(tlsCa), parsed.GetValue(tlsInsecure))
                    : null,
            };
            return PushScenario.RunAsync(new PushOptions
            {
                To = contacts, Client = client, Dataset = data, Seconds = s, Sessions = count, Rate = times,
                Faults = faultNames, SessionId = baseId, Quiet = parsed.GetValue(quiet), Report = parsed.GetValue(report), Session = description,
            }, cancel);
        });
        return command;
    }

    private static double Rate(string? text)
    {
        if (text is null) return 1.0;
        if (!double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var r) || r is <= 0 or > 1000)
            throw new UsageException($"--rate must be a number in (0, 1000], got '{text}'");
        return r;
    }
}
