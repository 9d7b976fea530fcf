using System.Text.Json.Serialization;

namespace FusionActors.OperatorConsole.Protocol;

// The palette model, shaped like Petabridge.Cmd's (CommandPalette, CommandDefinition, CommandArgument) so an
// adapter to pbm is a mapping, not a rewrite. These are plain data: the server registers them and sends them
// to fusionctl on connect, which completes and documents commands from them.

/// <summary>What an argument's text must parse as.</summary>
[JsonConverter(typeof(JsonStringEnumConverter<ArgumentType>))]
public enum ArgumentType
{
    Text,
    Integer,
    /// <summary>A number (seconds, ratios); invariant culture.</summary>
    Number,
    /// <summary>One of <see cref="CommandArgument.Choices"/>.</summary>
    Choice,
}

/// <summary>A positional argument. Optional arguments come after the required ones.</summary>
public sealed record CommandArgument(
    string Name,
    string Description,
    ArgumentType Type = ArgumentType.Text,
    bool Required = true,
    string? Default = null,
    IReadOnlyList<string>? Choices = null)
{
    public override string ToString() => Required ? Name.ToUpperInvariant() : $"[{Name.ToUpperInvariant()}]";
}

/// <summary>One command of a palette, e.g. <c>show</c> of <c>sessions</c>.</summary>
public sealed record CommandDefinition(string Name, string Description, IReadOnlyList<CommandArgument> Arguments)
{
    public string Usage(string palette) =>
        string.Join(' ', new[] { palette, Name }.Concat(Arguments.Select(a => a.ToString())));
}

/// <summary>A registered set of commands under one name (pbm's module), e.g. <c>sessions</c>.</summary>
public sealed record CommandPalette(string ModuleName, string Description, IReadOnlyList<CommandDefinition> Commands)
{
    public CommandDefinition? Find(string name) =>
        Commands.FirstOrDefault(c => c.Name.Equals(name, StringComparison.OrdinalIgnoreCase));
}
