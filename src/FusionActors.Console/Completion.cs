using FusionActors.OperatorConsole.Protocol;

namespace FusionActors.Fusionctl;

/// <summary>Tab completion of the interactive prompt from the palettes the node sent on connect.</summary>
public sealed class Completion(IReadOnlyList<CommandPalette> palettes)
{
    public static readonly string[] BuiltIns = ["help", "exit"];

    /// <summary>Candidates for the last (partial) word of <paramref name="line"/>; <paramref name="dynamic"/> supplies values such as session ids.</summary>
    public IReadOnlyList<string> Candidates(string line, Func<CommandArgument, IEnumerable<string>>? dynamic = null)
    {
        var words = CommandWords.Split(line);
        if (line.Length == 0 || char.IsWhiteSpace(line[^1])) words.Add("");
        var prefix = words[^1];
        IEnumerable<string> options;
        if (words.Count == 1) options = palettes.Select(p => p.ModuleName).Concat(BuiltIns);
        else if (words[0] == "help" && words.Count == 2) options = palettes.Select(p => p.ModuleName);
        else
        {
            var palette = palettes.FirstOrDefault(p => p.ModuleName.Equals(words[0], StringComparison.OrdinalIgnoreCase));
            if (palette is null) return [];
            CommandDefinition? command;
            int argIndex;
            if (palette.Commands is [{ Name: "" } only])
            {
                command = only;
                argIndex = words.Count - 2;
            }
            else if (words.Count == 2)
            {
                options = palette.Commands.Select(c => c.Name);
                return Filter(options, prefix);
            }
            else
            {
                command = palette.Find(words[1]);
                argIndex = words.Count - 3;
            }
            if (command is null || argIndex < 0 || argIndex >= command.Arguments.Count) return [];
            var arg = command.Arguments[argIndex];
            options = arg.Choices ?? dynamic?.Invoke(arg) ?? [];
        }
        return Filter(options, prefix);
    }

    /// <summary>The longest common prefix of the candidates (what Tab inserts when several match).</summary>
    public static string CommonPrefix(IReadOnlyList<string> candidates)
    {
        if (candidates.Count == 0) return "";
        var prefix = candidates[0];
        foreach (var c in candidates.Skip(1))
        {
            var n = 0;
            while (n < prefix.Length && n < c.Length && char.ToLowerInvariant(prefix[n]) == char.ToLowerInvariant(c[n])) n++;
            prefix = prefix[..n];
        }
        return prefix;
    }

    private static IReadOnlyList<string> Filter(IEnumerable<string> options, string prefix) =>
        options.Where(o => o.StartsWith(prefix, StringComparison.OrdinalIgnoreCase)).Distinct().OrderBy(o => o, StringComparer.Ordinal).ToArray();
}
