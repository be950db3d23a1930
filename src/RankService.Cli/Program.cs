using System.CommandLine;
using RankService.Cli;

// rankservice train --data <MovieLens folder | synthetic> [options]: see README.md.
var root = new RootCommand("RankService: train and evaluate learning-to-rank recommenders on MovieLens.");
root.Subcommands.Add(TrainCommand.Create());
return root.Parse(args).Invoke();
