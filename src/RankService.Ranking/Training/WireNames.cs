using System.Collections.Concurrent;
using System.Reflection;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace RankService.Ranking.Training;

/// <summary>
/// The wire spelling of the training-option enums (<c>"ndcg-loss2++"</c>, <c>"semi-hard"</c>), read from their
/// <see cref="JsonStringEnumMemberNameAttribute"/>s, so JSON and the command line spell a choice the same way.
/// Parsing ignores case; the canonical (lower-case) name is what goes out.
/// </summary>
public static class WireNames
{
    private sealed record Table(string[] Names, Enum[] Values);

    private static readonly ConcurrentDictionary<Type, Table> Tables = new();

    private static Table For(Type enumType) => Tables.GetOrAdd(enumType, static t =>
    {
        if (!t.IsEnum)
        {
            throw new ArgumentException($"{t.Name} is not an enum.", nameof(enumType));
        }
        FieldInfo[] fields = t.GetFields(BindingFlags.Public | BindingFlags.Static);
        return new Table(
            [.. fields.Select(f => f.GetCustomAttribute<JsonStringEnumMemberNameAttribute>()?.Name
                ?? throw new InvalidOperationException($"{t.Name}.{f.Name} has no [JsonStringEnumMemberName]: give it its wire name."))],
            [.. fields.Select(f => (Enum)f.GetValue(null)!)]);
    });

    /// <summary>Every wire name of <paramref name="enumType"/>, in declaration order.</summary>
    public static IReadOnlyList<string> Of(Type enumType) => For(enumType).Names;

    /// <summary>Every wire name of <typeparamref name="T"/>, in declaration order.</summary>
    public static IReadOnlyList<string> Of<T>() where T : struct, Enum => For(typeof(T)).Names;

    /// <summary>The wire name of <paramref name="value"/>; a value no member has is written as its number.</summary>
    public static string Name(Enum value)
    {
        ArgumentNullException.ThrowIfNull(value);
        Table table = For(value.GetType());
        int index = Array.IndexOf(table.Values, value);
        return index >= 0 ? table.Names[index] : value.ToString("D");
    }

    /// <summary>The member of <paramref name="enumType"/> spelt <paramref name="text"/> (any case), or null.</summary>
    public static Enum? Parse(Type enumType, string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        Table table = For(enumType);
        int index = Array.FindIndex(table.Names, n => string.Equals(n, text.Trim(), StringComparison.OrdinalIgnoreCase));
        return index >= 0 ? table.Values[index] : null;
    }

    /// <summary>
    /// Throws when <paramref name="value"/> is no member of its enum (a cast from a number): the message names
    /// <paramref name="what"/>, the value and every allowed wire name.
    /// </summary>
    public static void ThrowIfUndefined<T>(T value, string what, string paramName) where T : struct, Enum
    {
        if (!Enum.IsDefined(value))
        {
            throw new ArgumentException($"Unknown {what} '{value.Wire()}'. Use one of: {string.Join(", ", Of<T>())}.", paramName);
        }
    }

    /// <summary>The member of <typeparamref name="T"/> spelt <paramref name="text"/> (any case).</summary>
    public static bool TryParse<T>(string text, out T value) where T : struct, Enum
    {
        if (Parse(typeof(T), text) is T parsed)
        {
            value = parsed;
            return true;
        }
        value = default;
        return false;
    }
}

/// <summary>The wire name of a training-option choice, e.g. <c>LossKind.ListMle.Wire()</c> is <c>"listmle"</c>.</summary>
public static class WireNameExtensions
{
    public static string Wire<T>(this T value) where T : struct, Enum => WireNames.Name(value);
}

/// <summary>
/// JSON for a training-option enum: its wire name out, any case in (<see cref="WireNames"/>), the same rule as the
/// command line and configuration. Put on the enum type; a numeric or unknown value is refused.
/// </summary>
public sealed class WireNameJsonConverter<T> : JsonConverter<T> where T : struct, Enum
{
    public override T Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) =>
        reader.TokenType == JsonTokenType.String && WireNames.TryParse(reader.GetString()!, out T value)
            ? value
            : throw new JsonException($"Expected one of: {string.Join(", ", WireNames.Of<T>())}.");

    public override void Write(Utf8JsonWriter writer, T value, JsonSerializerOptions options)
    {
        ArgumentNullException.ThrowIfNull(writer);
        writer.WriteStringValue(WireNames.Name(value));
    }
}

/// <summary>
/// <see cref="WireNameJsonConverter{T}"/> for every enum spelled by <see cref="JsonStringEnumMemberNameAttribute"/>s.
/// Serializer options that list a <see cref="JsonStringEnumConverter"/> need this one first: a converter in the options
/// wins over the one on the enum type.
/// </summary>
public sealed class WireNameJsonConverterFactory : JsonConverterFactory
{
    public override bool CanConvert(Type typeToConvert)
    {
        ArgumentNullException.ThrowIfNull(typeToConvert);
        return typeToConvert.IsEnum
            && typeToConvert.GetFields(BindingFlags.Public | BindingFlags.Static) is { Length: > 0 } fields
            && fields.All(f => f.IsDefined(typeof(JsonStringEnumMemberNameAttribute)));
    }

    public override JsonConverter? CreateConverter(Type typeToConvert, JsonSerializerOptions options) =>
        (JsonConverter?)Activator.CreateInstance(typeof(WireNameJsonConverter<>).MakeGenericType(typeToConvert));
}
