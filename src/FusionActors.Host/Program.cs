using FusionActors.Host.Commands;
using FusionActors.Core.Specs;
using FusionActors.Protocol.Specs;

namespace FusionActors.Host;

public static class Program
{
    private const string Usage = """
        usage: FusionActors.Host <command> [options]
          demo   run a one-node server and play the AV-Digits sample as live sensors with faults
                 [--seconds N] [--report PATH] [--config PATH] [--dataset DIR] [--seed N] [--quiet] [--verbose]
          bench  measure the actor path, encoders, latency and memory  [--report PATH] [--quick]
          bench-remote  SinkRef frames/s from a remote client into a node process vs raw remote Tells  [--report PATH] [--quick] [--frames N] [--sessions N] [--replay-log N] [--batch N]
          node   run a server node until Ctrl+C/SIGTERM  [--config PATH] [--hostname H] [--port P] [--seeds host:port,...] [--roles r1,r2]
          push   a sensor client: plays a data set as live sensors into sessions on a cluster, through the client library
                 --to HOST:PORT[,...] [--session ID] [--sessions N] [--dataset DIR] [--seconds N] [--rate X]
                 [--faults none|demo|outage,noise,jitter,crash,bad] [--token T] [--hostname H] [--tls-cert PFX --tls-password P --tls-ca PEM] [--report PATH] [--quiet]
          failover-demo  three node processes, a session pushed through the client, its node killed: no loss?
                 [--seconds N] [--kill-at S] [--dataset DIR] [--jitter] [--report PATH] [--logs DIR]
          eval   fault matrix x policies through the real pipeline  [--dataset DIR] [--report PATH] [--plots DIR] [--conditions a,b,...] [--items N] [--val DIR] [--tune-fixed]
        """;

    public static async Task<int> Main(string[] argv)
    {
        using var cts = new CancellationTokenSource();
        System.Console.CancelKeyPress += (_, e) => { e.Cancel = true; cts.Cancel(); };
        if (argv.Length == 0 || argv[0] is "-h" or "--help" or "help")
        {
            System.Console.WriteLine(Usage);
            return argv.Length == 0 ? 2 : 0;
        }
        try
        {
            var rest = argv.Skip(1);
            return argv[0] switch
            {
                "demo" => await DemoCommand.RunAsync(new Args(rest, "quiet", "verbose"), cts.Token),
                "bench" => await BenchCommand.RunAsync(new Args(rest, "quick"), cts.Token),
                "bench-remote" => await BenchRemoteCommand.RunAsync(new Args(rest, "quick", "raw-peer"), cts.Token),
                "node" => await NodeCommand.RunAsync(new Args(rest), cts.Token),
                "push" => await PushCommand.RunAsync(new Args(rest, "quiet", "tls-insecure"), cts.Token),
                "failover-demo" => await FailoverCommand.RunAsync(new Args(rest, "jitter"), cts.Token),
                "eval" => await EvalCommand.RunAsync(new Args(rest, "tune-fixed", "quiet"), cts.Token),
                _ => throw new UsageException($"unknown command '{argv[0]}'"),
            };
        }
        catch (UsageException e)
        {
            System.Console.Error.WriteLine($"error: {e.Message}");
            System.Console.Error.WriteLine(Usage);
            return 2;
        }
        catch (Exception e) when (e is SpecException or FileNotFoundException or DirectoryNotFoundException or InvalidDataException)
        {
            System.Console.Error.WriteLine($"error: {e.Message}");
            return 1;
        }
        catch (OperationCanceledException)
        {
            System.Console.Error.WriteLine("cancelled");
            return 130;
        }
    }
}
