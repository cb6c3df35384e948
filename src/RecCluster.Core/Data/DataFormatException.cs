namespace RecCluster.Core.Data;

/// <summary>A problem in a user's data file, located as <c>file:line</c>.</summary>
public sealed class DataFormatException(string file, int line, string message)
    : Exception(line > 0 ? $"{file}:{line}: {message}" : $"{file}: {message}")
{
    public string File { get; } = file;
    public int Line { get; } = line;
}
