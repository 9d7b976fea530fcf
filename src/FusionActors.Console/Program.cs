namespace FusionActors.Fusionctl;

public static class Program
{
    public static async Task<int> Main(string[] args)
    {
        var interrupt = new Interrupt();
        // Ctrl+C stops the running command (a watch), not the process: the client cancels it on the node first.
        System.Console.CancelKeyPress += (_, e) =>
        {
            e.Cancel = true;
            interrupt.Fire();
        };
        return await FusionCtl.RunAsync(args, System.Console.Out, System.Console.Error, interrupt, System.Console.IsInputRedirected ? System.Console.In : null);
    }
}
