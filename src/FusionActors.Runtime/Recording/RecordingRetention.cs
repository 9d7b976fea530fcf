namespace FusionActors.Runtime.Recording;

/// <summary>
/// Retention of a recording directory: recordings whose last write is older than the maximum age go, then the oldest
/// go first until the rest fit the total size. Files still being written are counted but never deleted.
/// </summary>
public static class RecordingRetention
{
    /// <summary>Enforces the bounds once; returns the files deleted, oldest first.</summary>
    public static IReadOnlyList<string> Enforce(string directory, TimeSpan maxAge, long maxTotalBytes, DateTime nowUtc, IReadOnlySet<string>? open = null)
    {
        if (!Directory.Exists(directory)) return [];
        var files = new DirectoryInfo(directory).EnumerateFiles("*" + RecordingFile.Extension)
            .Select(f => (File: f, Written: f.LastWriteTimeUtc, f.Length))
            .OrderBy(f => f.Written).ThenBy(f => f.File.Name, StringComparer.Ordinal)
            .ToList();
        var deleted = new List<string>();
        var total = files.Sum(f => f.Length);
        foreach (var (file, written, length) in files)
        {
            if (open?.Contains(file.FullName) == true) continue;
            if (nowUtc - written <= maxAge && total <= maxTotalBytes) continue;
            try
            {
                file.Delete();
                deleted.Add(file.FullName);
                total -= length;
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                // Gone already, or not ours to delete: the next run tries again.
            }
        }
        return deleted;
    }
}
