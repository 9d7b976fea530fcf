using Akka.Configuration;
using FusionActors.Protocol.Serialization;

namespace FusionActors.Runtime.Hosting;

/// <summary>The embedded defaults (config/fusion.hocon) and layering of a file over them.</summary>
/// <remarks>
/// Configuration travels as HOCON text and is parsed afresh wherever it is needed: sharing one
/// <see cref="Config"/> instance between several fallback chains can make Akka's HOCON merge recurse forever.
/// </remarks>
public static class FusionConfig
{
    public const string EnvironmentVariable = "FUSION_CONFIG";

    /// <summary>The wire settings shared with clients (<see cref="WireConfig"/>), then the node's embedded defaults.</summary>
    public static string DefaultsText { get; } = WireConfig.Hocon + "\n" + LoadEmbedded();

    /// <summary>HOCON text of the defaults, overlaid by <paramref name="path"/> (or FUSION_CONFIG) when given.</summary>
    public static string LoadText(string? path = null)
    {
        path ??= Environment.GetEnvironmentVariable(EnvironmentVariable);
        if (string.IsNullOrWhiteSpace(path)) return DefaultsText;
        if (!File.Exists(path)) throw new FileNotFoundException($"configuration file '{path}' does not exist", path);
        // Later keys win in HOCON, so the file's values override the defaults they repeat.
        return DefaultsText + "\n" + File.ReadAllText(path);
    }

    public static Config Parse(string hocon) => ConfigurationFactory.ParseString(hocon);

    private static string LoadEmbedded()
    {
        using var stream = typeof(FusionConfig).Assembly.GetManifestResourceStream("FusionActors.fusion.hocon")
            ?? throw new InvalidOperationException("embedded fusion.hocon is missing from the assembly");
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd();
    }
}
