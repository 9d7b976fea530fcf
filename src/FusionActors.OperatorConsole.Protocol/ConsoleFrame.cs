using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace FusionActors.OperatorConsole.Protocol;

/// <summary>
/// What travels between fusionctl and a node's console host: one JSON object per line over TCP.
/// The client says Hello (with the token), the node answers Welcome (with its palettes) or Refused; then the
/// client sends Invoke frames and the node streams Response frames for each, the last one final.
/// </summary>
[JsonPolymorphic(TypeDiscriminatorPropertyName = "type")]
[JsonDerivedType(typeof(Hello), "hello")]
[JsonDerivedType(typeof(Welcome), "welcome")]
[JsonDerivedType(typeof(Refused), "refused")]
[JsonDerivedType(typeof(Invoke), "invoke")]
[JsonDerivedType(typeof(Cancel), "cancel")]
[JsonDerivedType(typeof(Response), "response")]
public abstract record ConsoleFrame
{
    public const int ProtocolVersion = 1;

    /// <summary>Frames longer than this are refused (a line-delimited protocol must bound its lines).</summary>
    public const int MaxLineChars = 1 << 20;

    public static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web)
    {
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
        Converters = { new JsonStringEnumConverter() },
    };

    public string ToLine() => JsonSerializer.Serialize(this, Json);

    public static ConsoleFrame Parse(string line) =>
        JsonSerializer.Deserialize<ConsoleFrame>(line, Json) ?? throw new JsonException("empty frame");

    /// <summary>Reads one frame; null at the end of the connection.</summary>
    public static async Task<ConsoleFrame?> ReadAsync(LineReader reader, CancellationToken cancel)
    {
        var line = await reader.ReadLineAsync(cancel);
        return line is null ? null : Parse(line);
    }

    public static UTF8Encoding Encoding { get; } = new(encoderShouldEmitUTF8Identifier: false);
}

/// <summary>First frame of a client. <see cref="Token"/> is checked when the node has one configured.</summary>
public sealed record Hello(string? Token, int Version = ConsoleFrame.ProtocolVersion) : ConsoleFrame;

/// <summary>The node accepted the client: who it is and the palettes it serves.</summary>
public sealed record Welcome(string Node, IReadOnlyList<CommandPalette> Palettes, int Version = ConsoleFrame.ProtocolVersion) : ConsoleFrame;

/// <summary>The node refused the client (bad token, bad hello); it closes the connection after this.</summary>
public sealed record Refused(string Reason) : ConsoleFrame;

/// <summary>Runs <c>palette command args...</c> as typed; <see cref="Id"/> tags the responses.</summary>
public sealed record Invoke(int Id, IReadOnlyList<string> Words) : ConsoleFrame;

/// <summary>Stops a running invocation (Ctrl+C on a watch); it ends with a final response.</summary>
public sealed record Cancel(int Id) : ConsoleFrame;

public sealed record Response(int Id, CommandResponse Body) : ConsoleFrame;
