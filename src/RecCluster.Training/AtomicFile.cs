using System.Text;

namespace RecCluster.Training;

/// <summary>
/// Replaces a file whole or not at all: the content goes to a temporary file beside it, reaches the disk, and is moved over
/// the old file, so a process killed mid-write leaves the previous version readable.
/// </summary>
public static class AtomicFile
{
    public static void Write(string path, Action<Stream> write)
    {
        // Unique per writer, so two processes writing the same file never share a temporary one.
        var temp = $"{path}.{Guid.NewGuid():N}.tmp";
        try
        {
            using (var stream = new FileStream(temp, FileMode.CreateNew, FileAccess.Write))
            {
                write(stream);
                stream.Flush(flushToDisk: true);
            }
            File.Move(temp, path, overwrite: true);
        }
        finally
        {
            File.Delete(temp);   // nothing left to delete once moved
        }
    }

    public static void WriteAllText(string path, string text) => Write(path, stream => stream.Write(Encoding.UTF8.GetBytes(text)));
}
