namespace FusionActors.Host.Commands;

/// <summary>A command line that could not be understood; printed with the usage and exit code 2.</summary>
public sealed class UsageException(string message) : Exception(message);

/// <summary>Minimal option parsing: <c>--name value</c> pairs and flags, with typed errors.</summary>
public sealed class Args
{
    private readonly Dictionary<string, string?> _options = new(StringComparer.Ordinal);

    public Args(IEnumerable<string> args, params string[] flags)
    {
        using var e = args.GetEnumerator();
        while (e.MoveNext())
        {
            var a = e.Current;
            if (!a.StartsWith("--", StringComparison.Ordinal)) throw new UsageException($"unexpected argument '{a}'");
            var name = a[2..];
            if (flags.Contains(name)) { _options[name] = null; continue; }
            if (!e.MoveNext()) throw new UsageException($"option --{name} needs a value");
            _options[name] = e.Current;
        }
    }

    public void AllowOnly(params string[] names)
    {
        foreach (var k in _options.Keys)
            if (!names.Contains(k)) throw new UsageException($"unknown option --{k}");
    }

    public bool Flag(string name) => _options.ContainsKey(name);

    public string? String(string name) => _options.GetValueOrDefault(name);

    public int Int(string name, int @default, int min = int.MinValue, int max = int.MaxValue)
    {
        if (!_options.TryGetValue(name, out var v) || v is null) return @default;
        if (!int.TryParse(v, out var n) || n < min || n > max)
            throw new UsageException($"--{name} must be an integer in [{min}, {max}], got '{v}'");
        return n;
    }
}
