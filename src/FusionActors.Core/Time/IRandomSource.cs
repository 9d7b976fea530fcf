namespace FusionActors.Core.Time;

/// <summary>Where jitter comes from: uniform samples in [0, 1). Injected so a spec can fix them.</summary>
public interface IRandomSource
{
    double NextDouble();
}

/// <summary>The process's shared generator (<see cref="Random.Shared"/>).</summary>
public sealed class SystemRandomSource : IRandomSource
{
    public static readonly SystemRandomSource Instance = new();

    private SystemRandomSource()
    {
    }

    public double NextDouble() => Random.Shared.NextDouble();
}
