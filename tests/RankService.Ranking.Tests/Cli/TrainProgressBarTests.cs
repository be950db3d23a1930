using System.CommandLine;
using RankService.Cli;
using Spectre.Console;

namespace RankService.Ranking.Tests.Cli;

[Collection(nameof(ConsoleTests))]
public class TrainProgressBarTests
{
    [Fact]
    public void On_a_terminal_train_draws_a_progress_bar_with_epoch_loss_and_timing_instead_of_plain_lines()
    {
        using var screen = new StringWriter();
        IAnsiConsole terminal = AnsiConsole.Create(new AnsiConsoleSettings
        {
            Ansi = AnsiSupport.Yes,
            ColorSystem = ColorSystemSupport.TrueColor,
            Interactive = InteractionSupport.Yes,
            Out = new AnsiConsoleOutput(screen),
        });
        terminal.Profile.Width = 80;
        var root = new RootCommand();
        root.Subcommands.Add(TrainCommand.Create(terminal));
        TextWriter stdout = Console.Out;
        using var lines = new StringWriter();
        Console.SetOut(lines);
        int exit;
        try
        {
            exit = root.Parse(["train", "--data", "synthetic", "--out", TestData.TempFolder(), "--epochs", "3", "--embedding-dim", "8", "--negatives", "20", "--batch-size", "32", "--patience", "0"]).Invoke();
        }
        finally
        {
            Console.SetOut(stdout);
        }

        Assert.Equal(0, exit);
        string drawn = screen.ToString();
        Assert.Contains("epoch 3/3 loss ", drawn, StringComparison.Ordinal);
        Assert.Contains(" NDCG@10 0.", drawn, StringComparison.Ordinal);
        Assert.Contains("100%", drawn, StringComparison.Ordinal);
        Assert.Contains("\u001b[", drawn, StringComparison.Ordinal); // redrawn in place with ANSI sequences
        Assert.Contains("━", drawn, StringComparison.Ordinal); // the bar
        // The per-epoch plain lines are for redirected output only; the summary table is still printed.
        Assert.DoesNotContain("epoch   1/3", lines.ToString(), StringComparison.Ordinal);
        Assert.Contains("popularity, test", lines.ToString(), StringComparison.Ordinal);
    }
}
