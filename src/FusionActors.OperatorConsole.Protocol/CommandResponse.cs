using System.Text.Json.Nodes;
using System.Text.Json.Serialization;

namespace FusionActors.OperatorConsole.Protocol;

[JsonConverter(typeof(JsonStringEnumConverter<ResponseError>))]
public enum ResponseError
{
    None,
    /// <summary>Unknown command or bad arguments: fusionctl exits 2.</summary>
    Usage,
    /// <summary>The command ran and failed (session not open, refused, timed out): fusionctl exits 1.</summary>
    Failed,
    /// <summary>
    /// The node refused to start the invocation and nothing ran (its id is already running on the connection,
    /// or the connection has too many running): fusionctl exits 1.
    /// </summary>
    Refused,
}

/// <summary>Rows for the client to render as a table (or as JSON objects with --json).</summary>
public sealed record ConsoleTable(string? Title, IReadOnlyList<string> Columns, IReadOnlyList<IReadOnlyList<string>> Rows)
{
    /// <summary>The rows as objects keyed by column, for --json when no richer data came along.</summary>
    public JsonArray ToJson()
    {
        var array = new JsonArray();
        foreach (var row in Rows)
        {
            var o = new JsonObject();
            for (var i = 0; i < Columns.Count && i < row.Count; i++) o[Columns[i]] = row[i];
            array.Add(o);
        }
        return array;
    }
}

/// <summary>
/// One piece of a command's streamed output (pbm's CommandResponse(msg, final)): a line of text and/or a
/// table, with the structured <see cref="Data"/> behind it for scripts. The last piece has <see cref="Final"/>.
/// </summary>
public sealed record CommandResponse(string? Text, bool Final = true)
{
    public ConsoleTable? Table { get; init; }
    public JsonNode? Data { get; init; }
    public ResponseError Error { get; init; }

    public static CommandResponse Line(string text) => new(text, Final: false);
    public static CommandResponse Done(string? text = null) => new(text, Final: true);
    public static CommandResponse Failure(string text) => new(text, Final: true) { Error = ResponseError.Failed };
    public static CommandResponse Refusal(string text) => new(text, Final: true) { Error = ResponseError.Refused };
    public static CommandResponse UsageError(string text) => new(text, Final: true) { Error = ResponseError.Usage };
}
