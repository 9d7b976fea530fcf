namespace FusionActors.Inference;

/// <summary>Finds files committed to the repository (models, samples) from wherever the process runs.</summary>
internal static class RepositoryFiles
{
    /// <summary>Walks up from the current directory, then from the app's base directory, for <paramref name="relative"/>.</summary>
    public static string Find(string relative, bool isDirectory)
    {
        var starts = new[] { Directory.GetCurrentDirectory(), AppContext.BaseDirectory }.Distinct().ToArray();
        foreach (var start in starts)
        {
            for (var dir = new DirectoryInfo(start); dir is not null; dir = dir.Parent)
            {
                var candidate = Path.Combine(dir.FullName, relative);
                if (isDirectory ? Directory.Exists(candidate) : File.Exists(candidate))
                    return candidate;
            }
        }

        throw new FileNotFoundException(
            $"'{relative}' not found in {string.Join(" or ", starts)} or any parent directory", relative);
    }
}
