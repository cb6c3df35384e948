using System.CommandLine;
using RecCluster.Core.Config;
using RecCluster.Core.Config.Import;

namespace RecCluster.Cli;

/// <summary><c>reccluster import warprec|shaped FILE</c>: another tool's config as our YAML on stdout, warnings on stderr.</summary>
public static class ImportCommand
{
    public static Command Create()
    {
        var command = new Command("import",
            "Convert a config written for another tool into RecCluster's YAML on stdout (the same file also runs as it is with sweep); " +
            "warnings on stderr; problems as file:line:col: message with exit code 2. Name mapping: docs/config-import.md.");
        command.Subcommands.Add(Dialect("warprec", "A whole WarpRec experiment file (reader, splitter, evaluation, models, general, ...), " +
            "or our sections with a WarpRec models block."));
        command.Subcommands.Add(Dialect("shaped", "Our sections (data, evaluation) with Shaped's policy_configs in place of models."));
        return command;
    }

    private static Command Dialect(string name, string description)
    {
        var file = new Argument<FileInfo>("file") { Description = "The config file to convert." };
        var command = new Command(name, description);
        command.Arguments.Add(file);
        command.SetAction(parse => Errors.Guard(parse.InvocationConfiguration.Error, () =>
        {
            var path = parse.GetValue(file)!.FullName;
            ImportWarnings.Print(path, parse.InvocationConfiguration.Error);
            ExperimentLoader.LoadSweep(path);   // every problem, with its position, before anything is printed
            parse.InvocationConfiguration.Output.Write(ConfigImport.ToOurs(path));
            return Errors.Ok;
        }));
        return command;
    }
}

/// <summary>Warnings about other tools' settings that mean nothing here, printed by every command that reads a config.</summary>
public static class ImportWarnings
{
    public static void Print(string path, TextWriter error)
    {
        IReadOnlyList<ConfigError> warnings;
        try
        {
            warnings = ConfigImport.Warnings(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return;   // an unreadable file is the loader's to report, with exit code 2
        }
        foreach (var w in warnings) error.WriteLine($"{w.File}:{w.Line}:{w.Column}: warning: {w.Message}");
    }
}
