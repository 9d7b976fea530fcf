using System.Diagnostics;

namespace FusionActors.Bench;

/// <summary>CPU time used so far by another process (a node or a raw peer): the cost of the far side of a remote measurement.</summary>
public static class ProcessCpu
{
    public static Func<TimeSpan> Of(int pid) => () =>
    {
        try
        {
            using var p = Process.GetProcessById(pid);
            return p.TotalProcessorTime;
        }
        catch (ArgumentException) { return TimeSpan.Zero; } // it has exited
        catch (InvalidOperationException) { return TimeSpan.Zero; }
    };
}
