using System.CommandLine;
using FusionActors.Soak;

// chaos-soak: prints progress, then the JSON summary; exit 1 when a check failed, 2 for a command line it does not understand.
var minutes = new Option<double>("--minutes") { Description = "how long the sensors push, in minutes (1-1440)", DefaultValueFactory = _ => new SoakRunner.Options().Minutes, HelpName = "N" };
minutes.Validators.Add(r =>
{
    if (r.GetValueOrDefault<double>() is < 1 or > 24 * 60) r.AddError("--minutes must be in [1, 1440]");
});
var seed = new Option<int>("--seed") { Description = "the seed of the fault schedule", DefaultValueFactory = _ => new SoakRunner.Options().Seed, HelpName = "N" };
var sessions = new Option<int>("--sessions") { Description = "push lanes (1-64)", DefaultValueFactory = _ => new SoakRunner.Options().Sessions, HelpName = "N" };
sessions.Validators.Add(r =>
{
    if (r.GetValueOrDefault<int>() is < 1 or > 64) r.AddError("--sessions must be in [1, 64]");
});
var report = new Option<string?>("--report") { Description = "write the JSON summary to this file", HelpName = "PATH" };
var logs = new Option<string?>("--logs") { Description = "where node, push and client logs go (default: artifacts/soak)", HelpName = "DIR" };
var root = new RootCommand("The chaos soak: three node processes and push sessions on loopback, with seeded kills, pauses and partitions")
{
    minutes, seed, sessions, report, logs,
};
root.SetAction(async (parsed, cancel) =>
{
    var stdout = Console.Out;
    var o = new SoakRunner.Options
    {
        Minutes = parsed.GetValue(minutes), Seed = parsed.GetValue(seed), Sessions = parsed.GetValue(sessions), Progress = stdout.WriteLine,
    };
    if (parsed.GetValue(logs) is { } dir) o = o with { LogDir = Path.GetFullPath(dir) };
    // The soak's own clients (membership, probe) log remoting warnings to the console: they go to a file, progress to stdout.
    Directory.CreateDirectory(o.LogDir);
    await using var clientLog = new StreamWriter(Path.Combine(o.LogDir, "soak-clients.log")) { AutoFlush = true };
    Console.SetOut(TextWriter.Synchronized(clientLog));
    var summary = await SoakRunner.RunAsync(o, cancel);
    var json = summary.ToJson();
    stdout.WriteLine(json);
    if (parsed.GetValue(report) is { } path)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
        await File.WriteAllTextAsync(path, json, cancel);
        stdout.WriteLine($"report written to {path}");
    }
    return summary.Passed ? 0 : 1;
});
var parsedArgs = root.Parse(args, new ParserConfiguration { ResponseFileTokenReplacer = null });
if (parsedArgs.Errors.Count > 0)
{
    foreach (var e in parsedArgs.Errors) Console.Error.WriteLine($"error: {e.Message}");
    Console.Error.WriteLine("--help lists the options");
    return 2;
}
return await parsedArgs.InvokeAsync();
