using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using RecCluster.Core.Data;
using RecCluster.Core.Evaluation;
using RecCluster.Core.Sweeps;

namespace RecCluster.Cli;

public static class DatasetCommand
{
    public static Command Create()
    {
        var d = SyntheticConfig.Default;
        var output = new Option<FileInfo>("--out") { Description = "Where to write the interactions (RecBole atomic .inter); the oracle goes beside it as .oracle.json.", Required = true };
        var users = Positive("--users", d.Users, "Number of users.");
        var items = Positive("--items", d.Items, "Number of items.");
        var clusters = Positive("--clusters", d.Clusters, "Taste clusters of items.");
        var minLength = Positive("--min-length", d.MinLength, "Shortest sequence (at least 3).");
        var maxLength = Positive("--max-length", d.MaxLength, "Longest sequence.");
        var markov = new Option<double>("--markov-weight") { Description = "Weight of the short-term (last item) part of the next-item distribution, in [0, 1].", DefaultValueFactory = _ => d.MarkovWeight };
        markov.InRange(0.0, 1.0, "--markov-weight must be in [0, 1]");
        var seed = new Option<int>("--seed") { Description = "Generator seed.", DefaultValueFactory = _ => d.Seed };

        var synth = new Command("synth", "Generate a synthetic dataset with a known next-item distribution and print its oracle (Bayes-optimal) metrics.");
        foreach (var option in new Option[] { output, users, items, clusters, minLength, maxLength, markov, seed }) synth.Options.Add(option);
        synth.SetAction(parse => Errors.Guard(parse.InvocationConfiguration.Error, () =>
        {
            var stdout = parse.InvocationConfiguration.Output;
            var config = new SyntheticConfig(parse.GetValue(users), parse.GetValue(items), parse.GetValue(clusters),
                parse.GetValue(minLength), parse.GetValue(maxLength), parse.GetValue(markov), parse.GetValue(seed));
            if (config.MinLength < 3) throw new UsageException("--min-length must be at least 3 (leave-one-out needs train, validation and test items)");
            if (config.Problems().FirstOrDefault() is { } problem) throw new UsageException(problem.Replace("_", "-"));
            var generator = new SyntheticGenerator(config);
            var path = parse.GetValue(output)!;
            path.Directory?.Create();
            using (var writer = new StreamWriter(path.FullName))
            {
                writer.WriteLine("user_id:token\titem_id:token\ttimestamp:float");
                var data = generator.Dataset;
                for (int u = 0; u < data.UserCount; u++)
                    for (int t = 0; t < data.Sequences[u].Length; t++)
                        writer.WriteLine($"{data.UserTokens[u]}\t{data.ItemTokens[data.Sequences[u][t]]}\t{t}");
            }
            MetricKind[] kinds = [MetricKind.Hr, MetricKind.Ndcg, MetricKind.Mrr];
            int[] cutoffs = [5, 10, 20];
            var testOracle = generator.OracleMetrics(Split.Test, kinds, cutoffs);
            var oracle = new JsonObject
            {
                ["valid"] = TrialCodec.Metrics(generator.OracleMetrics(Split.Valid, kinds, cutoffs)),
                ["test"] = TrialCodec.Metrics(testOracle),
            };
            var oraclePath = Path.ChangeExtension(path.FullName, ".oracle.json");
            File.WriteAllText(oraclePath, oracle.ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
            stdout.WriteLine($"wrote {generator.Dataset.UserCount} users, {generator.Dataset.InteractionCount} interactions to {path.FullName}");
            stdout.WriteLine($"oracle (full ranking, seen items excluded), test: " +
                string.Join("  ", testOracle.Select(kv => $"{kv.Key} {kv.Value.ToString("F4", CultureInfo.InvariantCulture)}")));
            stdout.WriteLine($"oracle written to {oraclePath}");
            return Errors.Ok;
        }));
        var command = new Command("dataset", "Dataset tools.");
        command.Subcommands.Add(synth);
        return command;
    }

    private static Option<int> Positive(string name, int fallback, string description)
    {
        var option = new Option<int>(name) { Description = description, DefaultValueFactory = _ => fallback };
        return option.InRange(1, null, $"{name} must be at least 1");
    }
}
