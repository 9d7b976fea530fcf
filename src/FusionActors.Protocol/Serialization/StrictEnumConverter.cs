using System.Text.Json;
using System.Text.Json.Serialization;

namespace FusionActors.Protocol.Serialization;

/// <summary>
/// Enums on the wire by name, and only by the name of one defined value (case-insensitive, at most 64 characters):
/// no numbers, no comma-separated combinations (which <see cref="JsonStringEnumConverter"/> would OR into a value
/// the enum does not define), no undefined values written. As values and as dictionary keys.
/// </summary>
public sealed class StrictEnumConverterFactory : JsonConverterFactory
{
    public override bool CanConvert(Type typeToConvert) => typeToConvert.IsEnum;

    public override JsonConverter CreateConverter(Type typeToConvert, JsonSerializerOptions options) =>
        (JsonConverter)Activator.CreateInstance(typeof(StrictEnumConverter<>).MakeGenericType(typeToConvert))!;
}

/// <summary>One enum's converter of <see cref="StrictEnumConverterFactory"/>.</summary>
public sealed class StrictEnumConverter<T> : JsonConverter<T> where T : struct, Enum
{
    private const int MaxNameLength = 64;
    private static readonly Dictionary<string, T> ByName = Enum.GetValues<T>().ToDictionary(v => v.ToString(), v => v, StringComparer.OrdinalIgnoreCase);

    public override T Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        if (reader.TokenType != JsonTokenType.String)
            throw new JsonException($"{typeof(T).Name} must be a name, not {reader.TokenType}");
        return Parse(reader);
    }

    public override void Write(Utf8JsonWriter writer, T value, JsonSerializerOptions options) => writer.WriteStringValue(Name(value));

    public override T ReadAsPropertyName(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) => Parse(reader);

    public override void WriteAsPropertyName(Utf8JsonWriter writer, T value, JsonSerializerOptions options) => writer.WritePropertyName(Name(value));

    private static T Parse(Utf8JsonReader reader)
    {
        if (reader.ValueSpan.Length > MaxNameLength * 4 || reader.HasValueSequence)
            throw new JsonException($"a {typeof(T).Name} name is at most {MaxNameLength} characters");
        var name = reader.GetString();
        if (name is null || name.Length > MaxNameLength || !ByName.TryGetValue(name, out var value))
            throw new JsonException($"'{(name is null ? "null" : name[..Math.Min(name.Length, MaxNameLength)])}' is not a {typeof(T).Name}");
        return value;
    }

    private static string Name(T value) =>
        Enum.IsDefined(value) ? value.ToString() : throw new JsonException($"{Convert.ToInt64(value)} is not a defined {typeof(T).Name}");
}
