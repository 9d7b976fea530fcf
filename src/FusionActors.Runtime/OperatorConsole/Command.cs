using System.Globalization;

namespace FusionActors.Runtime.OperatorConsole;

/// <summary>An invocation whose arguments were checked against its <see cref="Wire.CommandDefinition"/>: values by argument name.</summary>
public sealed record Command(string Palette, string Name, IReadOnlyDictionary<string, string> Arguments)
{
    public string Arg(string name) => Arguments.TryGetValue(name, out var v) ? v : throw new KeyNotFoundException($"argument '{name}' was not bound");

    public string? Optional(string name) => Arguments.GetValueOrDefault(name);

    public long Integer(string name) => long.Parse(Arg(name), CultureInfo.InvariantCulture);

    public double Number(string name) => double.Parse(Arg(name), NumberStyles.Float, CultureInfo.InvariantCulture);

    public override string ToString() => $"{Palette} {Name} {string.Join(' ', Arguments.Values)}".TrimEnd();
}
