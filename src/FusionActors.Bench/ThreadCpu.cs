namespace FusionActors.Bench;

/// <summary>
/// CPU time of this process's threads whose (OS) names start with a prefix, from /proc/self/task/*/schedstat
/// (nanoseconds on a CPU): the cost of one kind of work, such as the encoder threads, apart from the rest. Linux only;
/// elsewhere, and for threads that ended in between, it counts nothing.
/// </summary>
public static class ThreadCpu
{
    /// <summary>Nanoseconds of CPU so far, per thread id, of the threads whose names start with any of <paramref name="prefixes"/>.</summary>
    public static Dictionary<int, long> Sample(params string[] prefixes)
    {
        var result = new Dictionary<int, long>();
        if (!Directory.Exists("/proc/self/task")) return result;
        foreach (var dir in Directory.EnumerateDirectories("/proc/self/task"))
        {
            try
            {
                var name = File.ReadAllText(Path.Combine(dir, "comm")).Trim();
                if (!prefixes.Any(p => name.StartsWith(p, StringComparison.Ordinal))) continue;
                var ns = long.Parse(File.ReadAllText(Path.Combine(dir, "schedstat")).Split(' ')[0], System.Globalization.CultureInfo.InvariantCulture);
                result[int.Parse(Path.GetFileName(dir), System.Globalization.CultureInfo.InvariantCulture)] = ns;
            }
            catch (IOException) { } // the thread ended
            catch (UnauthorizedAccessException) { }
        }
        return result;
    }

    /// <summary>Seconds of CPU the matching threads used between two samples (threads new since the first count from zero).</summary>
    public static double SecondsBetween(Dictionary<int, long> before, Dictionary<int, long> after) =>
        after.Sum(kv => kv.Value - before.GetValueOrDefault(kv.Key)) / 1e9;

    /// <summary>The OS names of this process's threads (for finding the prefix of a pool).</summary>
    public static IEnumerable<string> Names() => !Directory.Exists("/proc/self/task") ? []
        : Directory.EnumerateDirectories("/proc/self/task").Select(d =>
        {
            try { return File.ReadAllText(Path.Combine(d, "comm")).Trim(); }
            catch (IOException) { return ""; }
        });
}
