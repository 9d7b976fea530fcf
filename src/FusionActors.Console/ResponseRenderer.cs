using System.Text.Json;
using System.Text.Json.Nodes;
using Spectre.Console;
using Spectre.Console.Rendering;
using FusionActors.OperatorConsole.Protocol;

namespace FusionActors.Fusionctl;

/// <summary>Prints responses: Spectre.Console tables and lines, or one JSON document per response with --json.</summary>
public sealed class ResponseRenderer
{
    private static readonly JsonSerializerOptions Compact = new(ConsoleFrame.Json) { WriteIndented = false };
    private readonly IAnsiConsole _console;
    private readonly TextWriter _out;
    private readonly TextWriter _error;
    private readonly bool _json;

    public ResponseRenderer(TextWriter output, TextWriter error, bool json, bool terminal)
    {
        _out = output;
        _error = error;
        _json = json;
        _console = AnsiConsole.Create(new AnsiConsoleSettings
        {
            Out = new AnsiConsoleOutput(output),
            Ansi = terminal ? AnsiSupport.Detect : AnsiSupport.No,
            ColorSystem = terminal ? ColorSystemSupport.Detect : ColorSystemSupport.NoColors,
            Interactive = terminal ? InteractionSupport.Detect : InteractionSupport.No,
        });
        // Redirected output has no width; wide tables must not wrap cell by cell in a log or a pipe.
        if (!terminal) _console.Profile.Width = 400;
    }

    public void Render(CommandResponse response)
    {
        if (response.Error != ResponseError.None)
        {
            _error.WriteLine($"error: {response.Text}");
            return;
        }
        if (_json)
        {
            var node = response.Data?.DeepClone() ?? (JsonNode?)response.Table?.ToJson();
            if (node is null && response.Text is not null) node = new JsonObject { ["text"] = response.Text };
            if (node is not null) _out.WriteLine(node.ToJsonString(Compact));
            return;
        }
        if (response.Text is not null) _console.WriteLine(response.Text);
        if (response.Table is { } t) _console.Write(Table(t));
        _out.Flush();
    }

    public void Line(string text) => _console.WriteLine(text);

    public void Help(IReadOnlyList<CommandPalette> palettes, string? only = null)
    {
        foreach (var p in palettes.Where(p => only is null || p.ModuleName.Equals(only, StringComparison.OrdinalIgnoreCase)))
        {
            _console.WriteLine($"{p.ModuleName}  — {p.Description}");
            foreach (var c in p.Commands) _console.WriteLine($"  {c.Usage(p.ModuleName).Replace("  ", " "),-48} {c.Description}");
        }
    }

    private static Table Table(ConsoleTable t)
    {
        var table = new Table().Border(TableBorder.Rounded);
        if (t.Title is not null) table.Title(new TableTitle(Markup.Escape(t.Title)));
        foreach (var c in t.Columns) table.AddColumn(new TableColumn(new Text(c)));
        foreach (var row in t.Rows) table.AddRow(row.Select(IRenderable (c) => new Text(c)).ToArray());
        return table;
    }
}
