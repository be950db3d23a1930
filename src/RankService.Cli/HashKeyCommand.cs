using System.CommandLine;
using System.Security.Cryptography;
using System.Text;

namespace RankService.Cli;

/// <summary>
/// <c>hash-key</c>: prints the SHA-256 of an API key as the service's <c>Security:ApiKeyHashes</c> wants it. The key is
/// read from standard input, never from the command line (which shell history and <c>ps</c> would keep);
/// <c>--new</c> makes a random key and prints both.
/// </summary>
internal static class HashKeyCommand
{
    private static readonly Option<bool> New = new("--new") { Description = "Generate a random key (256 bits, base64url) and print it and its hash." };

    public static Command Create()
    {
        var command = new Command("hash-key", "Print the SHA-256 hash of an API key read from standard input (one line), for Security:ApiKeyHashes.");
        command.Options.Add(New);
        command.SetAction(Run);
        return command;
    }

    /// <summary>Lowercase hex SHA-256 of the key's UTF-8 bytes: the same as <c>printf %s KEY | sha256sum</c>.</summary>
    internal static string Hash(string key) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(key)));

    private static int Run(ParseResult parse)
    {
        if (parse.GetValue(New))
        {
            string key = Convert.ToBase64String(RandomNumberGenerator.GetBytes(32)).TrimEnd('=').Replace('+', '-').Replace('/', '_');
            Console.WriteLine($"key:  {key}");
            Console.WriteLine($"hash: {Hash(key)}");
            Console.Error.WriteLine("Give the key to clients (header X-Api-Key); configure the hash: Security__ApiKeyHashes__0=<hash>.");
            return 0;
        }
        // ReadLine drops the line ending, so `echo KEY | rankservice hash-key` hashes KEY, not KEY plus a newline.
        string? line = Console.In.ReadLine();
        if (string.IsNullOrEmpty(line))
        {
            Console.Error.WriteLine("No key on standard input: printf %s \"$KEY\" | rankservice hash-key  (or --new to make one).");
            return 2;
        }
        Console.WriteLine(Hash(line));
        return 0;
    }
}
