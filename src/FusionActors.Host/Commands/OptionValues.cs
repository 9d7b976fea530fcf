using System.CommandLine;
using FusionActors.Scenarios;

namespace FusionActors.Host.Commands;

/// <summary>Typed option values with the range checks the commands share; a value out of range is a usage error.</summary>
public static class OptionValues
{
    public static Option<int?> Int(string name, string description) => new(name) { Description = description, HelpName = "N" };

    /// <param name="helpName">What the value is, in the help: PATH, DIR, HOST:PORT...</param>
    public static Option<string?> Text(string name, string helpName, string description) => new(name) { Description = description, HelpName = helpName };

    public static Option<bool> Flag(string name, string description) => new(name) { Description = description };

    /// <summary>The option's value, or <paramref name="default"/> when it is not given; it must lie in [min, max].</summary>
    public static int Get(this ParseResult parsed, Option<int?> option, int @default, int min = int.MinValue, int max = int.MaxValue)
    {
        if (parsed.GetValue(option) is not { } n) return @default;
        if (n < min || n > max)
            throw new UsageException($"{option.Name} must be an integer in [{min}, {max}], got '{Raw(parsed, option)}'");
        return n;
    }

    /// <summary>Whether the option was given on the command line.</summary>
    public static bool Given(this ParseResult parsed, Option option) => parsed.GetResult(option) is { Implicit: false };

    /// <summary>The option's value as typed, or null when it was not given.</summary>
    public static string? Raw(this ParseResult parsed, Option option) =>
        parsed.GetResult(option) is { Implicit: false } r ? string.Join(' ', r.Tokens.Select(t => t.Value)) : null;

    /// <summary>A comma list, without empty entries.</summary>
    public static string[] List(string text) => text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
}
