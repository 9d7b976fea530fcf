namespace FusionActors.Host.Commands;

public static class BenchCommand
{
    public static Task<int> RunAsync(Args args, CancellationToken cancel) =>
        throw new UsageException("bench is being written; see README");
}
