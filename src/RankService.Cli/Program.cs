using System.CommandLine;
using RankService.Cli;

// rankservice train|baseline|sweep --data <MovieLens folder | synthetic> [options]: see README.md.
var root = new RootCommand("RankService: train and evaluate learning-to-rank recommenders on MovieLens.");
root.Subcommands.Add(TrainCommand.Create());
root.Subcommands.Add(BaselineCommand.Create());
root.Subcommands.Add(SweepCommand.Create());
return root.Parse(args).Invoke();
