using System.Globalization;

namespace RankService.Cli;

/// <summary>Comma-separated values of the commands' own options (--seeds, --lambdas, --baselines); training options are read by <see cref="TrainingOptionsCli"/>.</summary>
internal static class Lists
{
    public static int[] Ints(string text, string option) => Split(text).Select(s =>
        int.TryParse(s, NumberStyles.Integer, CultureInfo.InvariantCulture, out int v) ? v
            : throw new FormatException($"{option} takes comma-separated integers; '{s}' is not one.")).ToArray();

    public static double[] Doubles(string text, string option) => Split(text).Select(s =>
        double.TryParse(s, NumberStyles.Float, CultureInfo.InvariantCulture, out double v) ? v
            : throw new FormatException($"{option} takes comma-separated numbers; '{s}' is not one.")).ToArray();

    public static string[] Strings(string text) => Split(text);

    private static string[] Split(string text) => text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
}
