using System.Globalization;

namespace RankService.Ranking.Data;

/// <summary>
/// The one rule for user and item ids as clients spell them: 1 to 256 characters, no control characters and no
/// '/' (an id is a path segment in the API). MovieLens ids are their decimal strings.
/// </summary>
public static class ExternalId
{
    public const int MaxLength = 256;

    /// <summary>What is wrong with <paramref name="id"/> in words, or null when it is a valid id.</summary>
    public static string? Problem(string? id)
    {
        if (string.IsNullOrEmpty(id))
        {
            return "an id must not be empty";
        }
        if (id.Length > MaxLength)
        {
            return $"an id is at most {MaxLength} characters; this one has {id.Length}";
        }
        for (int i = 0; i < id.Length; i++)
        {
            char c = id[i];
            if (char.IsControl(c))
            {
                return $"an id must not contain control characters (U+{(int)c:X4} at position {i + 1})";
            }
            if (c == '/')
            {
                return $"an id must not contain '/' (at position {i + 1})";
            }
        }
        return null;
    }

    public static bool IsValid(string? id) => Problem(id) is null;

    /// <summary>
    /// True when <paramref name="id"/> is an int64 written the way <see cref="long.ToString()"/> writes it (digits,
    /// an optional leading '-', no leading zero, no '+', no spaces): the ids of MovieLens files and of the synthetic
    /// generator. Such maps keep numeric order, so MovieLens results stay what they were with integer ids.
    /// </summary>
    public static bool IsCanonicalInteger(string id, out long value)
    {
        ArgumentNullException.ThrowIfNull(id);
        value = 0;
        if (id.Length is 0 or > 20)
        {
            return false;
        }
        int start = id[0] == '-' ? 1 : 0;
        if (start == id.Length || (id[start] == '0' && id.Length > start + 1) || (start == 1 && id == "-0"))
        {
            return false;
        }
        for (int i = start; i < id.Length; i++)
        {
            if (!char.IsAsciiDigit(id[i]))
            {
                return false;
            }
        }
        return long.TryParse(id, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out value);
    }

    /// <summary>The id of an integer MovieLens id: its decimal string.</summary>
    public static string Of(long id) => id.ToString(CultureInfo.InvariantCulture);
}
