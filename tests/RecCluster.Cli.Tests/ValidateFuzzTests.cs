using System.Text;
using System.Text.RegularExpressions;

namespace RecCluster.Cli.Tests;

/// <summary>
/// Mangles every shipped config the ways users and editors do and checks that <c>validate</c> gives a clean verdict
/// (exit 0, or exit 2 with every problem at <c>file:line:col</c>), and that what it accepts, the command it names accepts
/// too (<c>--check</c>: data loaded and model built, nothing trained).
/// </summary>
[Collection(InProcessTorch.Name)]
public sealed class ValidateFuzzTests
{
    private const int MutationsPerFile = 48;

    private enum Mutation
    {
        DropLine, DuplicateLine, Reindent, Truncate, Retype, UnclosedBracket, UnclosedQuote, Tab, DuplicateKey, Anchor,
        DocumentSeparator, HugeNumber,
    }

    private static readonly string[] Retyped = ["abc", "true", "-1", "0", "1.5", "[1, 2]", "{a: 1}", "~", "''", "7"];
    private static readonly string[] Unclosed = ["[unclosed, {", "{a: 1", "[1, 2", "{[", "[{a: 1}"];
    private static readonly string[] Quotes = ["\"abc", "'abc", "\"a\\qb\""];
    private static readonly string[] Huge = ["1e999", "99999999999999999999999", "-1e400", "4294967296", "0.0000000000000000000000001"];

    [Fact]
    public void Mangled_configs_get_a_clean_verdict_and_what_validate_accepts_its_command_accepts()
    {
        var random = new Random(6);
        var verdicts = new Dictionary<int, int>();
        var originals = Directory.GetFiles(InProcess.Experiments(), "*.yaml").Order().ToList();
        Assert.NotEmpty(originals);
        foreach (var original in originals)
        {
            var lines = File.ReadAllLines(original);
            Assert.Equal(0, Judge(original, File.ReadAllBytes(original), "as shipped"));
            for (int i = 0; i < MutationsPerFile; i++)
            {
                var mutation = (Mutation)(i % Enum.GetValues<Mutation>().Length);
                var mutated = string.Join('\n', Mutate(lines, mutation, random)) + "\n";
                int exit = Judge(original, Encoding.UTF8.GetBytes(mutated), mutation.ToString());
                verdicts[exit] = verdicts.GetValueOrDefault(exit) + 1;
            }
            Assert.Equal(2, Judge(original, [], "empty file"));
            Assert.Equal(2, Judge(original, [.. Enumerable.Range(0, 512).Select(_ => (byte)random.Next(256))], "binary file"));
        }
        Assert.True(verdicts.Values.Sum() >= 300);
        Assert.True(verdicts[0] > 0 && verdicts[2] > 0, $"the mutations should be both accepted and refused: {string.Join(", ", verdicts)}");
    }

    /// <summary>Validates <paramref name="content"/> written beside <paramref name="original"/>, so relative data paths resolve alike.</summary>
    private static int Judge(string original, byte[] content, string mutation)
    {
        var path = Path.Combine(Path.GetDirectoryName(original)!, $".{Path.GetFileNameWithoutExtension(original)}.fuzz-{Guid.NewGuid():N}.tmp");
        File.WriteAllBytes(path, content);
        try
        {
            var (exit, stdout, stderr) = InProcess.Cli("validate", path);
            string context = $"{mutation} of {Path.GetFileName(original)} gave exit {exit}\n{stdout}{stderr}\n" +
                $"--- file ---\n{Encoding.UTF8.GetString(content)}";
            Assert.True(exit is 0 or 2, context);
            Assert.DoesNotContain("   at ", stderr);
            Assert.DoesNotContain("internal error", stderr);
            if (exit == 2)
            {
                var problems = stderr.TrimEnd().Split('\n');
                Assert.Matches(@"^\d+ problem\(s\) found; nothing was run\.$", problems[^1]);
                foreach (var problem in problems[..^1])
                    Assert.True(Regex.IsMatch(problem, $@"^{Regex.Escape(path)}:\d+:\d+: \S"), $"no file:line:col in '{problem}'\n{context}");
                return exit;
            }
            var command = Regex.Match(stdout, "'reccluster (train|sweep)'").Groups[1].Value;
            Assert.True(command.Length > 0, $"validate does not name the command\n{context}");
            var check = InProcess.Cli(command, path, "--check");
            Assert.True(check.Exit == 0, $"{command} --check refused what validate accepted ({check.Exit}): {check.Err}\n{context}");
            return exit;
        }
        finally
        {
            File.Delete(path);
        }
    }

    private static List<string> Mutate(string[] original, Mutation mutation, Random random)
    {
        var lines = original.ToList();
        var content = Enumerable.Range(0, lines.Count).Where(i => lines[i].Trim().Length > 0 && !lines[i].TrimStart().StartsWith('#')).ToList();
        var keyed = content.Where(i => lines[i].Contains(':')).ToList();
        int any = content[random.Next(content.Count)], key = keyed[random.Next(keyed.Count)];
        string Pick(string[] values) => values[random.Next(values.Length)];
        string WithValue(int i, string value) => lines[i][..(lines[i].IndexOf(':') + 1)] + " " + value;
        switch (mutation)
        {
            case Mutation.DropLine: lines.RemoveAt(any); break;
            case Mutation.DuplicateLine: lines.Insert(random.Next(lines.Count + 1), lines[any]); break;
            case Mutation.Reindent:
                lines[any] = random.Next(2) == 0 ? new string(' ', 1 + random.Next(3)) + lines[any] : lines[any].TrimStart(); break;
            case Mutation.Truncate: lines[any] = lines[any][..random.Next(1, lines[any].Length)]; break;
            case Mutation.Retype: lines[key] = WithValue(key, Pick(Retyped)); break;
            case Mutation.UnclosedBracket: lines[key] = WithValue(key, Pick(Unclosed)); break;
            case Mutation.UnclosedQuote: lines[key] = WithValue(key, Pick(Quotes)); break;
            case Mutation.Tab:
                lines[any] = random.Next(2) == 0 ? "\t" + lines[any].TrimStart() : lines[any].Replace(": ", ":\t"); break;
            case Mutation.DuplicateKey: lines.Insert(key + 1, lines[key]); break;
            case Mutation.Anchor:
                int other = keyed[random.Next(keyed.Count)];
                lines[key] = lines[key].Replace(": ", ": &value ");
                lines[other] = random.Next(3) == 0 ? WithValue(other, "*undefined") : WithValue(other, "*value");
                break;
            case Mutation.DocumentSeparator: lines.Insert(random.Next(lines.Count + 1), random.Next(4) == 0 ? "..." : "---"); break;
            case Mutation.HugeNumber: lines[key] = WithValue(key, Pick(Huge)); break;
        }
        return lines;
    }
}
