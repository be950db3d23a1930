using System.CommandLine;
using RankService.Cli;

namespace RankService.Ranking.Tests.Cli;

[Collection(nameof(ConsoleTests))]
public class HashKeyCommandTests
{
    private static (int Exit, string Output, string Error) Run(string input, params string[] args) => CliRunner.Run(HashKeyCommand.Create(), args, input);

    [Theory]
    // Expected values from `printf %s KEY | sha256sum`.
    [InlineData("test", "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08")]
    [InlineData("test\n", "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08")]
    [InlineData("rs-test-key-0123456789\r\n", "5970534f6e73bdc900cc2868b6b9886f8eed452e0a6709358df14d5a37a92bc4")]
    public void Hash_key_prints_the_sha256_of_the_line_on_stdin_as_sha256sum_does(string input, string expected)
    {
        (int exit, string output, _) = Run(input, "hash-key");
        Assert.Equal(0, exit);
        Assert.Equal(expected, output.Trim());
    }

    [Fact]
    public void Hash_key_new_prints_a_random_key_and_its_hash()
    {
        (int exit, string output, _) = Run("", "hash-key", "--new");
        Assert.Equal(0, exit);
        string[] lines = output.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        string key = lines[0]["key:".Length..].Trim();
        string hash = lines[1]["hash:".Length..].Trim();
        Assert.Equal(43, key.Length);
        Assert.Equal(HashKeyCommand.Hash(key), hash);
        Assert.NotEqual(key, Run("", "hash-key", "--new").Output.Split('\n')[0]["key:".Length..].Trim());
    }

    [Fact]
    public void Hash_key_without_input_fails_saying_how_to_pass_the_key()
    {
        (int exit, _, string error) = Run("", "hash-key");
        Assert.Equal(2, exit);
        Assert.Contains("printf %s", error, StringComparison.Ordinal);
    }
}
