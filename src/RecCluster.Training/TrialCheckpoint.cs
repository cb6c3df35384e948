using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using RecCluster.Core.Config;
using RecCluster.Core.Data;
using RecCluster.Training.Torch;
using static TorchSharp.torch;

namespace RecCluster.Training;

/// <summary>Early-stopping state after a finished epoch: what a resumed trial needs besides weights and optimizer.</summary>
internal sealed record TrainingProgress(int Epoch, double Best, int BestEpoch, int Stale);

/// <summary>
/// The files a trial keeps in its state directory: <c>best.pt</c>, the weights of the best validation epoch (TorchSharp's
/// module format), and <c>resume.ckpt</c>, rewritten after every epoch: a magic string and format version, a fingerprint of
/// the trial's config, the epoch and early-stopping state, the model weights and the Adam state. Both are written to a
/// temporary file and moved over the old one, so a killed process leaves the previous version whole.
/// </summary>
public sealed class TrialCheckpoint
{
    public const string BestFile = "best.pt";
    public const string ResumeFile = "resume.ckpt";
    private const string Magic = "RecCluster resume checkpoint";
    private const int Version = 1;

    private readonly string _fingerprint;

    private TrialCheckpoint(string bestPath, string? resumePath, string fingerprint) =>
        (BestPath, ResumePath, _fingerprint) = (bestPath, resumePath, fingerprint);

    internal static TrialCheckpoint For(TrialOptions options, string fingerprint)
    {
        if (options.StateDirectory is not { } directory)
            return new(options.CheckpointPath ?? Path.Combine(Path.GetTempPath(), $"reccluster-{Guid.NewGuid():N}.pt"), null, fingerprint);
        Directory.CreateDirectory(directory);
        return new(Path.Combine(directory, BestFile), Path.Combine(directory, ResumeFile), fingerprint);
    }

    public string BestPath { get; }

    /// <summary>Null when the trial keeps no resumable state (no state directory).</summary>
    public string? ResumePath { get; }

    /// <summary>Whether <paramref name="stateDirectory"/> holds a checkpoint a trial can resume from.</summary>
    public static bool ExistsIn(string stateDirectory) => File.Exists(Path.Combine(stateDirectory, ResumeFile));

    /// <summary>
    /// Identifies what a checkpoint is valid for: the model, every resolved hyperparameter, the data, the evaluation
    /// protocol and the objective (a best value measured one way must not be compared with one measured another).
    /// </summary>
    internal static string Fingerprint(ModelConfig model, DataSummary data, DataSplit split, EvaluationConfig evaluation, Objective objective)
    {
        var text = new StringBuilder(model.Name).Append('\n');
        foreach (var (name, value) in model.Parameters.Values.OrderBy(kv => kv.Key, StringComparer.Ordinal))
            text.Append(CultureInfo.InvariantCulture, $"{name}={value}\n");
        text.Append(CultureInfo.InvariantCulture, $"{data}\n{split}\n{objective}\n{evaluation.Protocol} {evaluation.SampledNegatives} ");
        text.Append(string.Join(',', evaluation.Cutoffs)).Append(' ').Append(string.Join(',', evaluation.Metrics));
        return Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(text.ToString())));
    }

    internal void SaveBest(nn.Module model) => WriteBinary(BestPath, writer => model.save(writer));

    internal void SaveProgress(TrainingProgress progress, nn.Module model, AdamOptimizer optimizer)
    {
        if (ResumePath is null) return;
        WriteBinary(ResumePath, writer =>
        {
            writer.Write(Magic);
            writer.Write(Version);
            writer.Write(_fingerprint);
            writer.Write(progress.Epoch);
            writer.Write(progress.Best);
            writer.Write(progress.BestEpoch);
            writer.Write(progress.Stale);
            model.save(writer);
            optimizer.Save(writer);
        });
    }

    /// <summary>Restores weights and optimizer from <see cref="ResumePath"/> and returns the state after its epoch.</summary>
    internal TrainingProgress LoadProgress(nn.Module model, AdamOptimizer optimizer)
    {
        var path = ResumePath ?? throw new InvalidOperationException("this trial has no state directory to resume from");
        using var reader = new BinaryReader(File.OpenRead(path));
        try
        {
            if (reader.ReadString() != Magic || reader.ReadInt32() != Version)
                throw new InvalidOperationException($"{path} is not a resume checkpoint of this RecCluster version");
            if (reader.ReadString() != _fingerprint)
                throw new InvalidOperationException($"{path} was written for another trial (model, hyperparameters, data or objective " +
                    "differ) and cannot be resumed with this config; start fresh or use another directory");
            var progress = new TrainingProgress(reader.ReadInt32(), reader.ReadDouble(), reader.ReadInt32(), reader.ReadInt32());
            model.load(reader);
            optimizer.Load(reader);
            if (progress.BestEpoch > 0 && !File.Exists(BestPath))
                throw new InvalidOperationException($"{path} continues after epoch {progress.Epoch}, but {BestPath} is gone");
            return progress;
        }
        catch (Exception e) when (e is EndOfStreamException or InvalidDataException or ArgumentException)
        {
            // Truncated, or weights of another shape: say which file rather than which tensor.
            throw new InvalidOperationException($"{path} cannot be resumed: {e.Message}", e);
        }
    }

    private static void WriteBinary(string path, Action<BinaryWriter> write) => AtomicFile.Write(path, stream =>
    {
        using var writer = new BinaryWriter(stream, Encoding.UTF8, leaveOpen: true);
        write(writer);
    });
}
