using System.Text;

namespace RankService.Ranking.Tests.Data;

/// <summary>A fresh folder under the system temp path, deleted on dispose.</summary>
internal sealed class TempFolder : IDisposable
{
    public TempFolder()
    {
        Path = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "rankservice-tests-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(Path);
    }

    public string Path { get; }

    /// <summary>Creates <paramref name="name"/> (which may hold a subfolder) and returns its full path.</summary>
    public string Sub(string name) => Directory.CreateDirectory(System.IO.Path.Combine(Path, name)).FullName;

    /// <summary>Writes lines joined by "\n" (or <paramref name="newline"/>) with a final newline.</summary>
    public static void Write(string folder, string file, string[] lines, Encoding? encoding = null, string newline = "\n") =>
        File.WriteAllText(System.IO.Path.Combine(folder, file), string.Join(newline, lines) + newline,
            encoding ?? new UTF8Encoding(encoderShouldEmitUTF8Identifier: false));

    public void Dispose()
    {
        if (Directory.Exists(Path))
        {
            Directory.Delete(Path, recursive: true);
        }
    }
}
