using FusionActors.OperatorConsole.Protocol;

namespace FusionActors.Fusionctl;

/// <summary>
/// The prompt's line editor on a terminal: typing, Backspace, Up/Down history, Tab completion (one match is
/// inserted, several are listed), Ctrl+C clears the line (on an empty line: exit), Ctrl+D on an empty line: exit.
/// </summary>
public sealed class LineEditor(Completion completion, Func<CommandArgument, IEnumerable<string>> dynamic)
{
    private readonly List<string> _history = [];

    public string? ReadLine(string prompt)
    {
        var treatCtrlC = System.Console.TreatControlCAsInput;
        System.Console.TreatControlCAsInput = true;
        try
        {
            System.Console.Write(prompt);
            var line = "";
            var historyIndex = _history.Count;
            while (true)
            {
                var key = System.Console.ReadKey(intercept: true);
                switch (key.Key)
                {
                    case ConsoleKey.Enter:
                        System.Console.WriteLine();
                        if (line.Trim().Length > 0) _history.Add(line);
                        return line;
                    case ConsoleKey.Backspace:
                        if (line.Length > 0)
                        {
                            line = line[..^1];
                            System.Console.Write("\b \b");
                        }
                        break;
                    case ConsoleKey.Tab:
                        line = Complete(prompt, line);
                        break;
                    case ConsoleKey.UpArrow when historyIndex > 0:
                        line = Replace(line, _history[--historyIndex]);
                        break;
                    case ConsoleKey.DownArrow when historyIndex < _history.Count:
                        historyIndex++;
                        line = Replace(line, historyIndex == _history.Count ? "" : _history[historyIndex]);
                        break;
                    default:
                        if (key.Modifiers.HasFlag(ConsoleModifiers.Control) && key.Key is ConsoleKey.C or ConsoleKey.D)
                        {
                            System.Console.WriteLine();
                            if (line.Length == 0) return null;
                            line = "";
                            System.Console.Write(prompt);
                        }
                        else if (!char.IsControl(key.KeyChar))
                        {
                            line += key.KeyChar;
                            System.Console.Write(key.KeyChar);
                        }
                        break;
                }
            }
        }
        finally { System.Console.TreatControlCAsInput = treatCtrlC; }
    }

    private string Complete(string prompt, string line)
    {
        var candidates = completion.Candidates(line, dynamic);
        if (candidates.Count == 0) return line;
        var start = line.Length - (line.Length == 0 || char.IsWhiteSpace(line[^1]) ? 0 : CommandWords.Split(line)[^1].Length);
        if (candidates.Count == 1)
            return Replace(line, line[..start] + candidates[0] + (candidates[0].EndsWith(':') ? "" : " "));
        var common = Completion.CommonPrefix(candidates);
        System.Console.WriteLine();
        System.Console.WriteLine(string.Join("  ", candidates));
        System.Console.Write(prompt + line);
        return common.Length > line.Length - start ? Replace(line, line[..start] + common) : line;
    }

    private static string Replace(string old, string now)
    {
        System.Console.Write(new string('\b', old.Length) + new string(' ', old.Length) + new string('\b', old.Length) + now);
        return now;
    }
}
