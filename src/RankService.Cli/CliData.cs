using RankService.Ranking.Data;

namespace RankService.Cli;

/// <summary>The data set of a command's <c>--data</c>: a MovieLens folder (downloaded when missing) or <c>synthetic</c>.</summary>
internal static class CliData
{
    /// <summary>Loads a data set for a command; a data error is printed to stderr (exit code 3 by convention).</summary>
    public static bool TryLoad(string data, bool skipMalformed, out RatingDataset dataset)
    {
        try
        {
            dataset = Load(data, skipMalformed);
            return true;
        }
        catch (MovieLensDataException e)
        {
            Console.Error.WriteLine(e.Message);
            dataset = null!;
            return false;
        }
    }

    public static RatingDataset Load(string data, bool skipMalformed)
    {
        if (string.Equals(data, "synthetic", StringComparison.OrdinalIgnoreCase))
        {
            return SyntheticMovieLens.Generate(new SyntheticOptions());
        }
        string folder = Path.GetFullPath(data);
        if (!Directory.Exists(folder) || !Directory.EnumerateFiles(folder).Any())
        {
            string root = Path.GetDirectoryName(folder)!;
            Console.WriteLine($"{folder} is missing; downloading {Path.GetFileName(folder)} from GroupLens...");
            folder = MovieLensDownloader.EnsureAsync(root, Path.GetFileName(folder)).GetAwaiter().GetResult();
        }
        return MovieLensLoader.Load(folder, new MovieLensLoadOptions { SkipMalformedLines = skipMalformed });
    }
}
