using System.CommandLine;
using RankService.Cli;

// rankservice train --data <MovieLens folder | synthetic> [options]; rankservice hash-key;
// rankservice export-embeddings --checkpoint <manifest | run folder> --out <folder>: see README.md.
var root = new RootCommand("RankService: train and evaluate learning-to-rank recommenders on MovieLens.");
root.Subcommands.Add(TrainCommand.Create());
root.Subcommands.Add(HashKeyCommand.Create());
root.Subcommands.Add(ExportEmbeddingsCommand.Create());
return root.Parse(args).Invoke();
