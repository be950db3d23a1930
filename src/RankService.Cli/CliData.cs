using RankService.Ranking.Data;

namespace RankService.Cli;

/// <summary>The data set of a command's <c>--data</c>: a MovieLens folder or <c>synthetic</c>, loaded by <see cref="DatasetLoader"/>.</summary>
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

    /// <summary>A folder named after a known release (<c>data/ml-100k</c>) is downloaded when it holds no ratings file.</summary>
    public static RatingDataset Load(string data, bool skipMalformed) =>
        DatasetLoader.LoadAsync(data, new DatasetLoadOptions
        {
            SkipMalformedLines = skipMalformed,
            Progress = Console.WriteLine,
        }).GetAwaiter().GetResult();
}
