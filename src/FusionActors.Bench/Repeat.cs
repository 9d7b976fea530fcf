namespace FusionActors.Bench;

/// <summary>Runs a measurement several times and keeps the run with the median value (the same rule on both sides of a ratio).</summary>
public static class Repeat
{
    public static async Task<(T Median, IReadOnlyList<T> Runs)> MedianAsync<T>(int times, Func<Task<T>> run, Func<T, double> value)
    {
        var runs = new List<T>();
        for (var i = 0; i < times; i++) runs.Add(await run());
        var sorted = runs.OrderBy(value).ToList();
        return (sorted[(sorted.Count - 1) / 2], runs);
    }

    public static T MedianOf<T>(IReadOnlyList<T> runs, Func<T, double> value) => runs.OrderBy(value).ElementAt((runs.Count - 1) / 2);

    public static (T Median, IReadOnlyList<T> Runs) Median<T>(int times, Func<T> run, Func<T, double> value)
    {
        var runs = new List<T>();
        for (var i = 0; i < times; i++) runs.Add(run());
        var sorted = runs.OrderBy(value).ToList();
        return (sorted[(sorted.Count - 1) / 2], runs);
    }
}
