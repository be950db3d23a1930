using System.CommandLine;

namespace RankService.Ranking.Tests.Cli;

/// <summary>Runs CLI commands in-process with the console redirected (tests using it belong to <see cref="ConsoleTests"/>).</summary>
internal static class CliRunner
{
    public static (int Exit, string Output, string Error) Run(Command command, string[] args, string input = "")
    {
        var root = new RootCommand();
        root.Subcommands.Add(command);
        return Run(root, args, input);
    }

    public static (int Exit, string Output, string Error) Run(RootCommand root, string[] args, string input = "")
    {
        ArgumentNullException.ThrowIfNull(root);
        TextReader stdin = Console.In;
        TextWriter stdout = Console.Out, stderr = Console.Error;
        using var output = new StringWriter();
        using var error = new StringWriter();
        Console.SetIn(new StringReader(input));
        Console.SetOut(output);
        Console.SetError(error);
        try
        {
            return (root.Parse(args).Invoke(), output.ToString(), error.ToString());
        }
        finally
        {
            Console.SetIn(stdin);
            Console.SetOut(stdout);
            Console.SetError(stderr);
        }
    }
}
