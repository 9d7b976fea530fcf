using System.Globalization;
using FusionActors.Soak;

// chaos-soak [--minutes N] [--seed N] [--sessions N] [--report PATH] [--logs DIR]: prints progress, then the JSON summary; exit 1 when a check failed.
const string usage = "chaos-soak [--minutes N] [--seed N] [--sessions N] [--report PATH] [--logs DIR]";
var stdout = Console.Out;
var o = new SoakRunner.Options { Progress = stdout.WriteLine };
string? reportPath = null;
for (var i = 0; i < args.Length; i++)
{
    string Value() => i + 1 < args.Length ? args[++i] : throw new ArgumentException($"option {args[i]} needs a value");
    try
    {
        switch (args[i])
        {
            case "--minutes": o = o with { Minutes = double.Parse(Value(), CultureInfo.InvariantCulture) }; break;
            case "--seed": o = o with { Seed = int.Parse(Value(), CultureInfo.InvariantCulture) }; break;
            case "--sessions": o = o with { Sessions = int.Parse(Value(), CultureInfo.InvariantCulture) }; break;
            case "--report": reportPath = Value(); break;
            case "--logs": o = o with { LogDir = Path.GetFullPath(Value()) }; break;
            case "-h" or "--help": Console.WriteLine(usage); return 0;
            default: throw new ArgumentException($"unknown option '{args[i]}'");
        }
    }
    catch (Exception e) when (e is ArgumentException or FormatException or OverflowException)
    {
        Console.Error.WriteLine($"error: {e.Message}\n{usage}");
        return 2;
    }
}
if (o.Minutes is < 1 or > 24 * 60 || o.Sessions is < 1 or > 64)
{
    Console.Error.WriteLine($"error: --minutes must be in [1, 1440] and --sessions in [1, 64]\n{usage}");
    return 2;
}
// The soak's own clients (membership, probe) log remoting warnings to the console: they go to a file, progress to stdout.
Directory.CreateDirectory(o.LogDir);
await using var clientLog = new StreamWriter(Path.Combine(o.LogDir, "soak-clients.log")) { AutoFlush = true };
Console.SetOut(TextWriter.Synchronized(clientLog));
using var cts = new CancellationTokenSource();
Console.CancelKeyPress += (_, e) =>
{
    e.Cancel = true;
    cts.Cancel();
};
var report = await SoakRunner.RunAsync(o, cts.Token);
var json = report.ToJson();
stdout.WriteLine(json);
if (reportPath is not null)
{
    Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(reportPath))!);
    await File.WriteAllTextAsync(reportPath, json);
    stdout.WriteLine($"report written to {reportPath}");
}
return report.Passed ? 0 : 1;
