using System.CommandLine;
using RankService.Ranking.Checkpoints;

namespace RankService.Cli;

/// <summary>
/// <c>export-embeddings</c>: writes a checkpoint's user and item vectors with their ids, for a vector database or
/// Python. Per side: <c>{side}.csv</c> (<c>id,v0..v{d-1}</c>, ids as text, items also <c>bias</c>), <c>{side}.npy</c>
/// (float32 (n, d)) with <c>{side}.ids.npy</c> (int64 (n,), same row order) when every id is an integer, else
/// <c>{side}.ids.json</c> (a JSON array of strings), and <c>items.bias.npy</c> when the model has one.
/// </summary>
internal static class ExportEmbeddingsCommand
{
    private static readonly Option<string> Checkpoint = new("--checkpoint") { Description = "A checkpoint manifest (*.manifest.json), or a run or checkpoints folder (its best checkpoint).", Required = true };
    private static readonly Option<string> Out = new("--out") { Description = "Folder to write the files into (created when missing).", Required = true };
    private static readonly Option<string> Format = new("--format") { Description = "csv, npy or both.", DefaultValueFactory = _ => "both" };
    private static readonly Option<string> Side = new("--side") { Description = "users, items or both.", DefaultValueFactory = _ => "both" };

    public static Command Create()
    {
        var command = new Command("export-embeddings", "Export a checkpoint's user and item vectors with their ids as CSV and NumPy .npy (ids as .ids.npy when all are integers, else .ids.json).");
        foreach (Option option in new Option[] { Checkpoint, Out, Format, Side })
        {
            command.Options.Add(option);
        }
        command.SetAction(Run);
        return command;
    }

    private static int Run(ParseResult parse)
    {
        string format = parse.GetValue(Format)!;
        string side = parse.GetValue(Side)!;
        bool ok = true;
        if (format is not ("csv" or "npy" or "both"))
        {
            Console.Error.WriteLine($"--format must be csv, npy or both; got '{format}'.");
            ok = false;
        }
        if (side is not ("users" or "items" or "both"))
        {
            Console.Error.WriteLine($"--side must be users, items or both; got '{side}'.");
            ok = false;
        }
        if (!ok)
        {
            return 2;
        }
        string manifest = ResolveManifest(parse.GetValue(Checkpoint)!);
        string outFolder = parse.GetValue(Out)!;
        try
        {
            using LoadedCheckpoint checkpoint = CheckpointStore.Load(manifest);
            Directory.CreateDirectory(outFolder);
            foreach (EmbeddingSide s in side switch { "users" => [EmbeddingSide.Users], "items" => [EmbeddingSide.Items], _ => new[] { EmbeddingSide.Users, EmbeddingSide.Items } })
            {
                EmbeddingTable table = EmbeddingExport.Extract(checkpoint, s);
                string name = s == EmbeddingSide.Users ? "users" : "items";
                if (format is "csv" or "both")
                {
                    AtomicFile.Write(Path.Combine(outFolder, name + ".csv"), stream => EmbeddingExport.WriteCsv(stream, table));
                }
                if (format is "npy" or "both")
                {
                    AtomicFile.Write(Path.Combine(outFolder, name + ".npy"), stream => EmbeddingExport.WriteNpy(stream, table));
                    if (table.IntegerIds is { } integers)
                    {
                        AtomicFile.Write(Path.Combine(outFolder, name + ".ids.npy"), stream => EmbeddingExport.WriteIdsNpy(stream, integers));
                    }
                    else
                    {
                        // int64 cannot hold ids like "sku-88412": the row order goes to JSON text instead.
                        AtomicFile.Write(Path.Combine(outFolder, name + ".ids.json"), stream => EmbeddingExport.WriteIdsJson(stream, table.Ids));
                        Console.WriteLine($"{name}: ids are not all integers, so they are in {name}.ids.json (no {name}.ids.npy).");
                    }
                    if (table.Bias is { } bias)
                    {
                        AtomicFile.Write(Path.Combine(outFolder, name + ".bias.npy"), stream => EmbeddingExport.WriteNpyFloats(stream, bias, [table.Rows]));
                    }
                }
                Console.WriteLine($"{name}: {table.Rows:N0} vectors of {table.Dim} -> {outFolder}");
            }
        }
        catch (CheckpointException e)
        {
            Console.Error.WriteLine(e.Message);
            return 3;
        }
        return 0;
    }

    /// <summary>A manifest as given, else a folder's <c>best.manifest.json</c> or its <c>checkpoints/best.manifest.json</c>.</summary>
    private static string ResolveManifest(string path)
    {
        if (!Directory.Exists(path))
        {
            return path;
        }
        string direct = CheckpointStore.ManifestPath(path, "best");
        return File.Exists(direct) ? direct : CheckpointStore.ManifestPath(Path.Combine(path, "checkpoints"), "best");
    }
}
