using System.Globalization;
using FusionActors.OperatorConsole.Protocol;

namespace FusionActors.Runtime.OperatorConsole;

/// <summary>Finds the palette and command of typed words and checks the arguments; every refusal says what was expected.</summary>
public static class CommandBinder
{
    public sealed record Bound(CommandPaletteHandler Handler, Command Command);

    /// <summary>The bound command, or the usage error to send back.</summary>
    public static (Bound? Bound, string? Error) Bind(IReadOnlyList<CommandPaletteHandler> handlers, IReadOnlyList<string> words)
    {
        var palettes = string.Join(", ", handlers.Select(h => h.Palette.ModuleName));
        if (words.Count == 0) return (null, $"no command given; palettes: {palettes}");
        var handler = handlers.FirstOrDefault(h => h.Palette.ModuleName.Equals(words[0], StringComparison.OrdinalIgnoreCase));
        if (handler is null) return (null, $"unknown command '{words[0]}'; palettes: {palettes}");
        var palette = handler.Palette;
        var commands = string.Join(", ", palette.Commands.Select(c => c.Name));

        // A palette with one unnamed command (watch, metrics) takes its arguments right after its name.
        CommandDefinition? definition;
        int first;
        if (palette.Commands is [{ Name: "" } only])
        {
            definition = only;
            first = 1;
        }
        else
        {
            if (words.Count < 2) return (null, $"'{palette.ModuleName}' needs a command: {commands}");
            definition = palette.Find(words[1]);
            if (definition is null) return (null, $"unknown command '{palette.ModuleName} {words[1]}'; '{palette.ModuleName}' has: {commands}");
            first = 2;
        }

        var usage = $"usage: {definition.Usage(palette.ModuleName)}".Replace("  ", " ");
        var given = words.Skip(first).ToList();
        if (given.Count > definition.Arguments.Count)
            return (null, $"too many arguments ({string.Join(' ', given.Skip(definition.Arguments.Count))}); {usage}");
        var values = new Dictionary<string, string>();
        for (var i = 0; i < definition.Arguments.Count; i++)
        {
            var arg = definition.Arguments[i];
            if (i >= given.Count)
            {
                if (arg.Required) return (null, $"missing argument {arg.Name.ToUpperInvariant()} ({arg.Description}); {usage}");
                if (arg.Default is not null) values[arg.Name] = arg.Default;
                continue;
            }
            var problem = Check(arg, given[i]);
            if (problem is not null) return (null, $"bad argument {arg.Name.ToUpperInvariant()}: {problem}; {usage}");
            values[arg.Name] = given[i];
        }
        return (new Bound(handler, new Command(palette.ModuleName, definition.Name, values)), null);
    }

    private static string? Check(CommandArgument arg, string value) => arg.Type switch
    {
        ArgumentType.Integer when !long.TryParse(value, NumberStyles.Integer, CultureInfo.InvariantCulture, out _) =>
            $"'{value}' is not an integer",
        ArgumentType.Number when !double.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out var d) || !double.IsFinite(d) =>
            $"'{value}' is not a number",
        ArgumentType.Choice when arg.Choices is { } choices && !choices.Any(c => Matches(c, value)) =>
            $"'{value}' is not one of {string.Join(", ", choices)}",
        ArgumentType.Text when string.IsNullOrWhiteSpace(value) => "empty",
        _ => null,
    };

    /// <summary>A choice ending in ':' is a prefix (single: takes a modality).</summary>
    private static bool Matches(string choice, string value) =>
        choice.EndsWith(':') ? value.StartsWith(choice, StringComparison.OrdinalIgnoreCase) && value.Length > choice.Length
            : choice.Equals(value, StringComparison.OrdinalIgnoreCase);
}
