using Spectre.Console;

namespace RecCluster.Cli;

/// <summary>Spectre consoles over a command's writers: colours and live displays only on a terminal.</summary>
internal static class Consoles
{
    public static bool IsTerminal(TextWriter writer) =>
        writer == Console.Error ? !Console.IsErrorRedirected : writer == Console.Out && !Console.IsOutputRedirected;

    public static IAnsiConsole For(TextWriter writer)
    {
        bool terminal = IsTerminal(writer);
        var console = AnsiConsole.Create(new AnsiConsoleSettings
        {
            Out = new AnsiConsoleOutput(writer),
            Ansi = terminal ? AnsiSupport.Detect : AnsiSupport.No,
            ColorSystem = terminal ? ColorSystemSupport.Detect : ColorSystemSupport.NoColors,
        });
        if (!terminal) console.Profile.Width = 400;   // files and pipes: one line per row, no wrapping
        return console;
    }
}
